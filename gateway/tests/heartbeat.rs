//! A `phoenix` heartbeat is answered by the gateway itself, with the client's ref.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, config, connect, start};

#[tokio::test]
async fn heartbeat_is_answered_locally_with_the_same_ref() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let mut client = connect(gateway.addr).await?;

    client
        .send(r#"[null,"12","phoenix","heartbeat",{}]"#)
        .await?;
    assert_eq!(
        client.recv().await?,
        r#"[null,"12","phoenix","phx_reply",{"status":"ok","response":{}}]"#
    );

    // The node never saw it: a join afterwards is the first thing it gets.
    client.join("phx-hb", "1").await?;
    assert!(matches!(node.next().await?, support::Seen::Join { .. }));
    Ok(())
}
