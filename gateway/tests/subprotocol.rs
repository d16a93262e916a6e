//! A client that offers the `phoenix` subprotocol (phoenix.js with `authToken`) gets it
//! echoed, or the browser would drop the socket; others get none.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, config, connect_with, start};

#[tokio::test]
async fn phoenix_subprotocol_is_echoed() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;

    let offered = [(
        "sec-websocket-protocol",
        "phoenix, base64url.bearer.phx.dG9rZW4",
    )];
    let (_client, response) = connect_with(gateway.addr, "", &offered).await?;
    assert_eq!(
        response.headers().get("sec-websocket-protocol").unwrap(),
        "phoenix"
    );

    let (_client, response) = connect_with(gateway.addr, "", &[]).await?;
    assert!(response.headers().get("sec-websocket-protocol").is_none());
    Ok(())
}
