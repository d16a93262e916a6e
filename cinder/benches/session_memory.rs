//! Resident memory per idle counter session: mounts 100,000 session actors in one process
//! and prints what they cost together, divided per session.
//!
//! Run: `cargo bench -p cinder --bench session_memory` (`SESSIONS` changes the count,
//! `BURST` how many joins are in flight at once).
//! The figure counts everything a session keeps: its task, mailbox, state, prints and
//! the handle the node routes by.

use cinder_test_support::heap::{self, Counting};

/// Counts the live heap that [`heap::live`] reads.
#[global_allocator]
static ALLOCATOR: Counting = Counting;

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
        let warm = session::spawn_in::<Counter, _>(join(0)?, tx.clone(), SessionConfig::default(), None);
        rx.recv().await;
        let before = heap::resident_bytes()?;
        let heap_before = heap::live();
        let started = Instant::now();
        // Sessions join one after another, each reply read before the next join, as a
        // node under steady load sees them (a burst of queued replies would leave holes
        // between the long-lived allocations that only later joins fill).
        // `BURST=n` joins n sessions at once before reading their replies instead.
        let burst: usize = std::env::var("BURST").ok().and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
        let mut handles = Vec::with_capacity(sessions);
        let mut pending = 0;
        for i in 0..sessions {
            handles.push(session::spawn_in::<Counter, _>(join(i + 1)?, tx.clone(), SessionConfig::default(), None));
            pending += 1;
            if pending == burst || i + 1 == sessions {
                for _ in 0..pending {
                    rx.recv().await.ok_or_else(|| anyhow::anyhow!("a session sent no join reply"))?;
                }
                pending = 0;
            }
        }
        let elapsed = started.elapsed();
        let after = heap::resident_bytes()?;
        let heap = heap::live().saturating_sub(heap_before) as f64 / sessions as f64;
        let per = (after.saturating_sub(before)) as f64 / sessions as f64;
        let open = handles.iter().filter(|h| !h.is_closed()).count();
        #[expect(clippy::print_stdout, reason = "a benchmark prints its figure")]
        {
            println!("sessions mounted: {sessions} ({open} live) in {:.2?}, {burst} join(s) at a time", elapsed);
            println!("resident before: {:.1} MiB, after: {:.1} MiB", before as f64 / 1048576.0, after as f64 / 1048576.0);
            println!("heap allocated per idle session: {heap:.0} bytes");
            println!("resident memory per idle session: {per:.0} bytes (budget 2048)");
        }
        drop(warm);
        Ok(())
    })
}
