//! Redis killed and restarted on the same port: each node reconnects, resubscribes every
//! topic it has subscribers for (including one subscribed during the outage), raises a gap
//! on each of those topics, and messages flow again.

use cinder_test_support::redis as harness;

use cinder_pubsub::{GapCause, LinkState, PubSub as _};
use harness::{Event, Inbox, RedisServer, node, within};
use serde_json::json;

fn gap(topic: &str) -> Event {
    Event::Gap(topic.into(), GapCause::Reconnected)
}

#[tokio::test]
async fn subscriptions_come_back_with_a_gap_after_a_redis_restart() {
    harness::logs();
    let mut server = RedisServer::start().unwrap();
    let a = node(&server, "node-a").await;
    let b = node(&server, "node-b").await;

    let mut room1 = Inbox::new();
    let mut room2 = Inbox::new();
    let mut on_b = Inbox::new();
    a.subscribe_with_gaps("room:1", room1.sink(), room1.gaps());
    a.subscribe_with_gaps("room:2", room2.sink(), room2.gaps());
    b.subscribe_with_gaps("room:b", on_b.sink(), on_b.gaps());
    // Subscribed and left again: not affected by the outage.
    let left = a.subscribe("left", Inbox::new().sink());
    a.unsubscribe("left", left);
    within(a.flush()).await.unwrap();
    within(b.flush()).await.unwrap();

    server.kill();
    for backend in [&a, &b] {
        let mut health = backend.watch_health();
        within(health.wait_for(|h| h.subscriber == LinkState::Down))
            .await
            .unwrap();
    }
    // A view mounting during the outage.
    let mut room3 = Inbox::new();
    a.subscribe_with_gaps("room:3", room3.sink(), room3.gaps());

    server.restart().unwrap();

    // The gap comes once the topic is subscribed again.
    assert_eq!(room1.next().await, gap("room:1"));
    assert_eq!(room2.next().await, gap("room:2"));
    assert_eq!(room3.next().await, gap("room:3"));
    assert_eq!(on_b.next().await, gap("room:b"));
    assert_eq!(
        server.channels("cinder:*").unwrap(),
        [
            "cinder:node:node-a",
            "cinder:node:node-b",
            "cinder:topic:room:1",
            "cinder:topic:room:2",
            "cinder:topic:room:3",
            "cinder:topic:room:b",
        ]
    );

    within(a.ready()).await;
    within(b.ready()).await;
    b.try_publish("room:1", json!("after")).unwrap();
    assert_eq!(
        room1.next().await,
        Event::Message("room:1".into(), json!("after"))
    );
    a.try_publish("room:b", json!("back")).unwrap();
    assert_eq!(
        on_b.next().await,
        Event::Message("room:b".into(), json!("back"))
    );

    for inbox in [&mut room1, &mut room2, &mut room3, &mut on_b] {
        inbox.assert_empty();
    }
    let stats = a.stats();
    assert_eq!((stats.reconnects, stats.gaps), (1, 3));
}
