//! Resident memory per idle counter session: mounts 100,000 session actors in one process
//! and prints what they cost together, divided per session.
//!
//! Run: `cargo bench -p cinder --bench session_memory` (set `SESSIONS` to change the count).
//! The figure counts everything a session keeps: its task, mailbox, state, prints and
//! the handle the node routes by.

use std::time::Instant;

use cinder::frame::ClientFrame;
use cinder::session::{self, SessionConfig};
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Tracked, html};

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
}

fn resident_bytes() -> anyhow::Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("statm"))?
        .parse()?;
    Ok(pages * 4096)
}

fn main() -> anyhow::Result<()> {
    let sessions: usize = std::env::var("SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        // Warm up the allocator and the runtime with one session.
        let join = |i: usize| {
            let text = format!(
                r#"["1","1","lv:phx-{i:08}","phx_join",{{"url":"http://localhost:4000/counter","params":{{"_csrf_token":"x","_mounts":0}},"session":"s","static":null}}]"#
            );
            ClientFrame::parse(&text)
        };
        let warm = session::spawn::<Counter, _>(join(0)?, tx.clone(), SessionConfig::default());
        rx.recv().await;
        let before = resident_bytes()?;
        let started = Instant::now();
        let mut handles = Vec::with_capacity(sessions);
        let mut replies = 0;
        for i in 0..sessions {
            handles.push(session::spawn::<Counter, _>(join(i + 1)?, tx.clone(), SessionConfig::default()));
            if i % 1024 == 1023 {
                tokio::task::yield_now().await;
                while rx.try_recv().is_ok() {
                    replies += 1;
                }
            }
        }
        while replies < sessions {
            if rx.recv().await.is_some() {
                replies += 1;
            }
        }
        let elapsed = started.elapsed();
        let after = resident_bytes()?;
        let per = (after.saturating_sub(before)) as f64 / sessions as f64;
        let open = handles.iter().filter(|h| !h.is_closed()).count();
        #[expect(clippy::print_stdout, reason = "a benchmark prints its figure")]
        {
            println!("sessions mounted: {sessions} ({open} live) in {:.2?}", elapsed);
            println!("resident before: {:.1} MiB, after: {:.1} MiB", before as f64 / 1048576.0, after as f64 / 1048576.0);
            println!("resident memory per idle session: {per:.0} bytes (budget 2048)");
        }
        drop(warm);
        Ok(())
    })
}
