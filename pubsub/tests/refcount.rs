//! One Redis `SUBSCRIBE` per topic per node, however many local subscribers it has.

use cinder_test_support::redis as harness;

use cinder_pubsub::PubSub as _;
use harness::{Inbox, RedisServer, node, within};

#[tokio::test]
async fn many_local_subscribers_share_one_redis_subscription() {
    harness::logs();
    let server = RedisServer::start().unwrap();
    let a = node(&server, "node-a").await;
    let b = node(&server, "node-b").await;
    let channel = a.topic_channel("room:1");
    assert_eq!(channel, "cinder:topic:room:1");

    let inbox = Inbox::new();
    let ids: Vec<_> = (0..100)
        .map(|_| a.subscribe("room:1", inbox.sink()))
        .collect();
    within(a.flush()).await.unwrap();
    assert_eq!(a.subscribers("room:1"), 100);
    assert_eq!(server.numsub(&channel).unwrap(), 1);

    // A second node adds its own one subscription.
    b.subscribe("room:1", inbox.sink());
    within(b.flush()).await.unwrap();
    assert_eq!(server.numsub(&channel).unwrap(), 2);

    // Removing all but one of A's subscribers keeps A subscribed.
    for id in &ids[1..] {
        a.unsubscribe("room:1", *id);
    }
    within(a.flush()).await.unwrap();
    assert_eq!(a.subscribers("room:1"), 1);
    assert_eq!(server.numsub(&channel).unwrap(), 2);

    // Besides topics, each node holds exactly its direct channel.
    assert_eq!(
        server.channels("cinder:*").unwrap(),
        [
            "cinder:node:node-a",
            "cinder:node:node-b",
            "cinder:topic:room:1"
        ]
    );
}
