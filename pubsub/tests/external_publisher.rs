//! A service outside Cinder publishes with a plain `PUBLISH` of a version-1 envelope, on a
//! topic's channel or on a node's direct channel, and the subscribers get the payload.

use cinder_test_support::redis as harness;

use cinder_pubsub::PubSub as _;
use harness::{Event, Inbox, RedisServer, node, within};
use serde_json::json;

#[tokio::test]
async fn an_envelope_from_an_external_publisher_reaches_subscribers() {
    harness::logs();
    let server = RedisServer::start().unwrap();
    let a = node(&server, "node-a").await;
    let b = node(&server, "node-b").await;
    let mut on_a = Inbox::new();
    let mut on_b = Inbox::new();
    a.subscribe("news", on_a.sink());
    b.subscribe("news", on_b.sink());
    within(a.flush()).await.unwrap();
    within(b.flush()).await.unwrap();

    // The minimal envelope: version and payload. Both nodes' connections receive it.
    let minimal = br#"{"v":1,"payload":{"headline":"hello"}}"#;
    assert_eq!(server.publish("cinder:topic:news", minimal).unwrap(), 2);
    let expected = Event::Message("news".into(), json!({"headline": "hello"}));
    assert_eq!(on_a.next().await, expected);
    assert_eq!(on_b.next().await, expected);

    // With the optional fields a service may fill in.
    let full = br#"{"v":1,"from":"billing","id":42,"payload":[1,2,3]}"#;
    server.publish("cinder:topic:news", full).unwrap();
    assert_eq!(
        on_a.next().await,
        Event::Message("news".into(), json!([1, 2, 3]))
    );
    assert_eq!(
        on_b.next().await,
        Event::Message("news".into(), json!([1, 2, 3]))
    );

    // To one node only, through its direct channel; the topic rides in the envelope.
    let direct = br#"{"v":1,"topic":"news","payload":"just a"}"#;
    assert_eq!(server.publish("cinder:node:node-a", direct).unwrap(), 1);
    assert_eq!(
        on_a.next().await,
        Event::Message("news".into(), json!("just a"))
    );

    // B saw nothing of the direct message: the next topic message is the next it gets.
    server
        .publish("cinder:topic:news", br#"{"v":1,"payload":"last"}"#)
        .unwrap();
    assert_eq!(
        on_b.next().await,
        Event::Message("news".into(), json!("last"))
    );
    assert_eq!(
        on_a.next().await,
        Event::Message("news".into(), json!("last"))
    );
}
