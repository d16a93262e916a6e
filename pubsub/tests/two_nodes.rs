//! Two nodes (two backends in one process) on one Redis see each other's messages; each
//! node's own subscribers get its publishes once, at publish time, not again as an echo.

use cinder_test_support::redis as harness;

use cinder_pubsub::PubSub as _;
use harness::{Event, Inbox, RedisServer, node, within};
use serde_json::json;

#[tokio::test]
async fn two_nodes_see_each_others_messages() {
    harness::logs();
    let server = RedisServer::start().unwrap();
    let a = node(&server, "node-a").await;
    let b = node(&server, "node-b").await;

    let mut on_a = Inbox::new();
    let mut on_b = Inbox::new();
    a.subscribe("room:1", on_a.sink());
    b.subscribe("room:1", on_b.sink());
    within(a.flush()).await.unwrap();
    within(b.flush()).await.unwrap();

    // Local delivery happens inside `publish`: it returns the local count.
    assert_eq!(a.try_publish("room:1", json!({"n": 1})).unwrap(), 1);
    assert_eq!(
        on_a.next().await,
        Event::Message("room:1".into(), json!({"n": 1}))
    );
    assert_eq!(
        on_b.next().await,
        Event::Message("room:1".into(), json!({"n": 1}))
    );

    assert_eq!(b.try_publish("room:1", json!({"n": 2})).unwrap(), 1);
    assert_eq!(
        on_b.next().await,
        Event::Message("room:1".into(), json!({"n": 2}))
    );
    assert_eq!(
        on_a.next().await,
        Event::Message("room:1".into(), json!({"n": 2}))
    );

    // A's echo of message 1 was dropped: had it been delivered, it would have come
    // before message 2 on A (one Redis connection delivers in order).
    on_a.assert_empty();
    on_b.assert_empty();
    assert_eq!(a.stats().delivered, 1);
    assert_eq!(b.stats().delivered, 1);
}

#[tokio::test]
async fn a_node_only_receives_topics_it_subscribed() {
    let server = RedisServer::start().unwrap();
    let a = node(&server, "node-a").await;
    let b = node(&server, "node-b").await;
    let mut on_b = Inbox::new();
    b.subscribe("wanted", on_b.sink());
    within(b.flush()).await.unwrap();

    // Redis counts the connections it delivered to: only B's, and only for its topic.
    assert_eq!(
        within(a.publish_confirmed("unwanted", json!(0))).await,
        Ok(0)
    );
    assert_eq!(within(a.publish_confirmed("wanted", json!(1))).await, Ok(1));
    assert_eq!(on_b.next().await, Event::Message("wanted".into(), json!(1)));
    on_b.assert_empty();
}
