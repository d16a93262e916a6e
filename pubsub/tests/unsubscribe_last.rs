//! The last local subscriber leaving, by `unsubscribe` or by its sink reporting `Gone`,
//! unsubscribes the node from the topic's Redis channel.

use cinder_test_support::redis as harness;

use cinder_pubsub::{Delivery, PubSub as _};
use harness::{Event, Inbox, RedisServer, node, within};
use serde_json::json;

#[tokio::test]
async fn unsubscribing_the_last_subscriber_unsubscribes_the_node() {
    let server = RedisServer::start().unwrap();
    let a = node(&server, "node-a").await;
    let first = a.subscribe("t", Box::new(|_| Delivery::Delivered));
    let second = a.subscribe("t", Box::new(|_| Delivery::Delivered));
    within(a.flush()).await.unwrap();
    assert_eq!(server.numsub("cinder:topic:t").unwrap(), 1);

    a.unsubscribe("t", first);
    within(a.flush()).await.unwrap();
    assert_eq!(server.numsub("cinder:topic:t").unwrap(), 1);

    a.unsubscribe("t", second);
    within(a.flush()).await.unwrap();
    assert_eq!(server.numsub("cinder:topic:t").unwrap(), 0);
    assert_eq!(
        server.channels("cinder:topic:*").unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_gone_last_subscriber_unsubscribes_the_node() {
    let server = RedisServer::start().unwrap();
    let a = node(&server, "node-a").await;
    let b = node(&server, "node-b").await;
    // A session that ended: its sink reports Gone on the next message.
    a.subscribe("t", Box::new(|_| Delivery::Gone));
    let mut marker = Inbox::new();
    a.subscribe("marker", marker.sink());
    within(a.flush()).await.unwrap();
    assert_eq!(server.numsub("cinder:topic:t").unwrap(), 1);

    // B's message reaches A, whose only sink for `t` is gone. A handles received
    // messages in order, so once the marker is in, the sink has been removed.
    b.publish("t", json!(1));
    b.publish("marker", json!(2));
    assert_eq!(
        marker.next().await,
        Event::Message("marker".into(), json!(2))
    );
    assert_eq!(a.subscribers("t"), 0);
    within(a.flush()).await.unwrap();
    assert_eq!(server.numsub("cinder:topic:t").unwrap(), 0);
}
