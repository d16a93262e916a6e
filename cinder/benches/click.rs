//! Click → reply latency of a counter session in-process (no gateway, no gRPC): frames
//! go straight into the session's mailbox and replies come out of its outbox.
//!
//! Run: `cargo bench -p cinder --bench click` (`RATE` events/s, default 1000; `EVENTS`,
//! default 10000). Prints p50/p99/p99.9 of the round trip.

use std::time::{Duration, Instant};

use cinder::frame::ClientFrame;
use cinder::session::{self, Input, SessionConfig};
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use serde_json::Value;

#[derive(Assigns)]
struct Counter {
    count: i64,
}

impl LiveView for Counter {
    type Info = ();

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Counter { count: 0 })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<div><h1 id="count">{@count}</h1><button id="inc" phx-click="inc">+</button></div>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, _event: &str, _value: Value) -> Result {
        socket.update_count(|c| *c += 1);
        Ok(())
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() -> anyhow::Result<()> {
    let rate: u64 = std::env::var("RATE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let events: usize = std::env::var("EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(64);
        let join = ClientFrame::parse(r#"["1","1","lv:phx-bench","phx_join",{"url":"http://localhost/counter"}]"#)?;
        let handle = session::spawn_in::<Counter, _>(join, tx, SessionConfig::default(), None);
        rx.recv().await;
        let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut samples = Vec::with_capacity(events);
        for i in 0..events {
            ticker.tick().await;
            let text = format!(r#"["1","{}","lv:phx-bench","event",{{"type":"click","event":"inc","value":{{"value":""}}}}]"#, i + 2);
            let started = Instant::now();
            handle.try_send(Input::Frame(Box::new(ClientFrame::parse(&text)?)))?;
            rx.recv().await.ok_or_else(|| anyhow::anyhow!("session ended"))?;
            samples.push(started.elapsed());
        }
        samples.sort();
        #[expect(clippy::print_stdout, reason = "a benchmark prints its figure")]
        {
            println!(
                "in-process click→reply at {rate}/s over {events} events: p50 {:?}, p99 {:?}, p99.9 {:?}",
                percentile(&samples, 0.50),
                percentile(&samples, 0.99),
                percentile(&samples, 0.999)
            );
        }
        Ok(())
    })
}
