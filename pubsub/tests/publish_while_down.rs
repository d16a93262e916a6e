//! A dead Redis never blocks a publisher: the publish fails at once with an error (and is
//! counted), while this node's own subscribers still get the message.

use cinder_test_support::redis as harness;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use cinder_pubsub::{Error, LinkState, PubSub as _, Redis};
use harness::{Event, Inbox, RedisServer, node, within};
use serde_json::json;

/// Far above what a non-blocking call takes, far below one connect timeout per call.
const NEVER_BLOCKED: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_publish_while_redis_is_down_fails_at_once() {
    harness::logs();
    let mut server = RedisServer::start().unwrap();
    let a = node(&server, "node-a").await;
    let mut local = Inbox::new();
    a.subscribe("t", local.sink());
    within(a.flush()).await.unwrap();

    server.kill();
    let mut health = a.watch_health();
    within(health.wait_for(|h| h.publisher == LinkState::Down && h.subscriber == LinkState::Down))
        .await
        .unwrap();

    let started = Instant::now();
    for i in 0..1000 {
        assert_eq!(a.try_publish("t", json!(i)), Err(Error::Unavailable));
    }
    assert!(
        started.elapsed() < NEVER_BLOCKED,
        "took {:?}",
        started.elapsed()
    );
    // The infallible form reports the local delivery only.
    assert_eq!(a.publish("t", json!(1000)), 1);
    assert_eq!(
        within(a.publish_confirmed("t", json!(1001))).await,
        Err(Error::Unavailable)
    );

    for i in 0..=1001 {
        assert_eq!(local.next().await, Event::Message("t".into(), json!(i)));
    }
    assert_eq!(a.stats().publish_failed, 1002);
}

#[tokio::test]
async fn a_redis_that_never_answers_does_not_block_publishers() {
    // The kernel completes TCP handshakes on this listener's backlog, but nothing ever
    // reads or answers: a hung Redis.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", silent.local_addr().unwrap());
    let mut config = harness::config(&url, "node-a");
    config.publish_queue = 16;
    let a = Redis::start(config).unwrap();

    let started = Instant::now();
    let results: Vec<_> = (0..100).map(|i| a.try_publish("t", json!(i))).collect();
    assert!(
        started.elapsed() < NEVER_BLOCKED,
        "took {:?}",
        started.elapsed()
    );
    // The bounded queue took what it could; the rest was refused, not buffered.
    let full = results
        .iter()
        .filter(|r| **r == Err(Error::QueueFull))
        .count();
    assert!(full >= 100 - 2 * 16, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(0) | Err(Error::QueueFull))),
        "{results:?}"
    );

    // Once the connect (or the first PUBLISH) times out, publishes fail as Unavailable
    // and what was queued is dropped and counted.
    let mut health = a.watch_health();
    within(health.wait_for(|h| h.publisher == LinkState::Down))
        .await
        .unwrap();
    assert_eq!(a.try_publish("t", json!(0)), Err(Error::Unavailable));
    drop(silent);
}
