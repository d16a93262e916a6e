//! What a stream keeps on the server: one session inserts `ITEMS` (10,000) rows into a
//! stream, 100 per message, every diff sent and read; prints the session's live heap
//! before and after, per item, and the bytes sent.
//!
//! Run: `cargo bench -p cinder --bench stream_memory`. A stream's items are rendered
//! once into the diff and dropped, so the per-item figure should be ~0.

use cinder_test_support::heap::{self, Counting};

/// Counts the live heap that [`heap::live`] reads.
#[global_allocator]
static ALLOCATOR: Counting = Counting;

use cinder::frame::ClientFrame;
use cinder::session::{self, Input, SessionConfig};
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Stream, Tracked, html};

/// One row of the stream.
struct Row {
    id: usize,
    title: String,
}

#[derive(Assigns)]
struct Rows {
    rows: Stream<Row>,
    inserted: usize,
}

/// Insert rows `from..to`.
struct Insert(usize, usize);

impl LiveView for Rows {
    type Info = Insert;

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Rows {
            rows: Stream::new("rows"),
            inserted: 0,
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<p id="inserted">{@inserted}</p><ul id="rows" phx-update="stream"><li :for={(dom_id, row) in @rows} id={dom_id}>{row.id}: {row.title}</li></ul>"#
        )
    }

    fn handle_info(socket: &mut Socket<Self>, Insert(from, to): Insert) -> Result {
        socket.update_rows(|rows| {
            for id in from..to {
                let title = format!("row number {id}");
                rows.insert(format!("rows-{id}"), Row { id, title });
            }
        });
        socket.set_inserted(to);
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let items: usize = std::env::var("ITEMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let join = ClientFrame::parse(
            r#"["1","1","lv:phx-rows","phx_join",{"url":"http://localhost/rows","params":{},"session":"s","static":null}]"#,
        )?;
        let handle = session::spawn_in::<Rows, _>(join, tx, SessionConfig::default(), None);
        rx.recv().await.ok_or_else(|| anyhow::anyhow!("no join reply"))?;
        let heap_before = heap::live();
        let mut sent = 0usize;
        for from in (0..items).step_by(100) {
            handle
                .try_send(Input::Info(Box::new(Insert(from, (from + 100).min(items)))))
                .map_err(|_| anyhow::anyhow!("the session is gone"))?;
            let diff = rx.recv().await.ok_or_else(|| anyhow::anyhow!("no diff"))?;
            sent += diff.len();
        }
        let heap_after = heap::live();
        let grown = heap_after as f64 - heap_before as f64;
        #[expect(clippy::print_stdout, reason = "a benchmark prints its figure")]
        {
            println!("stream items inserted: {items}, {sent} bytes of diffs sent");
            println!(
                "session heap: {heap_before} bytes before, {heap_after} after: {:.2} bytes per item",
                grown / items as f64
            );
        }
        drop(handle);
        Ok(())
    })
}
