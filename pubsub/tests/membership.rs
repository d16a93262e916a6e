//! Cluster membership on a real Redis: registrations show up in a watcher with their
//! addresses, a drain removes its member at once, a dropped registration expires after its
//! TTL, across a Redis restart the watcher keeps its set while the registration comes
//! back, and a member not signed with the cluster secret is never believed.
#![allow(
    clippy::unwrap_used,
    reason = "the helpers below are test code: a failure is a failed test"
)]

use cinder_test_support::redis as harness;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cinder_pubsub::LinkState;
use cinder_pubsub::membership::{DEFAULT_PREFIX, MAX_MEMBERS, MemberKey, Members, Registration};
use harness::{RedisServer, Resp, STEP, within};

/// Watchers poll often, so that tests wait milliseconds for a change.
const POLL: Duration = Duration::from_millis(50);

/// Long enough that a key never expires under a live registration on a busy machine.
const TTL: Duration = Duration::from_secs(2);

/// The cluster secret members are signed with.
const SECRET: &[u8] = b"membership test secret, 32 bytes";

fn set(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, addr)| ((*name).to_owned(), (*addr).to_owned()))
        .collect()
}

fn register(server: &RedisServer, name: &str, addr: &str, ttl: Duration) -> Registration {
    Registration::start(&server.url(), DEFAULT_PREFIX, name, addr, ttl, SECRET).unwrap()
}

fn watch(server: &RedisServer) -> Members {
    Members::watch(&server.url(), DEFAULT_PREFIX, POLL, SECRET).unwrap()
}

/// Waits until the watcher shows exactly `expected`.
async fn until(members: &Members, expected: &BTreeMap<String, String>) {
    let mut changes = members.subscribe();
    within(changes.wait_for(|members| members == expected))
        .await
        .unwrap();
}

/// Waits until `check` holds, asking again every few milliseconds.
async fn eventually(mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + STEP;
    while !check() {
        assert!(Instant::now() < deadline, "the condition never held");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The address a member key holds: its value's last field (`v1.<expiry>.<tag>.<addr>`).
fn get(server: &RedisServer, key: &str) -> Resp {
    match server.command(&[b"GET", key.as_bytes()]).unwrap() {
        Resp::Bulk(Some(value)) => {
            let value = String::from_utf8(value).unwrap();
            let addr = value.splitn(4, '.').nth(3).unwrap_or_default();
            bulk(addr)
        }
        other => other,
    }
}

/// Adds `name` at `value` to the member set as any Redis client could.
fn write_member(server: &RedisServer, name: &str, value: &str) {
    let key = format!("cinder:member:{name}");
    server
        .command(&[b"SET", key.as_bytes(), value.as_bytes(), b"PX", b"60000"])
        .unwrap();
    server
        .command(&[b"SADD", b"cinder:members", name.as_bytes()])
        .unwrap();
}

fn is_member(server: &RedisServer, name: &str) -> bool {
    server
        .command(&[b"SISMEMBER", b"cinder:members", name.as_bytes()])
        .unwrap()
        == Resp::Int(1)
}

fn bulk(text: &str) -> Resp {
    Resp::Bulk(Some(text.as_bytes().to_vec()))
}

#[tokio::test]
async fn a_watcher_sees_every_registration_with_its_address() {
    harness::logs();
    let server = RedisServer::start().unwrap();
    let _a = register(&server, "node-a", "10.0.0.1:7100", TTL);
    let _b = register(&server, "node-b", "10.0.0.2:7100", TTL);
    let members = watch(&server);

    let both = set(&[("node-a", "10.0.0.1:7100"), ("node-b", "10.0.0.2:7100")]);
    until(&members, &both).await;
    assert_eq!(members.current(), both);
    assert_eq!(members.health(), LinkState::Up);

    // The keys operators read (docs/redis.md, Membership).
    assert_eq!(get(&server, "cinder:member:node-a"), bulk("10.0.0.1:7100"));
    let Resp::Int(pttl) = server.command(&[b"PTTL", b"cinder:member:node-a"]).unwrap() else {
        panic!("PTTL is an integer");
    };
    assert!(pttl > 0 && pttl <= 2000, "PTTL {pttl}");
    assert!(is_member(&server, "node-a") && is_member(&server, "node-b"));
}

#[tokio::test]
async fn a_member_that_leaves_is_gone_at_the_next_poll() {
    let server = RedisServer::start().unwrap();
    let a = register(&server, "node-a", "10.0.0.1:7100", TTL);
    let _b = register(&server, "node-b", "10.0.0.2:7100", TTL);
    let members = watch(&server);
    until(
        &members,
        &set(&[("node-a", "10.0.0.1:7100"), ("node-b", "10.0.0.2:7100")]),
    )
    .await;

    within(a.leave()).await.unwrap();
    // Removed from Redis before `leave` returned, not left to expire.
    assert_eq!(get(&server, "cinder:member:node-a"), Resp::Bulk(None));
    assert!(!is_member(&server, "node-a"));
    until(&members, &set(&[("node-b", "10.0.0.2:7100")])).await;
}

#[tokio::test]
async fn a_dropped_registration_expires_after_its_ttl() {
    let server = RedisServer::start().unwrap();
    let a = register(&server, "node-a", "10.0.0.1:7100", TTL);
    let members = watch(&server);
    until(&members, &set(&[("node-a", "10.0.0.1:7100")])).await;

    drop(a);
    // Nothing was removed: the heartbeat stopped, as for a killed node.
    assert_eq!(get(&server, "cinder:member:node-a"), bulk("10.0.0.1:7100"));
    until(&members, &BTreeMap::new()).await;
    // The watcher removed the expired name from the set.
    assert!(!is_member(&server, "node-a"));
}

#[tokio::test]
async fn the_set_survives_a_redis_restart_and_the_registration_comes_back() {
    harness::logs();
    let mut server = RedisServer::start().unwrap();
    let a = register(&server, "node-a", "10.0.0.1:7100", TTL);
    let members = watch(&server);
    let expected = set(&[("node-a", "10.0.0.1:7100")]);
    until(&members, &expected).await;

    // Every set the watcher publishes from now on.
    let published = Arc::new(Mutex::new(Vec::new()));
    let mut changes = members.subscribe();
    let record = published.clone();
    tokio::spawn(async move {
        while changes.changed().await.is_ok() {
            let members = changes.borrow_and_update().clone();
            record.lock().unwrap().push(members);
        }
    });

    let mut health = members.watch_health();
    server.kill();
    within(health.wait_for(|h| *h == LinkState::Down))
        .await
        .unwrap();
    assert_eq!(members.current(), expected, "the outage emptied the set");

    // A fresh, empty Redis on the same port: the registration writes itself back.
    server.restart().unwrap();
    eventually(|| get(&server, "cinder:member:node-a") == bulk("10.0.0.1:7100")).await;
    eventually(|| is_member(&server, "node-a")).await;
    within(health.wait_for(|h| *h == LinkState::Up))
        .await
        .unwrap();
    assert_eq!(members.current(), expected);

    // The watcher still follows Redis: a drain now is seen.
    within(a.leave()).await.unwrap();
    until(&members, &BTreeMap::new()).await;
    let published = published.lock().unwrap().clone();
    assert_eq!(
        published,
        [BTreeMap::new()],
        "the set changed before the drain"
    );
}

#[tokio::test]
async fn members_not_signed_with_the_cluster_secret_are_ignored() {
    harness::logs();
    let server = RedisServer::start().unwrap();
    // Written before the real member registers, so the read that finds it finds them too.
    write_member(&server, "plain", "10.6.6.6:7100");
    let far = u64::MAX / 2;
    let other = MemberKey::derive(b"another cluster's secret, 32 b..");
    write_member(
        &server,
        "other-secret",
        &other.sign("cinder", "other-secret", "10.6.6.7:7100", far),
    );
    let ours = MemberKey::derive(SECRET);
    let copied = ours.sign("cinder", "node-a", "10.6.6.8:7100", far);
    write_member(&server, "copied", &copied);
    let expired = ours.sign("cinder", "old", "10.6.6.9:7100", 1);
    write_member(&server, "old", &expired);
    let _a = register(&server, "node-a", "10.0.0.1:7100", TTL);
    let members = watch(&server);

    let only_a = set(&[("node-a", "10.0.0.1:7100")]);
    until(&members, &only_a).await;
    assert_eq!(members.current(), only_a);
    // Ignored, not removed: the set is not the watcher's to clean of live keys.
    assert!(is_member(&server, "plain") && is_member(&server, "copied"));
}

#[tokio::test]
async fn an_overfull_member_set_is_not_read_and_the_last_set_stays() {
    harness::logs();
    let server = RedisServer::start().unwrap();
    let _a = register(&server, "node-a", "10.0.0.1:7100", TTL);
    let members = watch(&server);
    let only_a = set(&[("node-a", "10.0.0.1:7100")]);
    until(&members, &only_a).await;

    // More names than a watcher reads, as anything with write access could add.
    let names: Vec<String> = (0..=MAX_MEMBERS).map(|i| format!("junk-{i}")).collect();
    let mut sadd: Vec<&[u8]> = vec![b"SADD", b"cinder:members"];
    sadd.extend(names.iter().map(String::as_bytes));
    server.command(&sadd).unwrap();

    let mut health = members.watch_health();
    within(health.wait_for(|state| *state == LinkState::Down))
        .await
        .unwrap();
    assert_eq!(members.current(), only_a);
}
