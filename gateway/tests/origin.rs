//! A socket from an origin other than the gateway's own host or a configured one is
//! refused with 403 before the upgrade; allowed origins and origin-less clients connect.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, config, connect_with, refused_status, start};

#[tokio::test]
async fn foreign_origins_are_refused_with_403() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.allowed_origins = vec!["https://app.example.com".to_owned()];
    let gateway = start(config).await?;
    let own = format!("http://{}", gateway.addr);

    let Err(error) = connect_with(gateway.addr, "", &[("origin", "http://evil.example")]).await
    else {
        panic!("a foreign origin must be refused");
    };
    assert_eq!(refused_status(&error), Some(403));

    for origin in [own.as_str(), "https://app.example.com"] {
        let (_client, response) = connect_with(gateway.addr, "", &[("origin", origin)]).await?;
        assert_eq!(response.status().as_u16(), 101, "{origin}");
    }
    let (_client, response) = connect_with(gateway.addr, "", &[]).await?;
    assert_eq!(response.status().as_u16(), 101);
    Ok(())
}
