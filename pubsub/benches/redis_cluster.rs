//! One Redis versus a Redis Cluster (three masters, three replicas): deliveries per
//! second over many topics, and how long subscribers wait after a master is killed.
//!
//! Run: `cargo bench -p cinder-pubsub --bench redis_cluster` (`SECS` sets each
//! throughput window, default 5; `TOPICS` the topic count, default 300).
//!
//! The servers are real `redis-server` processes on loopback; the nodes are backends
//! with the default configuration on a two-worker runtime in this process.
//!
//! - Throughput: node A publishes round-robin over the topics as fast as its bounded
//!   queue takes messages (retrying on `QueueFull`); nodes B and C subscribe to every
//!   topic. The figure is messages B and C received per second, together.
//! - Failover: B subscribes to a topic, its master is killed with -9; the figures are
//!   the time until B's gap, and until a message published every 10 ms reaches B again.

use cinder_test_support::redis as harness;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cinder_pubsub::{Delivery, Error, GapCause, PubSub as _, Redis, RedisConfig};
use cinder_test_support::redis_cluster::RedisCluster;
use harness::{Event, Inbox, RedisServer};
use serde_json::json;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[expect(clippy::print_stdout, reason = "a bench prints its figures")]
fn say(line: &str) {
    println!("{line}");
}

async fn node(url: &str, name: &str) -> anyhow::Result<Arc<Redis>> {
    let redis = Redis::start(RedisConfig::new(url, name))?;
    tokio::time::timeout(Duration::from_secs(10), redis.ready()).await?;
    Ok(Arc::new(redis))
}

async fn run() -> anyhow::Result<()> {
    let secs = env("SECS", 5);
    let topics = env("TOPICS", 300);
    let single = RedisServer::start()?;
    let one = throughput(&single.url(), topics, secs).await?;
    drop(single);
    let cluster = RedisCluster::start()?;
    let three = throughput(&cluster.urls(), topics, secs).await?;
    say(&format!(
        "deliveries/s over {topics} topics, 1 publisher node, 2 subscriber nodes, {secs} s: one Redis {one:.0}, three-master cluster {three:.0}"
    ));
    failover(cluster).await
}

/// Messages per second that B and C receive while A publishes as fast as it can.
async fn throughput(url: &str, topics: u64, secs: u64) -> anyhow::Result<f64> {
    let a = node(url, "bench-a").await?;
    let received = Arc::new(AtomicU64::new(0));
    let mut subscribers = Vec::new();
    for name in ["bench-b", "bench-c"] {
        let backend = node(url, name).await?;
        for t in 0..topics {
            let received = received.clone();
            backend.subscribe(
                &format!("bench:{t}"),
                Box::new(move |_| {
                    received.fetch_add(1, Ordering::Relaxed);
                    Delivery::Delivered
                }),
            );
        }
        tokio::time::timeout(Duration::from_secs(30), backend.flush()).await??;
        subscribers.push(backend);
    }
    let started = Instant::now();
    let window = Duration::from_secs(secs);
    let mut n = 0u64;
    while started.elapsed() < window {
        match a.try_publish(&format!("bench:{}", n % topics), json!({"n": n})) {
            Ok(_) => n += 1,
            Err(Error::QueueFull) => tokio::task::yield_now().await,
            Err(error) => return Err(error.into()),
        }
    }
    let got = received.load(Ordering::Relaxed);
    #[expect(clippy::cast_precision_loss, reason = "a rate")]
    Ok(got as f64 / started.elapsed().as_secs_f64())
}

async fn failover(mut cluster: RedisCluster) -> anyhow::Result<()> {
    let a = node(&cluster.urls(), "failover-a").await?;
    let b = node(&cluster.urls(), "failover-b").await?;
    let topic = "bench:failover";
    let mut inbox = Inbox::new();
    b.subscribe_with_gaps(topic, inbox.sink(), inbox.gaps());
    b.flush().await?;
    let publisher = {
        let a = a.clone();
        tokio::spawn(async move {
            for n in 0u64.. {
                let _ = a.try_publish(topic, json!({"n": n}));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    // Messages flow.
    while !matches!(inbox.next().await, Event::Message(..)) {}
    let master = cluster.master_of(&a.topic_channel(topic))?;
    let killed = Instant::now();
    cluster.kill(master);
    let mut gap = None;
    let deadline = killed + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(event) = tokio::time::timeout(left, async { inbox.next().await }).await else {
            anyhow::bail!("nothing reached the subscriber within 60 s of the kill");
        };
        match event {
            Event::Gap(_, GapCause::Reconnected) => gap = Some(killed.elapsed()),
            Event::Message(..) if gap.is_some() => break,
            _ => {}
        }
    }
    publisher.abort();
    say(&format!(
        "failover: master killed with -9 (cluster-node-timeout 1 s): gap after {:.2} s, messages again after {:.2} s",
        gap.unwrap_or_default().as_secs_f64(),
        killed.elapsed().as_secs_f64()
    ));
    Ok(())
}
