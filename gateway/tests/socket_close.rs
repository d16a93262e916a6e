//! When a client's WebSocket closes, the view-node gets a `Leave` for every session the
//! socket had joined.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use std::collections::BTreeSet;

use support::{FakeNode, Seen, config, connect, start};

#[tokio::test]
async fn closing_the_socket_leaves_every_session() -> anyhow::Result<()> {
    let mut node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let mut client = connect(gateway.addr).await?;

    let mut joined = BTreeSet::new();
    for (id, join_ref) in [("phx-c1", "1"), ("phx-c2", "2")] {
        client.join(id, join_ref).await?;
        let Seen::Join { session, .. } = node.next().await? else {
            panic!("expected a join");
        };
        joined.insert(session);
    }

    client.ws.close(None).await?;

    let mut left = BTreeSet::new();
    while left.len() < joined.len() {
        let Seen::Leave { session } = node.next().await? else {
            panic!("expected a leave");
        };
        left.insert(session);
    }
    assert_eq!(left, joined);
    Ok(())
}
