//! `/healthz` answers while the process runs, `/readyz` once a view-node link is up, and
//! `/metrics` serves the gateway's Prometheus metrics.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, config, connect, get, start};

#[tokio::test]
async fn health_readiness_and_metrics() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    assert_eq!(gateway.links.up(), 1);

    let health = get(gateway.addr, "/healthz").await?;
    assert_eq!((health.status, health.text()), (200, "ok\n".to_owned()));
    assert_eq!(get(gateway.addr, "/readyz").await?.status, 200);

    let mut client = connect(gateway.addr).await?;
    client.join("phx-m", "1").await?;

    let metrics = get(gateway.addr, "/metrics").await?;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text();
    for line in [
        "cinder_gateway_links_up 1",
        "cinder_gateway_sockets 1",
        "cinder_gateway_joins_total 1",
        "cinder_gateway_frames_up_total 1",
        "cinder_gateway_frames_down_total 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    Ok(())
}
