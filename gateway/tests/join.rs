//! A `phx_join` on `lv:<id>` reaches a view-node as the exact bytes the client sent, and
//! the node's reply reaches the client unchanged.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use serde_json::json;
use support::{FakeNode, Seen, config, connect, join_frame, start};

#[tokio::test]
async fn join_is_forwarded_verbatim_and_the_reply_relayed() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let mut client = connect(gateway.addr).await?;

    let frame = join_frame("phx-join1", "4");
    client.send(&frame).await?;

    let Seen::Join {
        frame: forwarded, ..
    } = node.next().await?
    else {
        panic!("expected a join");
    };
    assert_eq!(forwarded, frame);

    assert_eq!(
        client.recv_json().await?,
        json!(["4", "4", "lv:phx-join1", "phx_reply", {"status": "ok", "response": {
            "rendered": {"0": "a", "s": ["<p>", "</p>"]}, "liveview_version": "1.2.12"}}])
    );
    Ok(())
}
