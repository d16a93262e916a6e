//! Binary frames (upload chunks) on a joined topic reach the node as `Up::Binary`, bytes
//! untouched; on a topic that is not joined they get `unmatched topic`.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, Seen, binary_push, config, connect, start};

#[tokio::test]
async fn binary_pushes_are_forwarded_or_unmatched() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let mut client = connect(gateway.addr).await?;

    client.join("phx-up", "1").await?;
    let Seen::Join { session, .. } = node.next().await? else {
        panic!("expected a join");
    };
    let chunk = binary_push("1", "5", "lv:phx-up", "chunk", &[0, 159, 146, 150, 255]);
    client.send_binary(chunk.clone()).await?;
    assert_eq!(
        node.next().await?,
        Seen::Binary {
            session,
            bytes: chunk
        }
    );

    client
        .send_binary(binary_push("1", "6", "lvu:0", "chunk", b"data"))
        .await?;
    assert_eq!(
        client.recv().await?,
        r#"["1","6","lvu:0","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]"#
    );

    client.send_binary(vec![7, 0, 0, 0, 0]).await?;
    assert_eq!(client.recv_close().await?.0, 1007);
    Ok(())
}
