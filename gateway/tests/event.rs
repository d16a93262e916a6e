//! Frames on a joined topic travel to the session's view-node untouched (refs, payload
//! and all), and its replies come back to the client.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use serde_json::json;
use support::{FakeNode, Seen, config, connect, start};

#[tokio::test]
async fn events_are_forwarded_under_the_join_session() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let mut client = connect(gateway.addr).await?;

    client.join("phx-ev", "1").await?;
    let Seen::Join { session, .. } = node.next().await? else {
        panic!("expected a join");
    };

    // Odd spacing and a payload the gateway must not touch.
    let event =
        r#"["1","2","lv:phx-ev","event",  {"type":"click","event":"inc","value":{"n":1.50}}]"#;
    client.send(event).await?;
    assert_eq!(
        node.next().await?,
        Seen::Frame {
            session,
            frame: event.to_owned()
        }
    );
    assert_eq!(
        client.recv_json().await?,
        json!(["1", "2", "lv:phx-ev", "phx_reply", {"status": "ok", "response": {"echo": "event", "node": "a"}}])
    );
    Ok(())
}
