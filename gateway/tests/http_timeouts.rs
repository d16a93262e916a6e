//! An HTTP connection cannot idle or trickle forever: one that does not finish its
//! request's headers within `header_timeout`, or leaves a kept-alive connection idle
//! that long, is closed; an authenticated publish whose body takes longer than
//! `body_timeout` gets 408.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use std::time::{Duration, Instant};

use support::{FakeNode, config, read_status, start};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

const TOKEN: &str = "timeout test token";
const TIMEOUT: Duration = Duration::from_millis(300);

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.header_timeout = TIMEOUT;
    let gateway = start(config).await?;

    // Half a request line, then nothing.
    let mut trickling = TcpStream::connect(gateway.addr).await?;
    trickling.write_all(b"GET /healthz HTT").await?;
    let started = Instant::now();
    // hyper answers a header timeout with a 408 or a bare close; either ends it.
    let answer = read_status(&mut trickling).await?;
    assert!(matches!(answer, None | Some(408)), "got {answer:?}");
    assert!(started.elapsed() >= TIMEOUT);

    // A kept-alive connection after its request.
    let mut idle = TcpStream::connect(gateway.addr).await?;
    let request = format!("GET /healthz HTTP/1.1\r\nhost: {}\r\n\r\n", gateway.addr);
    idle.write_all(request.as_bytes()).await?;
    assert_eq!(read_status(&mut idle).await?, Some(200));
    let mut rest = Vec::new();
    let read = tokio::io::AsyncReadExt::read_to_end(&mut idle, &mut rest);
    tokio::time::timeout(support::STEP, read).await??;
    Ok(())
}

#[tokio::test]
async fn a_slow_publish_body_gets_408() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.api_token = Some(TOKEN.to_owned());
    config.body_timeout = TIMEOUT;
    let gateway = start(config).await?;

    let mut tcp = TcpStream::connect(gateway.addr).await?;
    let head = format!(
        "POST /api/topics/chat:lobby HTTP/1.1\r\nhost: {}\r\ncontent-length: 100\r\n\
         authorization: Bearer {TOKEN}\r\n\r\n{{\"body\":",
        gateway.addr
    );
    tcp.write_all(head.as_bytes()).await?;
    let started = Instant::now();
    assert_eq!(read_status(&mut tcp).await?, Some(408));
    assert!(started.elapsed() >= TIMEOUT);
    Ok(())
}
