//! Diff bytes for the demo's `/todos` with 1,000 items after one toggle: adds 1,000 todos
//! through the form, toggles the 500th (an event aimed at its live component), and
//! prints the bytes of the reply's diff and of the view's follow-up diff
//! (`#open-count`).
//!
//! Run: `cargo run --release -p cinder-test --example todos_diff_bytes`.
#![allow(
    clippy::expect_used,
    reason = "a measurement: a demo that cannot start ends it"
)]

use std::time::Duration;

use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = cinder_test::TestApp::start(cinder_demo::routes).await?;
    let mut live = app.live("/todos").await?;
    let mut added = 0usize;
    for i in 0..1000 {
        // Under the gateway's per-socket rate limit (100 messages/s).
        tokio::time::sleep(Duration::from_millis(12)).await;
        live.submit_form("#new-todo", &format!("title=todo+number+{i}"))
            .await?;
        added += live.last_diff().map_or(0, |d| d.to_string().len());
    }
    let view = live.view().clone();
    // The pushes the adds left (open-count updates) are not part of the figure.
    while view.try_next_push().is_some() {}
    let reply = view
        .push(
            "event",
            json!({"type": "click", "event": "toggle", "value": {"value": "on"}, "cid": 500}),
        )
        .await?;
    let toggle = reply.diff().map_or(0, |d| d.to_string().len());
    let follow_up = match view.next_push_within(Duration::from_secs(1)).await {
        Ok(push) => push.payload.to_string().len(),
        Err(_) => 0,
    };
    #[expect(clippy::print_stdout, reason = "the example prints its figure")]
    {
        println!("1,000 todos added: {added} bytes of reply diffs in all");
        println!(
            "one toggle: reply diff {toggle} bytes: {}",
            reply.diff().map(ToString::to_string).unwrap_or_default()
        );
        println!("the view's follow-up diff (#open-count): {follow_up} bytes");
    }
    Ok(())
}
