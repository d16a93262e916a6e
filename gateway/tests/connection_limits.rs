//! Every accepted connection counts, HTTP as well as WebSocket: one address holding
//! `max_connections_per_address` of them (here idle kept-alive connections, each
//! trickling its next request) gets its next ones closed at once, while pages and
//! sockets from another address (127.0.0.2) are served; past `max_tcp_connections` in
//! all, a new connection is closed at once, and a closed one frees its slot.
//! (The view-node here is a test double; see `support/mod.rs`.)

mod support;

use std::net::SocketAddr;

use anyhow::Context as _;

use support::{FakeNode, STEP, config, connect_from, http_from, read_status, start, tcp_from};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

const ATTACKER: [u8; 4] = [127, 0, 0, 1];
const NEIGHBOUR: [u8; 4] = [127, 0, 0, 2];

/// A connection from `local` that got one answer and now trickles its next request;
/// `None` if the gateway closed it unanswered.
async fn hold(local: [u8; 4], addr: SocketAddr) -> anyhow::Result<Option<TcpStream>> {
    let mut tcp = tcp_from(local, addr).await?;
    let request = format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\n\r\n");
    if tcp.write_all(request.as_bytes()).await.is_err() {
        return Ok(None);
    }
    let Some(status) = read_status(&mut tcp).await? else {
        return Ok(None);
    };
    assert_eq!(status, 200);
    // The rest of the answer (headers and "ok\n") is left unread; the next request
    // starts and stalls.
    tcp.write_all(b"GET /he").await?;
    Ok(Some(tcp))
}

#[tokio::test]
async fn one_address_cannot_take_the_connections_of_others() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.max_connections_per_address = 50;
    let gateway = start(config).await?;

    let mut held = Vec::new();
    for n in 0..50 {
        let tcp = hold(ATTACKER, gateway.addr).await?;
        held.push(tcp.unwrap_or_else(|| panic!("connection {n} was refused")));
    }
    for n in 50..60 {
        assert!(
            hold(ATTACKER, gateway.addr).await?.is_none(),
            "connection {n} from the same address was served"
        );
    }
    // Pages and sockets from another address.
    assert_eq!(
        http_from(NEIGHBOUR, gateway.addr, "/counter").await?.status,
        200
    );
    let mut neighbour = connect_from(NEIGHBOUR, gateway.addr).await?;
    let reply = neighbour.join("one", "1").await?;
    assert_eq!(reply[4]["status"], "ok");
    drop(held);
    Ok(())
}

#[tokio::test]
async fn past_the_total_new_connections_are_closed_until_one_ends() -> anyhow::Result<()> {
    let node = FakeNode::start("a").await?;
    let mut config = config(&[&node]);
    config.max_tcp_connections = 3;
    let gateway = start(config).await?;

    let socket = connect_from(ATTACKER, gateway.addr).await?;
    let page = hold(NEIGHBOUR, gateway.addr).await?.context("refused")?;
    let _third = hold([127, 0, 0, 3], gateway.addr)
        .await?
        .context("refused")?;
    assert!(hold([127, 0, 0, 4], gateway.addr).await?.is_none());

    // The socket's end frees a slot as soon as the gateway sees it.
    drop(socket);
    drop(page);
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        if hold([127, 0, 0, 4], gateway.addr).await?.is_some() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no slot was freed");
        tokio::task::yield_now().await;
    }
    Ok(())
}
