//! Memory per parked session (`LiveView::PARK`): joins `SESSIONS` (default 20,000)
//! counter sessions through a router, as a view-node does, then parks them all (their
//! client's connection went away) and prints the live heap per session connected and
//! parked. A parked session keeps its state and task, and adds its entry in the node's
//! parking map and eviction queue; its outbox is closed.
//!
//! Run: `cargo bench -p cinder --bench park_memory`.

use cinder_test_support::heap::{self, Counting};

/// Counts the live heap that [`heap::live`] reads.
#[global_allocator]
static ALLOCATOR: Counting = Counting;

use cinder::frame::ClientFrame;
use cinder::router::Router;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Tracked, html};

#[derive(Assigns)]
struct Counter {
    count: i64,
}

impl LiveView for Counter {
    type Info = ();
    const PARK: bool = true;

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Counter { count: 0 })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<div><h1 id="count">{@count}</h1><button id="inc" phx-click="inc">+</button></div>"#
        )
    }
}

/// The session token a dead render of `/counter` as page `id` carries.
fn token(router: &Router, id: &str) -> anyhow::Result<String> {
    let page = router.render("http://localhost/counter", id, "csrf", None);
    let at = page
        .body
        .find("data-phx-session=\"")
        .ok_or_else(|| anyhow::anyhow!("no session token"))?
        + 18;
    let end = page.body[at..]
        .find('"')
        .ok_or_else(|| anyhow::anyhow!("an unterminated token"))?;
    Ok(page.body[at..at + end].to_owned())
}

fn main() -> anyhow::Result<()> {
    let sessions: usize = std::env::var("SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let router = Router::new(b"park memory bench secret of 32 bytes")
            .live::<Counter>("/counter")
            .park(std::time::Duration::from_secs(3600), sessions);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        // Counted from before the join frames: each is freed as its session joins.
        let before = heap::live();
        let frames = (0..sessions)
            .map(|i| {
                let id = format!("phx-{i:08}");
                let token = token(&router, &id)?;
                let text = format!(
                    r#"["1","1","lv:{id}","phx_join",{{"url":"http://localhost/counter","params":{{"_csrf_token":"csrf","_mounts":0}},"session":"{token}","static":null}}]"#
                );
                Ok(ClientFrame::parse(&text)?)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut handles = Vec::with_capacity(sessions);
        for frame in frames {
            let handle = router
                .join(frame, true, tx.clone())
                .map_err(|r| anyhow::anyhow!("join refused: {}", r.0))?;
            handles.push(handle);
            rx.recv()
                .await
                .ok_or_else(|| anyhow::anyhow!("no join reply"))?;
        }
        let connected = heap::live().saturating_sub(before);
        for handle in handles {
            router.disconnected(handle);
        }
        // Let every session take its park.
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let parked = heap::live().saturating_sub(before);
        #[expect(clippy::cast_precision_loss, reason = "a per-session average")]
        let per = |bytes: usize| bytes as f64 / sessions as f64;
        #[expect(clippy::print_stdout, reason = "a benchmark prints its figure")]
        {
            println!("sessions: {sessions}");
            println!("heap per connected session: {:.0} bytes", per(connected));
            println!("heap per parked session: {:.0} bytes", per(parked));
        }
        Ok(())
    })
}
