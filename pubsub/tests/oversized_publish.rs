//! A publish whose envelope is over `max_message_bytes` is refused to its publisher
//! (`Error::TooLarge`) and reaches nobody: not this node's subscribers, and not Redis,
//! where every other node would drop it on receipt.

use cinder_test_support::redis as harness;

use cinder_pubsub::{Error, PubSub as _, Redis};
use harness::{Event, Inbox, RedisServer, node, within};
use serde_json::json;

#[tokio::test]
async fn an_oversized_publish_is_an_error_for_its_publisher_and_reaches_nobody() {
    harness::logs();
    let server = RedisServer::start().unwrap();
    let mut config = harness::config(&server.url(), "node-a");
    config.max_message_bytes = 1024;
    let a = Redis::start(config).unwrap();
    within(a.ready()).await;
    let b = node(&server, "node-b").await;

    let mut on_a = Inbox::new();
    let mut on_b = Inbox::new();
    a.subscribe("t", on_a.sink());
    b.subscribe("t", on_b.sink());
    within(a.flush()).await.unwrap();
    within(b.flush()).await.unwrap();

    let large = json!("x".repeat(2000));
    match a.try_publish("t", large.clone()) {
        Err(Error::TooLarge { bytes, limit: 1024 }) => assert!(bytes > 2000),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(a.publish("t", large.clone()), 0);
    assert!(matches!(
        within(a.publish_confirmed("t", large)).await,
        Err(Error::TooLarge { .. })
    ));

    // The next message is the first either node sees: the large ones went nowhere.
    a.try_publish("t", json!("fine")).unwrap();
    assert_eq!(on_a.next().await, Event::Message("t".into(), json!("fine")));
    assert_eq!(on_b.next().await, Event::Message("t".into(), json!("fine")));
    assert_eq!(b.stats().malformed, 0);
    assert_eq!(a.stats().publish_failed, 3);
}
