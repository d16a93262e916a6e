//! Whether the machine pauses running threads: one thread per core spins on the clock for
//! N seconds and reports every gap over 0.5 ms between two readings, time in which it did
//! not run. On an idle machine such gaps are the kernel's (compare `perf sched`) or, when
//! the kernel counts the thread as running throughout, the hypervisor's.
//!
//! `cargo run --release -p cinder-loadtest --example clock_gaps -- [SECONDS]` (default 10).

use std::time::{Duration, Instant};

#[expect(clippy::print_stdout, reason = "it prints its figures")]
fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads: Vec<_> = (0..cores)
        .map(|_| std::thread::spawn(move || gaps(Duration::from_secs(seconds))))
        .collect();
    for (core, thread) in threads.into_iter().enumerate() {
        let Ok(mut gaps) = thread.join() else {
            continue;
        };
        gaps.sort_unstable_by(|a, b| b.cmp(a));
        let over_2ms = gaps
            .iter()
            .filter(|g| **g > Duration::from_millis(2))
            .count();
        let longest: Vec<String> = gaps
            .iter()
            .take(8)
            .map(|g| format!("{:.2}", g.as_secs_f64() * 1e3))
            .collect();
        println!(
            "thread {core}: {} gaps over 0.5 ms, {over_2ms} over 2 ms in {seconds} s; longest (ms): {}",
            gaps.len(),
            longest.join(", "),
        );
    }
}

fn gaps(spin: Duration) -> Vec<Duration> {
    let end = Instant::now() + spin;
    let mut last = Instant::now();
    let mut gaps = Vec::new();
    while last < end {
        let now = Instant::now();
        if now - last > Duration::from_micros(500) {
            gaps.push(now - last);
        }
        last = now;
    }
    gaps
}
