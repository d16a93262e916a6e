//! Gateway memory under two attacks, and how long a stalled socket lives.
//!
//! Run: `cargo bench -p cinder-gateway --bench attack_memory` (`ROUTE_SOCKETS`,
//! `ROUTE_JOINS`, `SLOW_SOCKETS`, `FLOOD_FRAMES` change the sizes).
//!
//! - **Route flood**: `ROUTE_SOCKETS` sockets (default 20) each join a view, then,
//!   `ROUTE_JOINS` (5,000) times, have the view allow an upload channel with a 254-byte
//!   topic and join it, a join the view-node refuses. Before routes were bounded each
//!   refused join kept its route (and topic) for the socket's life.
//! - **Slow readers**: `SLOW_SOCKETS` sockets (20) each join a view, ask it for
//!   `FLOOD_FRAMES` (400) frames of 64 KB, and never read again. Each is dropped within
//!   the write timeout (default 20 s) of its stalled write; the bench prints the peak
//!   and the time from the request to the view-node's `Leave`.
//!
//! The gateway, the fake view-node of `cinder-test-support` and the clients run in this
//! process on a two-worker runtime with the gateway's default limits (message rate
//! raised for the flood). The figures are this process's resident memory (sampled every 20 ms for the peak) and
//! live heap (a counting allocator), as growth over a warmed-up baseline; the clients'
//! own share is small (a socket and a tungstenite stream each).

use cinder_test_support::heap::{self, Counting};

/// Counts the live heap that [`heap::live`] reads.
#[global_allocator]
static ALLOCATOR: Counting = Counting;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cinder_test_support::fake_node::{FakeNode, Record, Seen};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A socket joined to `lv:<id>`.
async fn joined(addr: SocketAddr, id: &str) -> anyhow::Result<Socket> {
    let url = format!("ws://{addr}/live/websocket?vsn=2.0.0");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    let join = format!(
        r#"["1","1","lv:{id}","phx_join",{{"url":"http://localhost/","params":{{"_mounts":0}},"session":"S","static":null}}]"#
    );
    ws.send(Message::text(join)).await?;
    match ws.next().await {
        Some(Ok(Message::Text(reply))) if reply.contains(r#""status":"ok""#) => Ok(ws),
        other => anyhow::bail!("join {id}: {other:?}"),
    }
}

/// One socket's route flood: `joins` refused upload-channel joins, every reply read.
async fn route_flood(addr: SocketAddr, id: usize, joins: usize) -> anyhow::Result<Socket> {
    let mut ws = joined(addr, &format!("phx-route{id}")).await?;
    let view = format!("lv:phx-route{id}");
    let (mut write, mut read) = ws.split();
    let sender = async {
        for n in 0..joins {
            // The view allows the channel (the node says so to the gateway), so the join
            // makes a route before the node refuses it.
            let entry = format!("{n:0>250}");
            let allow = json!(["1", "a", view, "allow_upload", {"entries": [entry]}]);
            write.send(Message::text(allow.to_string())).await?;
            let topic = format!("lvu:{entry}");
            let join = json!([n.to_string(), n.to_string(), topic, "phx_join", {"token": "t", "refuse": true}]);
            write.send(Message::text(join.to_string())).await?;
        }
        anyhow::Ok(())
    };
    let receiver = async {
        let mut replies = 0;
        while replies < 2 * joins {
            match read.next().await {
                Some(Ok(Message::Text(_))) => replies += 1,
                Some(Ok(_)) => {}
                other => anyhow::bail!("socket {id} ended: {other:?}"),
            }
        }
        anyhow::Ok(())
    };
    tokio::try_join!(sender, receiver)?;
    ws = read.reunite(write)?;
    Ok(ws)
}

/// Samples the resident size every 20 ms; `peak()` is the largest seen.
struct Sampler {
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start() -> Self {
        let peak = Arc::new(AtomicU64::new(0));
        let seen = peak.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Ok(rss) = heap::resident_bytes() {
                    seen.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Self { peak, task }
    }

    fn peak(self) -> u64 {
        self.task.abort();
        self.peak.load(Ordering::Relaxed)
    }
}

#[expect(clippy::cast_precision_loss, reason = "display only")]
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1_048_576.0)
}

#[expect(clippy::print_stdout, reason = "a bench prints its figures")]
fn main() -> anyhow::Result<()> {
    let route_sockets = env_usize("ROUTE_SOCKETS", 20);
    let route_joins = env_usize("ROUTE_JOINS", 5_000);
    let slow_sockets = env_usize("SLOW_SOCKETS", 20);
    let flood_frames = env_usize("FLOOD_FRAMES", 400);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        // Joins and leaves only: the node keeps no copy of the flood's frames.
        let mut node = FakeNode::start_with("attack", Record::Sessions).await?;
        let mut config = cinder_gateway::Config::new(
            "127.0.0.1:0".parse()?,
            vec![node.host_port()],
            b"bench secret of at least 32 bytes".to_vec(),
        );
        config.rate_per_sec = 1_000_000;
        config.rate_burst = 1_000_000;
        let write_timeout = config.write_timeout;
        let gateway = cinder_gateway::bind(config).await?;
        let addr = gateway.local_addr();
        let mut links = gateway.links();
        tokio::spawn(gateway.serve(std::future::pending()));
        links.wait_until(|up| up == 1).await;

        // Warm up, so lazily built state is in the baseline.
        drop(route_flood(addr, usize::MAX, 200).await?);
        let (rss_base, heap_base) = (heap::resident_bytes()?, heap::live());

        // Route flood.
        let sampler = Sampler::start();
        let flooders = futures_util::future::try_join_all(
            (0..route_sockets).map(|i| route_flood(addr, i, route_joins)),
        )
        .await?;
        let (rss_routes, heap_routes) = (heap::resident_bytes()?, heap::live());
        let peak_routes = sampler.peak();
        println!(
            "route flood: {route_sockets} sockets x {route_joins} refused lvu: joins (254-byte topics)"
        );
        println!(
            "  resident growth {} (peak {}), live heap growth {}, with the sockets still open",
            mib(rss_routes.saturating_sub(rss_base)),
            mib(peak_routes.saturating_sub(rss_base)),
            mib((heap_routes as u64).saturating_sub(heap_base as u64)),
        );
        drop(flooders);

        // Slow readers.
        let (rss_base, heap_base) = (heap::resident_bytes()?, heap::live());
        let sampler = Sampler::start();
        let mut slow = Vec::new();
        for i in 0..slow_sockets {
            slow.push(joined(addr, &format!("phx-slow{i}")).await?);
        }
        let mut sessions = HashSet::new();
        while sessions.len() < slow_sockets {
            if let Seen::Join { session, frame, .. } = node.next().await?
                && frame.contains("lv:phx-slow")
            {
                sessions.insert(session);
            }
        }
        let started = Instant::now();
        for (i, ws) in slow.iter_mut().enumerate() {
            let flood = json!(["1", "2", format!("lv:phx-slow{i}"), "flood", {"frames": flood_frames, "bytes": 64_000}]);
            ws.send(Message::text(flood.to_string())).await?;
        }
        let mut times = Vec::new();
        let deadline = Instant::now() + write_timeout * 3;
        while times.len() < slow_sockets {
            // The node's own step limit is shorter than the write timeout: retry it.
            match node.next().await {
                Ok(Seen::Leave { session }) if sessions.contains(&session) => {
                    times.push(started.elapsed());
                }
                Ok(_) => {}
                Err(error) if Instant::now() > deadline => {
                    return Err(error.context("slow sockets were not dropped"));
                }
                Err(_) => {}
            }
        }
        let peak_slow = sampler.peak();
        let (rss_after, heap_after) = (heap::resident_bytes()?, heap::live());
        times.sort();
        println!(
            "slow readers: {slow_sockets} sockets, each sent {flood_frames} frames of 64 KB and never reading"
        );
        println!(
            "  peak resident growth {} ({} per socket); after they were dropped: resident {}, live heap {}",
            mib(peak_slow.saturating_sub(rss_base)),
            mib(peak_slow.saturating_sub(rss_base) / slow_sockets.max(1) as u64),
            mib(rss_after.saturating_sub(rss_base)),
            mib((heap_after as u64).saturating_sub(heap_base as u64)),
        );
        println!(
            "  stalled socket dropped (session left upstream) {:.1}-{:.1} s after its flood began (write timeout {:?})",
            times[0].as_secs_f64(),
            times[times.len() - 1].as_secs_f64(),
            write_timeout,
        );
        drop(slow);
        anyhow::Ok(())
    })
}
