//! The pubsub's Prometheus metrics, read back from the process's rendered text (the
//! recorder Cinder's binaries install, `cinder_telemetry::prometheus`): `cinder_redis_up`
//! follows a real Redis that is killed and restarted, for the backend and for a member
//! watcher, and publishes, failed publishes, deliveries and gaps are counted.
//!
//! The gauge is one per process: nextest runs each test in a process of its own. The
//! counters are read as differences, so other tests in the same process do not matter.

use cinder_test_support::redis as harness;

use std::time::Duration;

use cinder_pubsub::membership::{DEFAULT_PREFIX, Members};
use cinder_pubsub::{GapCause, LinkState, PubSub as _};
use harness::{Event, Inbox, RedisServer, node, within};
use serde_json::json;

/// The value of `series` (a name, with its labels if it has any) in the rendered text;
/// 0 when the series is not there yet, NaN (equal to nothing) when it does not parse.
fn value(series: &str) -> f64 {
    let text = cinder_telemetry::prometheus().render();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |value| value.parse().unwrap_or(f64::NAN))
}

#[tokio::test]
async fn redis_up_follows_the_backend_and_messages_are_counted() {
    harness::logs();
    cinder_telemetry::prometheus();
    let mut server = RedisServer::start().unwrap();
    let a = node(&server, "metrics-a").await;
    assert_eq!(value("cinder_redis_up"), 1.0);

    let mut room = Inbox::new();
    a.subscribe_with_gaps("room", room.sink(), room.gaps());
    within(a.flush()).await.unwrap();
    let publishes = value("cinder_pubsub_publishes_total");
    let deliveries = value("cinder_pubsub_deliveries_total");
    a.try_publish("room", json!("hello")).unwrap();
    assert_eq!(
        room.next().await,
        Event::Message("room".into(), json!("hello"))
    );
    assert_eq!(value("cinder_pubsub_publishes_total"), publishes + 1.0);
    assert!(value("cinder_pubsub_deliveries_total") >= deliveries + 1.0);

    server.kill();
    let mut health = a.watch_health();
    within(health.wait_for(|h| h.publisher == LinkState::Down))
        .await
        .unwrap();
    assert_eq!(value("cinder_redis_up"), 0.0);
    let failures = value("cinder_pubsub_publish_failures_total");
    assert!(a.try_publish("room", json!("lost")).is_err());
    assert_eq!(
        value("cinder_pubsub_publish_failures_total"),
        failures + 1.0
    );
    // Delivered here all the same: this node's own subscribers miss nothing.
    assert_eq!(
        room.next().await,
        Event::Message("room".into(), json!("lost"))
    );

    let gaps = value(r#"cinder_pubsub_gaps_total{cause="reconnected"}"#);
    server.restart().unwrap();
    assert_eq!(
        room.next().await,
        Event::Gap("room".into(), GapCause::Reconnected)
    );
    assert_eq!(
        value(r#"cinder_pubsub_gaps_total{cause="reconnected"}"#),
        gaps + 1.0
    );
    within(a.ready()).await;
    assert_eq!(value("cinder_redis_up"), 1.0);
}

#[tokio::test]
async fn redis_up_follows_a_member_watcher() {
    harness::logs();
    cinder_telemetry::prometheus();
    let mut server = RedisServer::start().unwrap();
    let members = Members::watch(
        &server.url(),
        DEFAULT_PREFIX,
        Duration::from_millis(20),
        b"metrics test secret, of 32 bytes",
    )
    .unwrap();
    let mut health = members.watch_health();
    within(health.wait_for(|h| *h == LinkState::Up))
        .await
        .unwrap();
    assert_eq!(value("cinder_redis_up"), 1.0);

    server.kill();
    within(health.wait_for(|h| *h == LinkState::Down))
        .await
        .unwrap();
    assert_eq!(value("cinder_redis_up"), 0.0);
}
