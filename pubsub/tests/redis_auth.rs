//! Redis with ACLs: a Redis whose `default` user is off and whose ACL user has a password
//! serves every part of the backend through `redis://user:password@host:port` (topics
//! between two nodes, and so presence, which rides on them; the member set), and a watcher
//! with a wrong password or none reports Redis down instead of reading anything.

use cinder_test_support::redis as harness;

use std::collections::BTreeMap;
use std::time::Duration;

use cinder_pubsub::membership::{DEFAULT_PREFIX, Members, Registration};
use cinder_pubsub::{LinkState, PubSub as _};
use harness::{Event, Inbox, RedisServer, node, within};
use serde_json::json;

const USER: &str = "cinder";
const PASSWORD: &str = "s3cret-redis-password";
const SECRET: &[u8] = b"redis auth test secret, 32 bytes";
const POLL: Duration = Duration::from_millis(50);

#[tokio::test]
async fn topics_and_members_go_through_an_acl_user() {
    harness::logs();
    let server = RedisServer::start_with_acl(USER, PASSWORD).unwrap();
    assert!(
        server
            .url()
            .starts_with(&format!("redis://{USER}:{PASSWORD}@"))
    );

    let a = node(&server, "node-a").await;
    let b = node(&server, "node-b").await;
    let mut on_b = Inbox::new();
    b.subscribe("room:1", on_b.sink());
    within(b.flush()).await.unwrap();
    a.try_publish("room:1", json!({"n": 1})).unwrap();
    assert_eq!(
        on_b.next().await,
        Event::Message("room:1".into(), json!({"n": 1}))
    );

    let _registration = Registration::start(
        &server.url(),
        DEFAULT_PREFIX,
        "node-a",
        "10.0.0.1:7100",
        Duration::from_secs(2),
        SECRET,
    )
    .unwrap();
    let members = Members::watch(&server.url(), DEFAULT_PREFIX, POLL, SECRET).unwrap();
    let expected = BTreeMap::from([("node-a".to_owned(), "10.0.0.1:7100".to_owned())]);
    within(members.subscribe().wait_for(|live| *live == expected))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_wrong_or_missing_password_reads_nothing() {
    harness::logs();
    let server = RedisServer::start_with_acl(USER, PASSWORD).unwrap();
    // A member is there to be read, by whoever may.
    server
        .command(&[b"SADD", b"cinder:members", b"node-a"])
        .unwrap();
    let wrong = format!("redis://{USER}:wrong@127.0.0.1:{}", server.port());
    let none = format!("redis://127.0.0.1:{}", server.port());
    for url in [wrong, none] {
        let members = Members::watch(&url, DEFAULT_PREFIX, POLL, SECRET).unwrap();
        let mut health = members.watch_health();
        within(health.wait_for(|state| *state == LinkState::Down))
            .await
            .unwrap();
        assert!(members.current().is_empty());
    }
}
