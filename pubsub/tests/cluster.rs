//! The Redis backend on a real Redis Cluster (three masters, three replicas, started by
//! the test with `redis-cli --cluster create`): topics travel on sharded pubsub, each
//! channel at the master that owns its slot; a master killed with -9 is replaced by its
//! replica, and the subscribers of its topics get a gap, then messages again; a slot
//! moved with `redis-cli --cluster reshard` while messages flow costs one gap, and no
//! message twice.
#![allow(clippy::unwrap_used, reason = "test code fails loudly")]

use std::sync::Arc;
use std::time::Duration;

use cinder_pubsub::{GapCause, LinkState, PubSub as _, Redis};
use cinder_test_support::redis as harness;
use cinder_test_support::redis_cluster::RedisCluster;
use harness::{Event, Inbox, within};
use serde_json::json;

async fn node(cluster: &RedisCluster, name: &str) -> Arc<Redis> {
    let redis = Redis::start(harness::config(&cluster.urls(), name)).unwrap();
    within(redis.ready()).await;
    Arc::new(redis)
}

/// Topics whose channels hash to different slots, so to all three masters.
fn topics() -> Vec<String> {
    (0..12).map(|n| format!("room:{n}")).collect()
}

#[tokio::test]
async fn topics_spread_over_the_shards_reach_the_other_node() {
    harness::logs();
    let cluster = RedisCluster::start().unwrap();
    let a = node(&cluster, "node-a").await;
    let b = node(&cluster, "node-b").await;
    let masters: std::collections::HashSet<usize> = topics()
        .iter()
        .map(|t| cluster.master_of(&a.topic_channel(t)).unwrap())
        .collect();
    assert_eq!(masters.len(), 3, "the topics should cover every master");

    let mut inboxes = Vec::new();
    for topic in topics() {
        let inbox = Inbox::new();
        b.subscribe(&topic, inbox.sink());
        inboxes.push(inbox);
    }
    within(b.flush()).await.unwrap();
    for (n, topic) in topics().iter().enumerate() {
        a.try_publish(topic, json!({"n": n})).unwrap();
    }
    for (n, (topic, inbox)) in topics().iter().zip(&mut inboxes).enumerate() {
        assert_eq!(
            inbox.next().await,
            Event::Message(topic.clone(), json!({"n": n}))
        );
    }

    // The node-direct channel is sharded too.
    let mut direct = Inbox::new();
    b.subscribe("direct:1", direct.sink());
    within(b.flush()).await.unwrap();
    a.send_to("node-b", "direct:1", json!({"to": "b"})).unwrap();
    assert_eq!(
        direct.next().await,
        Event::Message("direct:1".into(), json!({"to": "b"}))
    );
    // Sharded: a plain PUBSUB CHANNELS sees none of them.
    assert!(
        cluster.servers()[0]
            .channels("cinder:*")
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_killed_master_gives_a_gap_then_messages_again() {
    harness::logs();
    let mut cluster = RedisCluster::start().unwrap();
    let a = node(&cluster, "node-a").await;
    let b = node(&cluster, "node-b").await;
    let topic = "room:failover";
    let mut inbox = Inbox::new();
    b.subscribe_with_gaps(topic, inbox.sink(), inbox.gaps());
    within(b.flush()).await.unwrap();
    a.try_publish(topic, json!({"n": 0})).unwrap();
    assert_eq!(
        inbox.next().await,
        Event::Message(topic.into(), json!({"n": 0}))
    );

    let master = cluster.master_of(&a.topic_channel(topic)).unwrap();
    cluster.kill(master);
    let mut health = b.watch_health();
    within(health.wait_for(|h| h.subscriber == LinkState::Down))
        .await
        .unwrap();
    // The replica takes over (node timeout 1 s); the subscriber comes back with a gap.
    tokio::time::timeout(Duration::from_secs(30), health.wait_for(|h| h.is_up()))
        .await
        .expect("the subscriber never came back after the failover")
        .unwrap();
    assert_eq!(
        inbox.next().await,
        Event::Gap(topic.into(), GapCause::Reconnected)
    );
    // Publishes reach it again once the publisher follows the new master too.
    let mut n = 1;
    loop {
        let _ = a.publish_confirmed(topic, json!({"n": n})).await;
        match tokio::time::timeout(Duration::from_millis(500), async { inbox.next().await }).await {
            Ok(Event::Message(_, payload)) => {
                assert_eq!(payload, json!({"n": n}));
                break;
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) if n < 40 => n += 1,
            Err(_) => panic!("no message after the failover"),
        }
    }
}

#[tokio::test]
async fn a_slot_moved_while_messages_flow_loses_nothing_without_a_gap() {
    harness::logs();
    let cluster = RedisCluster::start().unwrap();
    let a = node(&cluster, "node-a").await;
    let b = node(&cluster, "node-b").await;
    let topic = "room:reshard";
    let mut inbox = Inbox::new();
    b.subscribe_with_gaps(topic, inbox.sink(), inbox.gaps());
    within(b.flush()).await.unwrap();

    let channel = a.topic_channel(topic);
    let from = cluster.master_of(&channel).unwrap();
    // `redis-cli --cluster create` makes the first three servers the masters.
    let to = (0..3).find(|&i| i != from).unwrap();
    let publisher = {
        let a = a.clone();
        tokio::spawn(async move {
            for n in 0..200u64 {
                let _ = a.publish_confirmed(topic, json!({"n": n})).await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.reshard_slot_of(&channel, to).unwrap();
    assert_eq!(cluster.master_of(&channel).unwrap(), to);
    publisher.await.unwrap();

    // In order, never twice; a hole only after a gap.
    let mut last: Option<u64> = None;
    let mut gapped = false;
    let mut gaps = 0;
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(3), async { inbox.next().await }).await;
        match event {
            Ok(Event::Message(_, payload)) => {
                let n = payload["n"].as_u64().unwrap();
                if let Some(last) = last {
                    assert!(
                        n > last,
                        "{n} after {last}: delivered twice or out of order"
                    );
                    assert!(
                        n == last + 1 || gapped,
                        "{} to {n} lost without a gap",
                        last + 1
                    );
                }
                last = Some(n);
                gapped = false;
                if n == 199 {
                    break;
                }
            }
            Ok(Event::Gap(_, cause)) => {
                assert_eq!(cause, GapCause::Reconnected);
                gapped = true;
                gaps += 1;
            }
            Err(_) => panic!("the messages stopped at {last:?}"),
        }
    }
    assert_eq!(gaps, 1, "one moved slot, one gap");
}

#[tokio::test]
async fn members_register_and_leave_on_a_cluster() {
    use cinder_pubsub::membership::{DEFAULT_PREFIX, Members, Registration};
    harness::logs();
    let cluster = RedisCluster::start().unwrap();
    let secret = b"cluster membership secret, 32 bytes";
    let ttl = Duration::from_secs(2);
    let urls = cluster.urls();
    let one =
        Registration::start(&urls, DEFAULT_PREFIX, "node-1", "10.0.0.1:1", ttl, secret).unwrap();
    let two =
        Registration::start(&urls, DEFAULT_PREFIX, "node-2", "10.0.0.2:1", ttl, secret).unwrap();
    let members = Members::watch(&urls, DEFAULT_PREFIX, Duration::from_millis(50), secret).unwrap();
    let mut changes = members.subscribe();
    within(changes.wait_for(|m| m.len() == 2)).await.unwrap();
    assert_eq!(
        changes.borrow().get("node-2").map(String::as_str),
        Some("10.0.0.2:1")
    );
    // The keys share one slot (a hash tag), so the set's MGET is one command.
    let slot = |key: &str| {
        cluster.servers()[0]
            .command(&[b"CLUSTER", b"KEYSLOT", key.as_bytes()])
            .unwrap()
    };
    assert_eq!(slot("{cinder}:members"), slot("{cinder}:member:node-1"));
    two.leave().await.unwrap();
    within(changes.wait_for(|m| m.len() == 1 && m.contains_key("node-1")))
        .await
        .unwrap();
    drop(one);
}
