//! `cinder_presence_entries`, read back from the process's Prometheus text
//! (`cinder_telemetry::prometheus`): after tracks and an untrack, the next ticks show
//! the entries the tracker holds. The gauge is one per process: nextest runs each test in
//! a process of its own. The test waits for the value with a deadline, never for a time.

use std::sync::Arc;
use std::time::Duration;

use cinder_presence::{Config, SessionId, Tracker, TrackerOptions};
use cinder_pubsub::{Local, PubSub};
use serde_json::Map;
use tokio::time::Instant;

/// The gauge's value in the rendered text; `None` before it is first set.
fn entries() -> Option<f64> {
    let text = cinder_telemetry::prometheus().render();
    text.lines()
        .find_map(|line| line.strip_prefix("cinder_presence_entries "))
        .and_then(|value| value.parse().ok())
}

/// Waits until the gauge reads `expected`, failing after five seconds (a hundred ticks).
async fn until_entries(expected: f64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut poll = tokio::time::interval(Duration::from_millis(10));
    while entries() != Some(expected) {
        assert!(
            Instant::now() < deadline,
            "cinder_presence_entries stayed at {:?}, not {expected}",
            entries()
        );
        poll.tick().await;
    }
}

#[tokio::test]
async fn the_entries_gauge_follows_tracks_and_untracks() {
    cinder_telemetry::prometheus();
    let pubsub: Arc<dyn PubSub> = Arc::new(Local::new());
    let mut options = TrackerOptions::new("metrics");
    options.config = Config {
        broadcast_period_ms: 50,
        ..Config::default()
    };
    let tracker = Tracker::start(pubsub, options).unwrap();

    for (session, topic) in [(1, "room:a"), (2, "room:a"), (3, "room:b")] {
        tracker
            .track(SessionId(session), topic, "user", Map::new())
            .unwrap();
    }
    until_entries(3.0).await;

    tracker.untrack_session(SessionId(2));
    until_entries(2.0).await;
}
