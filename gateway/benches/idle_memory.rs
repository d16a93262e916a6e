//! Gateway memory per idle WebSocket: opens `SOCKETS` sockets (default 15,000), each
//! joined to one `lv:` topic, and prints what they cost the gateway process together,
//! divided per socket.
//!
//! Run: `cargo bench -p cinder-gateway --bench idle_memory` (`SOCKETS` changes the
//! count, `PER_CLIENT` how many sockets one client process holds, `JOIN=0` leaves the
//! sockets unjoined).
//!
//! The gateway and the fake view-node of `cinder-test-support` run in this process on a
//! two-worker runtime; the clients run in child processes (this binary re-executed with
//! `CINDER_IDLE_CLIENT` set), so that their sockets count neither against this
//! process's memory nor against its open-file limit (one file per socket here). The
//! figure is the growth of resident memory (and of live heap, from a counting
//! allocator) between a warmed-up gateway and one holding every socket idle.

use cinder_test_support::heap::{self, Counting};

/// Counts the live heap that [`heap::live`] reads.
#[global_allocator]
static ALLOCATOR: Counting = Counting;

use std::io::{BufRead as _, Write as _};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use cinder_test_support::fake_node::{FakeNode, Record};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message;

const CLIENT_ENV: &str = "CINDER_IDLE_CLIENT";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Client mode: opens `count` sockets from `first`, joins each, says `ready`, and holds
/// them until stdin closes.
async fn client(addr: SocketAddr, first: usize, count: usize) -> anyhow::Result<()> {
    let url = format!("ws://{addr}/live/websocket?_csrf_token=x&vsn=2.0.0");
    let mut sockets = Vec::with_capacity(count);
    let join = std::env::var("JOIN").map_or(true, |v| v != "0");
    let mut pending = futures_util::stream::iter(first..first + count)
        .map(|i| {
            let url = url.clone();
            async move {
                let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
                if !join {
                    return anyhow::Ok(ws);
                }
                let join = format!(
                    r#"["1","1","lv:phx-idle{i:011}","phx_join",{{"url":"http://localhost/","params":{{"_mounts":0}},"session":"S","static":null}}]"#
                );
                ws.send(Message::text(join)).await?;
                match ws.next().await {
                    Some(Ok(Message::Text(reply))) if reply.contains(r#""status":"ok""#) => {}
                    other => bail!("join {i}: {other:?}"),
                }
                anyhow::Ok(ws)
            }
        })
        .buffer_unordered(64);
    while let Some(ws) = pending.next().await {
        sockets.push(ws?);
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "ready {}", sockets.len())?;
    stdout.flush()?;
    drop(stdout);
    // Parked until the parent closes our stdin.
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await?;
    drop(sockets);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    if let Ok(spec) = std::env::var(CLIENT_ENV) {
        let mut parts = spec.split(',');
        let (Some(addr), Some(first), Some(count)) = (parts.next(), parts.next(), parts.next())
        else {
            bail!("{CLIENT_ENV}={spec}: expected addr,first,count");
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        return runtime.block_on(client(addr.parse()?, first.parse()?, count.parse()?));
    }

    let sockets = env_usize("SOCKETS", 15_000);
    let per_client = env_usize("PER_CLIENT", 5_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        // Answers every join and records nothing, so the growth measured is the gateway's.
        let node = FakeNode::start_with("idle", Record::Nothing).await?;
        let mut config = cinder_gateway::Config::new(
            "127.0.0.1:0".parse()?,
            vec![node.host_port()],
            b"bench secret of at least 32 bytes".to_vec(),
        );
        config.max_connections = sockets + 10;
        // Every client socket comes from 127.0.0.1.
        config.max_tcp_connections = sockets + 100;
        config.max_connections_per_address = sockets + 100;
        let gateway = cinder_gateway::bind(config).await?;
        let addr = gateway.local_addr();
        let mut links = gateway.links();
        tokio::spawn(gateway.serve(std::future::pending()));
        links.wait_until(|up| up == 1).await;

        // Warm up: one client process with a few sockets, so lazily built state (the
        // link's buffers, the runtime's) is in the baseline.
        run_clients(addr, 0, 64, 64).await?.finish()?;

        let (rss_before, heap_before) = (heap::resident_bytes()?, heap::live());
        let clients = run_clients(addr, 1_000_000, sockets, per_client).await?;
        let (rss_after, heap_after) = (heap::resident_bytes()?, heap::live());
        clients.finish()?;

        #[expect(clippy::cast_precision_loss, reason = "display only")]
        let per = |bytes: u64| bytes as f64 / sockets as f64;
        let rss = rss_after.saturating_sub(rss_before);
        let heap = (heap_after as u64).saturating_sub(heap_before as u64);
        #[expect(clippy::print_stdout, reason = "a bench prints its figure")]
        {
            let joined = if std::env::var("JOIN").is_ok_and(|v| v == "0") {
                "not joined"
            } else {
                "each joined to one lv: topic"
            };
            println!("idle sockets:        {sockets} ({joined})");
            println!(
                "resident growth:     {:.1} MiB = {:.0} bytes per socket",
                rss as f64 / 1048576.0,
                per(rss)
            );
            println!(
                "live heap growth:    {:.1} MiB = {:.0} bytes per socket",
                heap as f64 / 1048576.0,
                per(heap)
            );
        }
        anyhow::Ok(())
    })
}

/// Client processes holding `sockets` sockets open and joined.
struct Clients(Vec<std::process::Child>);

impl Clients {
    /// Closes the clients' stdin (they exit) and reaps them.
    fn finish(self) -> anyhow::Result<()> {
        for mut child in self.0 {
            drop(child.stdin.take());
            child.wait()?;
        }
        Ok(())
    }
}

async fn run_clients(
    addr: SocketAddr,
    first: usize,
    sockets: usize,
    per_client: usize,
) -> anyhow::Result<Clients> {
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    let mut start = 0;
    while start < sockets {
        let count = per_client.min(sockets - start);
        let child = Command::new(&exe)
            .env(CLIENT_ENV, format!("{addr},{},{count}", first + start))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        children.push(child);
        start += count;
    }
    // Wait for each to say it holds all its sockets, joined.
    let mut clients = Clients(Vec::new());
    for mut child in children {
        let stdout = child.stdout.take().context("child stdout")?;
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout)
                .read_line(&mut line)
                .map(|_| line)
        })
        .await??;
        clients.0.push(child);
        if !line.starts_with("ready") {
            bail!("a client failed (said {line:?})");
        }
    }
    Ok(clients)
}
