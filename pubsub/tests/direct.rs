//! `send_to` reaches one node's subscribers of a topic through that node's direct channel,
//! and no other node's.

use cinder_test_support::redis as harness;

use cinder_pubsub::PubSub as _;
use harness::{Event, Inbox, RedisServer, node, within};
use serde_json::json;

#[tokio::test]
async fn a_direct_message_reaches_only_its_node() {
    let server = RedisServer::start().unwrap();
    let a = node(&server, "node-a").await;
    let b = node(&server, "node-b").await;
    let c = node(&server, "node-c").await;
    let mut on_a = Inbox::new();
    let mut on_b = Inbox::new();
    a.subscribe("presence", on_a.sink());
    b.subscribe("presence", on_b.sink());
    within(a.flush()).await.unwrap();
    within(b.flush()).await.unwrap();

    c.send_to("node-b", "presence", json!("to b")).unwrap();
    c.try_publish("presence", json!("to all")).unwrap();

    assert_eq!(
        on_b.next().await,
        Event::Message("presence".into(), json!("to b"))
    );
    assert_eq!(
        on_b.next().await,
        Event::Message("presence".into(), json!("to all"))
    );
    // C's connection delivers in order: A's first message is the broadcast.
    assert_eq!(
        on_a.next().await,
        Event::Message("presence".into(), json!("to all"))
    );

    // To itself, a node delivers without Redis.
    a.send_to("node-a", "presence", json!("self")).unwrap();
    assert_eq!(
        on_a.next().await,
        Event::Message("presence".into(), json!("self"))
    );
    on_a.assert_empty();
    on_b.assert_empty();
}
