//! Upload throughput through the gateway and the view-node: the demo's `/upload` takes
//! two files of 1,000,000 bytes (its limit) per page, sent as the browser sends them
//! (`allow_upload`, a `lvu:` channel per file, 64,000-byte binary chunks each waiting
//! for its acknowledgement, a `progress` push after each), `ROUNDS` pages in a row.
//! Prints the time per page and the throughput, median and worst.
//!
//! Run: `cargo run --release -p cinder-test --example upload_throughput`.
#![allow(
    clippy::expect_used,
    reason = "a measurement: a demo that cannot start ends it"
)]

use std::time::{Duration, Instant};

use cinder_test::UploadFile;

/// Bytes per file: the demo's limit.
const FILE: usize = 1_000_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let app = cinder_test::TestApp::start(cinder_demo::routes).await?;
    let mut times = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let mut live = app.live("/upload").await?;
        let files = ["a.png", "b.png"]
            .map(|name| UploadFile::new(name, "image/png", vec![round as u8; FILE]));
        live.choose_files("#upload-form", "avatar", files).await?;
        let started = Instant::now();
        let uploaded = live.upload("avatar").await?;
        times.push(started.elapsed());
        anyhow::ensure!(uploaded.sent.len() == 2, "refused: {:?}", uploaded.refused);
        live.submit_form("#upload-form", "").await?;
    }
    times.sort();
    let median = times[times.len() / 2];
    let worst = times[times.len() - 1];
    let rate = |time: Duration| (2 * FILE) as f64 / time.as_secs_f64() / 1_000_000.0;
    #[expect(clippy::print_stdout, reason = "the example prints its figure")]
    {
        println!("{rounds} pages, two files of {FILE} bytes each (32 chunks, 32 progress pushes)");
        println!(
            "per page: median {:.1} ms ({:.0} MB/s), worst {:.1} ms ({:.0} MB/s)",
            median.as_secs_f64() * 1e3,
            rate(median),
            worst.as_secs_f64() * 1e3,
            rate(worst)
        );
    }
    Ok(())
}
