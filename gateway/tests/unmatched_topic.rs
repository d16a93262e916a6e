//! A join on a topic that is not `lv:…`, and any frame on a topic that is not joined,
//! get `{"reason":"unmatched topic"}` with the frame's own refs and topic.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, config, connect, start};

#[tokio::test]
async fn non_lv_joins_and_frames_before_join_are_unmatched() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let mut client = connect(gateway.addr).await?;

    client
        .send(r#"["1","1","room:lobby","phx_join",{}]"#)
        .await?;
    assert_eq!(
        client.recv().await?,
        r#"["1","1","room:lobby","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]"#
    );

    client.send(r#"["1","1","lv:","phx_join",{}]"#).await?;
    assert_eq!(
        client.recv().await?,
        r#"["1","1","lv:","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]"#
    );

    client
        .send(r#"["3","7","lv:phx-nope","event",{"type":"click"}]"#)
        .await?;
    assert_eq!(
        client.recv().await?,
        r#"["3","7","lv:phx-nope","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]"#
    );

    client
        .send(r#"[null,null,"lv:phx-nope","phx_leave",{}]"#)
        .await?;
    assert_eq!(
        client.recv().await?,
        r#"[null,null,"lv:phx-nope","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]"#
    );
    Ok(())
}
