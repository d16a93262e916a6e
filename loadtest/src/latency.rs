//! The two measurements: event latency at a fixed rate, and idle sessions held open.

use std::time::{Duration, Instant};

use cinder_protocol_client::{Client, Page, View};
use serde_json::json;
use tokio::io::AsyncReadExt;

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// One click pushed as raw bytes; returns when its `phx_reply` frame has arrived.
///
/// The reply is not merged into the client's copy of the view: the figure is the wire
/// round trip through gateway and view-node, not the client's own rendering.
async fn click(client: &Client, view: &View, event: &str) -> anyhow::Result<()> {
    let msg_ref = client.next_ref();
    let payload = json!({"type": "click", "event": event, "value": {"value": ""}});
    let frame = json!([view.join_ref(), msg_ref, view.topic(), "event", payload]).to_string();
    client.send_text(&frame).await?;
    loop {
        let reply = client.next_frame().await?;
        if reply.msg_ref.as_deref() == Some(msg_ref.as_str()) {
            return Ok(());
        }
    }
}

/// Joins `url` once and pushes `events` click events at `rate` per second.
pub(crate) async fn run(url: &str, rate: u64, events: u64, event: &str) -> anyhow::Result<()> {
    let page = Page::fetch(url).await?;
    let client = page.connect().await?;
    let view = page.join(&client).await?;
    // Warm up the path (allocations, connection windows) before measuring.
    for _ in 0..100 {
        click(&client, &view, event).await?;
    }
    let mut ticker = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate.max(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut samples = Vec::with_capacity(usize::try_from(events).unwrap_or(0));
    let started = Instant::now();
    for _ in 0..events {
        ticker.tick().await;
        let sent = Instant::now();
        click(&client, &view, event).await?;
        samples.push(sent.elapsed());
    }
    let elapsed = started.elapsed();
    samples.sort();
    #[expect(clippy::print_stdout, reason = "the tool's output is its figures")]
    {
        println!(
            "click→reply through {url} at {rate}/s ({events} events in {elapsed:.1?}): p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
            percentile(&samples, 0.50),
            percentile(&samples, 0.99),
            percentile(&samples, 0.999),
            samples.last().copied().unwrap_or_default(),
        );
    }
    Ok(())
}

/// Opens `sessions` sockets, each joined to `url`, and holds them until stdin closes.
pub(crate) async fn idle(url: &str, sessions: u64) -> anyhow::Result<()> {
    let page = Page::fetch(url).await?;
    let mut held = Vec::new();
    for _ in 0..sessions {
        let client = page.connect().await?;
        let view = page.join(&client).await?;
        held.push((client, view));
    }
    #[expect(
        clippy::print_stdout,
        reason = "the parent process waits for this line"
    )]
    {
        println!("ready {sessions}");
    }
    let mut sink = Vec::new();
    tokio::io::stdin().read_to_end(&mut sink).await?;
    drop(held);
    Ok(())
}
