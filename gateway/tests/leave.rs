//! `phx_leave` is forwarded like any frame; when the node then closes the session the
//! gateway drops the route, so a later frame on that topic is unmatched.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use serde_json::json;
use support::{FakeNode, Seen, config, connect, start};

#[tokio::test]
async fn leave_is_forwarded_and_the_closed_session_unrouted() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let mut client = connect(gateway.addr).await?;

    client.join("phx-lv", "1").await?;
    let Seen::Join { session, .. } = node.next().await? else {
        panic!("expected a join");
    };
    let leave = r#"["1","2","lv:phx-lv","phx_leave",{}]"#;
    client.send(leave).await?;
    assert_eq!(
        node.next().await?,
        Seen::Frame {
            session,
            frame: leave.to_owned()
        }
    );
    assert_eq!(
        client.recv_json().await?,
        json!(["1", "2", "lv:phx-lv", "phx_reply", {"status": "ok", "response": {}}])
    );

    // The node's `Closed` follows its reply on the link, so the route may outlive the
    // reply by a moment: probe until the gateway answers for itself (each probe waits
    // on its own reply; the harness timeout bounds the loop).
    let probe = r#"["1","3","lv:phx-lv","event",{}]"#;
    loop {
        client.send(probe).await?;
        let reply = client.recv_json().await?;
        if reply[4]["status"] == "error" {
            assert_eq!(
                reply,
                json!(["1", "3", "lv:phx-lv", "phx_reply", {"status": "error", "response": {"reason": "unmatched topic"}}])
            );
            break;
        }
        // Still routed: the node echoed the probe.
        assert!(matches!(node.next().await?, Seen::Frame { .. }));
    }
    Ok(())
}
