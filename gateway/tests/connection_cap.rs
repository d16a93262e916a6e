//! Past `max_connections` open sockets an upgrade is refused with 503 before upgrading;
//! a closed socket frees its slot.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, config, connect, connect_with, refused_status, start};

#[tokio::test]
async fn upgrades_past_the_cap_get_503() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.max_connections = 2;
    let gateway = start(config).await?;

    let mut first = connect(gateway.addr).await?;
    let _second = connect(gateway.addr).await?;
    let Err(error) = connect_with(gateway.addr, "", &[]).await else {
        panic!("the third socket must be refused");
    };
    assert_eq!(refused_status(&error), Some(503));

    // The gateway frees the slot before it drops the socket, so once this client has
    // seen the end of its stream a new socket fits.
    first.ws.close(None).await?;
    while futures_util::StreamExt::next(&mut first.ws).await.is_some() {}
    connect_with(gateway.addr, "", &[]).await?;
    Ok(())
}
