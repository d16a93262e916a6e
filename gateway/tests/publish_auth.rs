//! `POST /api/topics/…` checks the bearer token before it reads a byte of the body: an
//! unauthenticated caller announcing a huge body and trickling it gets 401 at once, and
//! an authenticated one announcing more than 1 MiB gets 413 at once. A gateway without
//! an API token refuses every publish with 503.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use support::{FakeNode, config, read_status, start};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

const TOKEN: &str = "publish test token";

/// Writes a publish's head announcing `length` body bytes, then one byte of the body,
/// and returns the status answered with the rest of the body still unsent.
async fn trickle(
    addr: std::net::SocketAddr,
    authorization: &str,
    length: u64,
) -> anyhow::Result<Option<u16>> {
    let mut tcp = TcpStream::connect(addr).await?;
    let head = format!(
        "POST /api/topics/chat:lobby HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {length}\r\n{authorization}\r\n{{"
    );
    tcp.write_all(head.as_bytes()).await?;
    read_status(&mut tcp).await
}

#[tokio::test]
async fn refusals_come_before_the_body() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.api_token = Some(TOKEN.to_owned());
    let gateway = start(config).await?;
    let huge = 100 << 20;

    assert_eq!(trickle(gateway.addr, "", huge).await?, Some(401));
    let wrong = "authorization: Bearer wrong\r\n";
    assert_eq!(trickle(gateway.addr, wrong, huge).await?, Some(401));
    let basic = format!("authorization: Basic {TOKEN}\r\n");
    assert_eq!(trickle(gateway.addr, &basic, huge).await?, Some(401));
    let right = format!("authorization: Bearer {TOKEN}\r\n");
    assert_eq!(trickle(gateway.addr, &right, huge).await?, Some(413));
    Ok(())
}

#[tokio::test]
async fn a_gateway_without_a_token_refuses_at_once() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let gateway = start(config(&[&node])).await?;
    let bearer = format!("authorization: Bearer {TOKEN}\r\n");
    assert_eq!(trickle(gateway.addr, &bearer, 10).await?, Some(503));
    Ok(())
}
