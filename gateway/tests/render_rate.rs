//! Dead renders are rate-limited per client address: past `render_burst` (with no
//! refill here: `renders_per_sec` 0) an address gets 429 with `Retry-After`, while
//! another address still gets pages and the health endpoints stay open to all.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, config, http_from, start};

#[tokio::test]
async fn page_loads_past_an_address_burst_get_429() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.renders_per_sec = 0;
    config.render_burst = 3;
    let gateway = start(config).await?;
    let flooder = [127, 0, 0, 1];

    for _ in 0..3 {
        assert_eq!(
            http_from(flooder, gateway.addr, "/counter").await?.status,
            200
        );
    }
    let refused = http_from(flooder, gateway.addr, "/counter").await?;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(
        http_from(flooder, gateway.addr, "/healthz").await?.status,
        200
    );

    assert_eq!(
        http_from([127, 0, 0, 2], gateway.addr, "/counter")
            .await?
            .status,
        200
    );
    Ok(())
}
