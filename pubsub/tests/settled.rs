//! `Redis::settled` returns once everything published before it reached Redis, as a
//! draining node needs before it exits: the publishing node is dropped (its process
//! gone) right after, and the other node still gets every message.

use cinder_test_support::redis as harness;

use cinder_pubsub::PubSub as _;
use harness::{Event, Inbox, RedisServer, node, within};
use serde_json::json;

#[tokio::test]
async fn what_was_published_before_settled_outlives_the_node() {
    harness::logs();
    let server = RedisServer::start().unwrap();
    let leaving = node(&server, "leaving").await;
    let staying = node(&server, "staying").await;
    let mut inbox = Inbox::new();
    staying.subscribe("bye", inbox.sink());
    within(staying.flush()).await.unwrap();

    for n in 0..200 {
        leaving.try_publish("bye", json!(n)).unwrap();
    }
    within(leaving.settled()).await.unwrap();
    drop(leaving);

    for n in 0..200 {
        assert_eq!(inbox.next().await, Event::Message("bye".into(), json!(n)));
    }
}
