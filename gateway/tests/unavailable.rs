//! With no view-node link up the gateway still serves: `/readyz` says 503, a page gets
//! 503 text, and a join gets `phx_error` `{"reason":"unavailable"}`, so the client retries
//! the join after its backoff instead of reloading the page.

mod support;

use support::{SECRET, connect, get};

#[tokio::test]
async fn without_nodes_pages_503_and_joins_unavailable() -> anyhow::Result<()> {
    // A port nobody listens on: bind one, then free it.
    let unused = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let config = cinder_gateway::Config::new(
        "127.0.0.1:0".parse()?,
        vec![unused.to_string()],
        SECRET.to_vec(),
    );
    let gateway = cinder_gateway::bind(config).await?;
    let addr = gateway.local_addr();
    tokio::spawn(gateway.serve(std::future::pending()));

    assert_eq!(get(addr, "/healthz").await?.status, 200);
    assert_eq!(get(addr, "/readyz").await?.status, 503);
    let page = get(addr, "/counter").await?;
    assert_eq!(page.status, 503);
    assert_eq!(
        page.header("content-type"),
        Some("text/plain; charset=utf-8")
    );

    let mut client = connect(addr).await?;
    client.send(&support::join_frame("phx-x", "1")).await?;
    assert_eq!(
        client.recv().await?,
        r#"["1","1","lv:phx-x","phx_error",{"reason":"unavailable"}]"#
    );
    Ok(())
}
