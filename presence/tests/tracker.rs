//! `Tracker` end to end: two nodes' trackers replicating over a real pubsub, first one
//! shared in-process `Local`, then two Redis backends on a real `redis-server` that is
//! killed and restarted. Tests wait for conditions with deadlines, never for a time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use cinder_test_support::redis as harness;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use cinder_presence::{
    ClientPresence, Config, DELIVERY_BATCH, SessionId, Tracker, TrackerOptions, shard_for,
};
use cinder_pubsub::{Local, PubSub, Redis};
use harness::{Event, Inbox, RedisServer, within};
use serde_json::{Map, Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

const LOBBY: &str = "room:lobby";

/// Phoenix's rules at a test's pace: a heartbeat every 50 ms, an idle one every 200 ms.
fn config(down_period_ms: u64) -> Config {
    Config {
        broadcast_period_ms: 50,
        max_silent_periods: 3,
        down_period_ms,
        permdown_period_ms: down_period_ms * 4,
        ..Config::default()
    }
}

fn start(
    pubsub: Arc<dyn PubSub>,
    node: &str,
    config: Config,
    link: Option<watch::Receiver<bool>>,
) -> Tracker {
    let mut options = TrackerOptions::new(node);
    options.config = config;
    options.link = link;
    Tracker::start(pubsub, options).unwrap()
}

/// Starts `a` and `b` on one in-process pubsub, with a down period of 500 ms.
fn local_pair() -> (Tracker, Tracker) {
    let pubsub: Arc<dyn PubSub> = Arc::new(Local::new());
    let a = start(pubsub.clone(), "a", config(500), None);
    let b = start(pubsub, "b", config(500), None);
    (a, b)
}

fn meta(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn keys(tracker: &Tracker, topic: &str) -> BTreeSet<String> {
    tracker
        .list(topic)
        .iter()
        .map(|(key, _)| key.to_owned())
        .collect()
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

/// Polls `condition` until it holds, failing the test after the harness's step limit.
async fn until(mut condition: impl FnMut() -> bool) {
    within(async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// A presence_diff's joined and left keys.
#[derive(Debug, PartialEq, Eq)]
struct Keys {
    joins: BTreeSet<String>,
    leaves: BTreeSet<String>,
}

fn diff_keys(topic: &str, event: &Event) -> Keys {
    let Event::Message(on, message) = event else {
        panic!("not a message: {event:?}");
    };
    assert_eq!(on, topic);
    assert_eq!(message["event"], "presence_diff");
    let side = |name: &str| {
        message["payload"][name]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    Keys {
        joins: side("joins"),
        leaves: side("leaves"),
    }
}

fn joined(keys: &[&str]) -> Keys {
    Keys {
        joins: set(keys),
        leaves: BTreeSet::new(),
    }
}

fn left(keys: &[&str]) -> Keys {
    Keys {
        joins: BTreeSet::new(),
        leaves: set(keys),
    }
}

/// The next diff in `inbox`, which a local change delivers within one batch.
async fn waiting(inbox: &mut Inbox, topic: &str) -> Keys {
    let event = tokio::time::timeout(DELIVERY_BATCH * 4, inbox.next())
        .await
        .expect("the local diff was not delivered within a batch");
    diff_keys(topic, &event)
}

/// Every event so far, without waiting.
fn drain(inbox: &mut Inbox) -> Vec<Event> {
    std::iter::from_fn(|| now_or_never(inbox.next())).collect()
}

/// Polls `future` once, outside tokio's cooperative budget (which could make a ready
/// channel look empty).
fn now_or_never<T>(future: impl Future<Output = T>) -> Option<T> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut future = std::pin::pin!(tokio::task::unconstrained(future));
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(value) => Some(value),
        std::task::Poll::Pending => None,
    }
}

#[tokio::test]
async fn a_track_replicates_and_untrack_session_leaves_on_both() {
    let (a, b) = local_pair();
    let mut on_a = Inbox::new();
    let mut on_b = Inbox::new();
    a.subscribe(LOBBY, on_a.sink());
    b.subscribe(LOBBY, on_b.sink());

    a.track(
        SessionId(1),
        LOBBY,
        "alice",
        meta(json!({"status": "online"})),
    )
    .unwrap();
    assert_eq!(waiting(&mut on_a, LOBBY).await, joined(&["alice"]));
    let join = on_b.next().await;
    assert_eq!(diff_keys(LOBBY, &join), joined(&["alice"]));
    let Event::Message(_, message) = &join else {
        unreachable!()
    };
    let alice = &message["payload"]["joins"]["alice"]["metas"][0];
    assert_eq!(alice["status"], "online");
    assert_eq!(
        alice["phx_ref"],
        a.list(LOBBY).to_json()["alice"]["metas"][0]["phx_ref"]
    );
    assert_eq!(keys(&b, LOBBY), set(&["alice"]));

    // The same session on a topic of another shard: untrack_session covers every shard.
    let pool = TrackerOptions::new("x").pool_size;
    let other = (0..)
        .map(|i| format!("room:{i}"))
        .find(|t| shard_for(t, pool) != shard_for(LOBBY, pool))
        .unwrap();
    a.track(SessionId(1), &other, "alice", Map::new()).unwrap();
    until(|| keys(&b, &other) == set(&["alice"])).await;

    a.untrack_session(SessionId(1));
    assert_eq!(waiting(&mut on_a, LOBBY).await, left(&["alice"]));
    assert_eq!(diff_keys(LOBBY, &on_b.next().await), left(&["alice"]));
    assert!(a.list(LOBBY).is_empty() && a.list(&other).is_empty());
    until(|| b.list(LOBBY).is_empty() && b.list(&other).is_empty()).await;
    on_a.assert_empty();
    on_b.assert_empty();
}

#[tokio::test]
async fn a_tracker_dropped_without_leave_leaves_after_the_down_period() {
    let (a, b) = local_pair();
    let mut on_b = Inbox::new();
    b.subscribe(LOBBY, on_b.sink());
    a.track(SessionId(1), LOBBY, "alice", Map::new()).unwrap();
    assert_eq!(diff_keys(LOBBY, &on_b.next().await), joined(&["alice"]));

    let dropped = Instant::now();
    drop(a);
    assert_eq!(diff_keys(LOBBY, &on_b.next().await), left(&["alice"]));
    // Silence, not a goodbye: at least the down period minus one idle-heartbeat gap.
    assert!(
        dropped.elapsed() >= Duration::from_millis(500 - 200),
        "{:?}",
        dropped.elapsed()
    );
    assert!(b.list(LOBBY).is_empty());
}

#[tokio::test]
async fn leave_is_seen_by_peers_at_once() {
    let (a, b) = local_pair();
    let mut on_b = Inbox::new();
    b.subscribe(LOBBY, on_b.sink());
    a.track(SessionId(1), LOBBY, "alice", Map::new()).unwrap();
    assert_eq!(diff_keys(LOBBY, &on_b.next().await), joined(&["alice"]));

    let leaving = Instant::now();
    a.leave().await;
    assert_eq!(diff_keys(LOBBY, &on_b.next().await), left(&["alice"]));
    assert!(
        leaving.elapsed() < Duration::from_millis(250),
        "{:?}",
        leaving.elapsed()
    );
    assert!(b.list(LOBBY).is_empty());
    // A second leave is a no-op.
    a.leave().await;
}

#[tokio::test]
async fn a_double_track_is_refused_and_an_update_replaces_the_meta() {
    let (a, b) = local_pair();
    a.track(
        SessionId(1),
        LOBBY,
        "alice",
        meta(json!({"status": "online"})),
    )
    .unwrap();
    assert!(a.track(SessionId(1), LOBBY, "alice", Map::new()).is_err());
    assert!(a.update(SessionId(2), LOBBY, "alice", Map::new()).is_err());
    a.update(
        SessionId(1),
        LOBBY,
        "alice",
        meta(json!({"status": "away"})),
    )
    .unwrap();
    let status = |t: &Tracker| t.list(LOBBY).to_json()["alice"]["metas"][0]["status"].clone();
    until(|| status(&b) == json!("away")).await;
    assert_eq!(b.list(LOBBY), a.list(LOBBY));
}

#[test]
fn start_outside_a_runtime_is_refused() {
    let pubsub: Arc<dyn PubSub> = Arc::new(Local::new());
    let error = Tracker::start(pubsub, TrackerOptions::new("a")).unwrap_err();
    assert_eq!(error, cinder_presence::Error::NoRuntime);
}

// === over Redis ===

/// The backend's health as the tracker's link: up while both connections are.
fn link(redis: &Redis) -> watch::Receiver<bool> {
    let mut health = redis.watch_health();
    let (tx, rx) = watch::channel(health.borrow_and_update().is_up());
    tokio::spawn(async move {
        while health.changed().await.is_ok() {
            let up = health.borrow_and_update().is_up();
            if tx.send(up).is_err() {
                break;
            }
        }
    });
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_shorter_than_the_down_period_causes_no_leaves() {
    harness::logs();
    const DOWN_MS: u64 = 2_000;
    let mut server = RedisServer::start().unwrap();
    let redis_a = harness::node(&server, "a").await;
    let redis_b = harness::node(&server, "b").await;
    let a = start(redis_a.clone(), "a", config(DOWN_MS), Some(link(&redis_a)));
    let b = start(redis_b.clone(), "b", config(DOWN_MS), Some(link(&redis_b)));
    let mut on_a = Inbox::new();
    let mut on_b = Inbox::new();
    a.subscribe(LOBBY, on_a.sink());
    b.subscribe(LOBBY, on_b.sink());

    a.track(SessionId(1), LOBBY, "alice", Map::new()).unwrap();
    b.track(SessionId(1), LOBBY, "bob", Map::new()).unwrap();
    until(|| keys(&a, LOBBY) == set(&["alice", "bob"]) && keys(&b, LOBBY) == keys(&a, LOBBY)).await;
    assert_eq!(a.list(LOBBY), b.list(LOBBY));

    let outage = Instant::now();
    server.kill();
    for redis in [&redis_a, &redis_b] {
        within(redis.watch_health().wait_for(|h| !h.is_up()))
            .await
            .unwrap();
    }
    // A session tracks during the outage, and a few broadcast periods go by.
    a.track(SessionId(3), LOBBY, "erin", Map::new()).unwrap();
    until(|| outage.elapsed() > Duration::from_millis(300)).await;
    server.restart().unwrap();
    within(redis_a.ready()).await;
    within(redis_b.ready()).await;
    assert!(outage.elapsed() < Duration::from_millis(DOWN_MS));

    // New presences replicate over the new server, and so does the one from the outage.
    a.track(SessionId(2), LOBBY, "carol", Map::new()).unwrap();
    b.track(SessionId(2), LOBBY, "dave", Map::new()).unwrap();
    let everyone = set(&["alice", "bob", "carol", "dave", "erin"]);
    until(|| keys(&a, LOBBY) == everyone && keys(&b, LOBBY) == everyone).await;
    assert_eq!(a.list(LOBBY), b.list(LOBBY));

    // Nobody was declared down, even once the down period since the outage has passed.
    until(|| outage.elapsed() > Duration::from_millis(DOWN_MS + 500)).await;
    assert_eq!(keys(&a, LOBBY), everyone);
    assert_eq!(a.list(LOBBY), b.list(LOBBY));
    for (node, inbox) in [("a", &mut on_a), ("b", &mut on_b)] {
        for event in drain(inbox) {
            let diff = diff_keys(LOBBY, &event);
            assert!(diff.leaves.is_empty(), "{node} saw a leave: {diff:?}");
        }
    }

    a.leave().await;
    until(|| keys(&b, LOBBY) == set(&["bob", "dave"])).await;
    b.leave().await;
}

#[tokio::test]
async fn a_burst_of_joins_reaches_a_subscriber_as_one_diff() {
    let (a, b) = local_pair();
    let mut on_a = Inbox::new();
    let mut on_b = Inbox::new();
    a.subscribe(LOBBY, on_a.sink());
    b.subscribe(LOBBY, on_b.sink());
    let names: Vec<String> = (0..100).map(|i| format!("user{i:03}")).collect();
    for (i, name) in names.iter().enumerate() {
        a.track(SessionId(i as u64), LOBBY, name, Map::new())
            .unwrap();
    }
    // Here and on the peer, the 100 joins come in one diff (two if a batch or a
    // heartbeat boundary falls inside the burst), never one per join.
    for inbox in [&mut on_a, &mut on_b] {
        let mut seen = BTreeSet::new();
        let mut diffs = 0;
        while seen.len() < names.len() {
            let keys = waiting(inbox, LOBBY).await;
            assert!(keys.leaves.is_empty());
            seen.extend(keys.joins);
            diffs += 1;
        }
        assert!(diffs <= 2, "100 joins came in {diffs} diffs");
    }
    tokio::time::sleep(DELIVERY_BATCH * 2).await;
    assert!(drain(&mut on_a).is_empty() && drain(&mut on_b).is_empty());
}

/// What a client holding every message `inbox` got so far shows: the state first, then
/// each diff applied.
fn client_view(inbox: &mut Inbox) -> ClientPresence {
    let mut client = ClientPresence::new();
    for event in drain(inbox) {
        let Event::Message(_, message) = event else {
            panic!("a gap: {event:?}");
        };
        match message["event"].as_str() {
            Some("presence_state") => {
                client.sync_state(&message["payload"]);
            }
            Some("presence_diff") => client.sync_diff(&message["payload"]),
            other => panic!("unexpected {other:?}"),
        }
    }
    client
}

#[tokio::test]
async fn a_subscriber_joining_while_diffs_gather_misses_nothing() {
    let (a, _b) = local_pair();
    // alice joins and, in the same delivery window, bob subscribes; then alice leaves
    // before the window closes. The coalesced diff cancels her join and leave, so the
    // state bob got must not list her.
    a.track(SessionId(1), LOBBY, "alice", Map::new()).unwrap();
    let mut late = Inbox::new();
    a.subscribe_with_state(LOBBY, late.sink());
    // Subscribed after `late`, so offered each diff after it: its diff says late has it.
    let mut after = Inbox::new();
    a.subscribe(LOBBY, after.sink());
    a.untrack(SessionId(1), LOBBY, "alice");
    // carol joins in the window too and stays: the diff must bring her.
    a.track(SessionId(2), LOBBY, "carol", Map::new()).unwrap();
    assert_eq!(waiting(&mut after, LOBBY).await.joins, set(&["carol"]));
    let client = client_view(&mut late);
    assert_eq!(client.to_json(), a.list(LOBBY).to_json());
    assert_eq!(client.state().keys().collect::<Vec<_>>(), ["carol"]);
}

#[tokio::test]
async fn the_delivered_state_is_what_the_next_diff_applies_to() {
    let (a, _b) = local_pair();
    let mut first = Inbox::new();
    a.subscribe_with_state(LOBBY, first.sink());
    // Subscribed after `first`, so offered each diff after it: its diff says the diff is out.
    let mut after = Inbox::new();
    a.subscribe(LOBBY, after.sink());
    a.track(SessionId(1), LOBBY, "alice", Map::new()).unwrap();
    // Within the window the delivered state is still without alice…
    assert_eq!(a.delivered_state(LOBBY).payload["payload"], json!({}));
    // …and once the diff is out, with her.
    assert_eq!(waiting(&mut after, LOBBY).await.joins, set(&["alice"]));
    assert_eq!(
        *a.delivered_state(LOBBY).payload,
        json!({"event": "presence_state", "payload": a.list(LOBBY).to_json()})
    );
    assert_eq!(client_view(&mut first).to_json(), a.list(LOBBY).to_json());
}

#[tokio::test]
async fn the_busiest_topics_are_ranked_and_bounded() {
    let (a, _b) = local_pair();
    for (topic, people) in [("quiet", 1), ("busy", 3), ("middling", 2), ("also-busy", 3)] {
        for i in 0..people {
            a.track(SessionId(i), topic, &format!("user-{i}"), Map::new())
                .unwrap();
        }
    }
    assert_eq!(
        a.busiest_topics(3),
        vec![
            ("also-busy".to_owned(), 3),
            ("busy".to_owned(), 3),
            ("middling".to_owned(), 2),
        ]
    );
    assert!(a.busiest_topics(0).is_empty());
}
