//! A connection that stays open but stops answering (a hung Redis, a half-open socket, a
//! stale connection after a failover) is caught by the `PING` probe: the node reports
//! the subscriber connection down, reconnects, and raises a gap.
//!
//! A small proxy sits between the node and Redis; "stalling" it makes every connection
//! open at that moment silently stop forwarding, while new connections pass.

use cinder_test_support::redis as harness;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cinder_pubsub::{GapCause, LinkState, PubSub as _, Redis};
use harness::{Event, Inbox, RedisServer, node, within};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// Forwards TCP to `upstream`; connections older than the last [`Proxy::stall`] stop
/// forwarding without closing.
struct Proxy {
    addr: SocketAddr,
    /// Connections numbered below this are stalled.
    stalled_below: Arc<AtomicU64>,
    /// The number the next accepted connection gets.
    next: Arc<AtomicU64>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let proxy = Proxy {
            addr: listener.local_addr()?,
            stalled_below: Arc::default(),
            next: Arc::default(),
        };
        let (stalled_below, next) = (proxy.stalled_below.clone(), proxy.next.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let number = next.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pipe(
                    client_read,
                    server_write,
                    number,
                    stalled_below.clone(),
                ));
                tokio::spawn(pipe(
                    server_read,
                    client_write,
                    number,
                    stalled_below.clone(),
                ));
            }
        });
        Ok(proxy)
    }

    /// Stalls every connection open now.
    fn stall(&self) {
        self.stalled_below
            .store(self.next.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    number: u64,
    stalled_below: Arc<AtomicU64>,
) {
    let mut buf = vec![0; 16 * 1024];
    loop {
        let Ok(n) = from.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        if number < stalled_below.load(Ordering::SeqCst) {
            // Hold both halves open and forward nothing, for ever.
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn a_connection_that_stops_answering_is_replaced() {
    harness::logs();
    let server = RedisServer::start().unwrap();
    let proxy = Proxy::start(([127, 0, 0, 1], server.port()).into())
        .await
        .unwrap();
    // `harness::config` probes every second and gives up after one more.
    let a = Redis::start(harness::config(
        &format!("redis://{}", proxy.addr),
        "node-a",
    ))
    .unwrap();
    within(a.ready()).await;
    let b = node(&server, "node-b").await;
    let mut inbox = Inbox::new();
    a.subscribe_with_gaps("t", inbox.sink(), inbox.gaps());
    within(a.flush()).await.unwrap();

    proxy.stall();
    let mut health = a.watch_health();
    within(health.wait_for(|h| h.subscriber == LinkState::Down))
        .await
        .unwrap();
    assert_eq!(
        inbox.next().await,
        Event::Gap("t".into(), GapCause::Reconnected)
    );

    within(a.ready()).await;
    b.try_publish("t", json!("through")).unwrap();
    assert_eq!(
        inbox.next().await,
        Event::Message("t".into(), json!("through"))
    );
    assert_eq!(a.stats().reconnects, 1);
}
