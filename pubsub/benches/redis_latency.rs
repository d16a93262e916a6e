//! Redis backend figures: publish→deliver latency between two nodes, burst throughput,
//! and the load two idle nodes put on Redis.
//!
//! Run: `cargo bench -p cinder-pubsub --bench redis_latency` (`MESSAGES` sets the latency
//! sample count, default 10,000; `BURST` the throughput message count, default 100,000;
//! `IDLE_SECS` the idle window, default 10).
//!
//! A real `redis-server` runs on a free loopback port; the two nodes are two backends
//! with the default configuration on a two-worker runtime in this process.
//!
//! - Latency: node A publishes one small message at a time on a topic node B subscribes
//!   to; the figure is the time from the `publish` call on A to B's sink being called,
//!   so it covers the publish queue, the pipeline to Redis, Redis, B's connection, its
//!   dispatch queue and the JSON decode.
//! - Throughput: A publishes a burst as fast as the bounded queue takes it (retrying on
//!   `QueueFull`); the figure is messages received by B per second.
//! - Idle: both nodes subscribed to 100 topics each, nothing published; Redis's own
//!   `INFO commandstats` counts every command it ran in the window (the `INFO`/`CONFIG`
//!   calls of this bench excluded).

use cinder_test_support::redis as harness;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use cinder_pubsub::{Delivery, Error, PubSub as _, Redis, RedisConfig};
use harness::RedisServer;
use serde_json::json;
use tokio::sync::mpsc;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn start(server: &RedisServer, name: &str) -> anyhow::Result<Arc<Redis>> {
    let redis = Redis::start(RedisConfig::new(server.url(), name))?;
    tokio::time::timeout(harness::STEP, redis.ready())
        .await
        .context("node never connected")?;
    Ok(Arc::new(redis))
}

#[expect(clippy::print_stdout, reason = "a bench prints its figures")]
async fn run() -> anyhow::Result<()> {
    let server = RedisServer::start()?;
    let a = start(&server, "bench-a").await?;
    let b = start(&server, "bench-b").await?;
    let version = server
        .info("server")?
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:").map(str::to_owned))
        .unwrap_or_default();
    println!(
        "redis-server {version} on 127.0.0.1:{}, 2 nodes in one process, {} CPUs",
        server.port(),
        std::thread::available_parallelism().map_or(0, usize::from)
    );

    let (tx, mut rx) = mpsc::unbounded_channel();
    b.subscribe(
        "bench",
        Box::new(move |_| match tx.send(Instant::now()) {
            Ok(()) => Delivery::Delivered,
            Err(_) => Delivery::Gone,
        }),
    );
    tokio::time::timeout(harness::STEP, b.flush()).await??;

    // === latency ===
    let messages = env("MESSAGES", 10_000);
    let mut samples = Vec::with_capacity(messages);
    for i in 0..messages + 1000 {
        let sent = Instant::now();
        a.try_publish(
            "bench",
            json!({"i": i, "body": "a chat line of ordinary length"}),
        )?;
        let received = tokio::time::timeout(harness::STEP, rx.recv())
            .await?
            .context("the subscriber went away")?;
        // The first thousand warm up connections, allocator and caches.
        if i >= 1000 {
            samples.push(received - sent);
        }
    }
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[index]
    };
    println!(
        "publish→deliver A→B, {messages} sequential messages: p50 {:.0} µs, p99 {:.0} µs, p99.9 {:.0} µs, max {:.0} µs",
        micros(at(0.50)),
        micros(at(0.99)),
        micros(at(0.999)),
        micros(at(1.0)),
    );

    // === throughput ===
    let burst = env("BURST", 100_000);
    let started = Instant::now();
    let mut full = 0u64;
    for i in 0..burst {
        loop {
            match a.try_publish("bench", json!({"i": i})) {
                Ok(_) => break,
                Err(Error::QueueFull) => {
                    full += 1;
                    tokio::task::yield_now().await;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
    for _ in 0..burst {
        tokio::time::timeout(harness::STEP, rx.recv())
            .await?
            .context("the subscriber went away")?;
    }
    let elapsed = started.elapsed();
    println!(
        "burst A→B: {burst} messages in {:.2} s = {:.0} msg/s ({full} QueueFull retries, {} dropped on receipt)",
        elapsed.as_secs_f64(),
        burst as f64 / elapsed.as_secs_f64(),
        b.stats().inbound_dropped,
    );

    // === idle load ===
    let idle = Duration::from_secs(env("IDLE_SECS", 10) as u64);
    for i in 0..100 {
        a.subscribe(&format!("idle:a:{i}"), Box::new(|_| Delivery::Delivered));
        b.subscribe(&format!("idle:b:{i}"), Box::new(|_| Delivery::Delivered));
    }
    tokio::time::timeout(harness::STEP, a.flush()).await??;
    tokio::time::timeout(harness::STEP, b.flush()).await??;
    server.command(&[b"CONFIG", b"RESETSTAT"])?;
    tokio::time::sleep(idle).await;
    let calls = command_calls(&server.info("commandstats")?)?;
    let counted: BTreeMap<_, _> = calls
        .into_iter()
        .filter(|(name, _)| name != "info" && name != "config|resetstat")
        .collect();
    let total: u64 = counted.values().sum();
    println!(
        "idle, 2 nodes × 100 topics, default probe every {} s: {total} Redis commands in {} s = {:.2} cmd/s {counted:?}",
        RedisConfig::new("", "").probe_interval.as_secs(),
        idle.as_secs(),
        total as f64 / idle.as_secs_f64(),
    );

    // === baseline ===
    let baseline = Command::new("redis-benchmark")
        .args(["-p", &server.port().to_string(), "-n", "100000", "-q"])
        .args(["PUBLISH", "baseline", "a chat line of ordinary length"])
        .output();
    match baseline {
        Ok(output) if output.status.success() => {
            let text = String::from_utf8_lossy(&output.stdout);
            let last = text.rsplit('\r').next().unwrap_or_default().trim();
            println!("baseline, redis-benchmark PUBLISH (50 clients): {last}");
        }
        _ => println!("baseline: redis-benchmark not available"),
    }
    Ok(())
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// `cmdstat_<name>:calls=<n>,…` lines of `INFO commandstats`.
fn command_calls(info: &str) -> anyhow::Result<BTreeMap<String, u64>> {
    let mut calls = BTreeMap::new();
    for line in info.lines() {
        let Some(rest) = line.strip_prefix("cmdstat_") else {
            continue;
        };
        let Some((name, stats)) = rest.split_once(':') else {
            bail!("unexpected commandstats line {line:?}");
        };
        let n = stats
            .split(',')
            .find_map(|kv| kv.strip_prefix("calls="))
            .context("no calls= field")?
            .parse()?;
        calls.insert(name.to_owned(), n);
    }
    Ok(calls)
}
