//! A second `phx_join` on an open topic (a rejoin with a new join_ref) closes the old
//! channel first: `phx_close` to the old join_ref, `Leave` for the old session, then the
//! new join.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, Seen, config, connect, join_frame, start};

#[tokio::test]
async fn rejoin_closes_the_old_channel_then_joins() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let mut client = connect(gateway.addr).await?;

    client.join("phx-dup", "1").await?;
    let Seen::Join { session: old, .. } = node.next().await? else {
        panic!("expected a join");
    };

    let rejoin = join_frame("phx-dup", "3");
    client.send(&rejoin).await?;
    assert_eq!(
        client.recv().await?,
        r#"["1","1","lv:phx-dup","phx_close",{}]"#
    );
    let reply = client.recv_json().await?;
    assert_eq!(reply[0], "3");
    assert_eq!(reply[3], "phx_reply");
    assert_eq!(reply[4]["status"], "ok");

    assert_eq!(node.next().await?, Seen::Leave { session: old });
    let Seen::Join {
        session: new,
        frame,
        ..
    } = node.next().await?
    else {
        panic!("expected the new join");
    };
    assert_ne!(new, old);
    assert_eq!(frame, rejoin);
    Ok(())
}
