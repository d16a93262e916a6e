//! Memory per idle session awake and asleep (`LiveView::HIBERNATE_AFTER`): mounts
//! `SESSIONS` (default 10,000) sessions of a view holding `ITEMS` (default 50) rendered
//! rows, measures the live heap, lets them fall asleep, and measures again.
//!
//! Run: `cargo bench -p cinder --bench hibernate_memory`.

use cinder_test_support::heap::{self, Counting};

/// Counts the live heap that [`heap::live`] reads.
#[global_allocator]
static ALLOCATOR: Counting = Counting;

use std::time::Duration;

use cinder::frame::ClientFrame;
use cinder::session::{self, SessionConfig};
use cinder::snapshot::Snapshots;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Tracked, html};
use serde::{Deserialize, Serialize};

#[derive(Assigns, Serialize, Deserialize)]
struct Rows {
    rows: Vec<(u32, String)>,
}

impl LiveView for Rows {
    type Info = ();
    const HIBERNATE_AFTER: Option<Duration> = Some(Duration::from_millis(200));

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        let items: u32 = std::env::var("ITEMS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(50);
        Ok(Rows {
            rows: (0..items).map(|i| (i, format!("row {i}"))).collect(),
        })
    }

    fn snapshot() -> Option<Snapshots<Self>> {
        Some(Snapshots::serde(1))
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<table><tr :for={(id, name) in &@rows} id={format!("row-{id}")}><td>{id}</td><td>{name}</td></tr></table>"#
        )
    }
}

fn main() -> anyhow::Result<()> {
    let sessions: usize = std::env::var("SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let before = heap::live();
        let mut handles = Vec::with_capacity(sessions);
        for i in 0..sessions {
            let text = format!(
                r#"["1","1","lv:phx-{i:08}","phx_join",{{"url":"http://localhost/rows","params":{{}},"session":"s","static":null}}]"#
            );
            let join = ClientFrame::parse(&text)?;
            handles.push(session::spawn_in::<Rows, _>(join, tx.clone(), SessionConfig::default(), None));
            rx.recv().await.ok_or_else(|| anyhow::anyhow!("no join reply"))?;
        }
        let awake = heap::live().saturating_sub(before);
        tokio::time::sleep(Duration::from_millis(600)).await;
        let asleep = heap::live().saturating_sub(before);
        #[expect(clippy::cast_precision_loss, reason = "a per-session average")]
        let per = |bytes: usize| bytes as f64 / sessions as f64;
        #[expect(clippy::print_stdout, reason = "a benchmark prints its figure")]
        {
            println!("sessions: {sessions}, rows each: {}", std::env::var("ITEMS").unwrap_or_else(|_| "50".into()));
            println!("heap per idle session awake: {:.0} bytes", per(awake));
            println!("heap per idle session asleep: {:.0} bytes", per(asleep));
        }
        drop(handles);
        Ok(())
    })
}
