//! When received messages arrive faster than the node fans them out, the bounded inbound
//! queue drops what does not fit, counts it, and raises an overflow gap on the topic,
//! instead of buffering without bound or stalling the Redis connection.

use cinder_test_support::redis as harness;

use std::time::Duration;

use cinder_pubsub::{Delivery, GapCause, PubSub as _, Redis};
use harness::{Event, Inbox, RedisServer, within};

#[tokio::test]
async fn a_full_inbound_queue_drops_and_raises_a_gap() {
    harness::logs();
    let server = RedisServer::start().unwrap();
    let mut config = harness::config(&server.url(), "node-a");
    config.inbound_queue = 4;
    let a = Redis::start(config).unwrap();
    within(a.ready()).await;

    let mut inbox = Inbox::new();
    a.subscribe_with_gaps("t", inbox.sink(), inbox.gaps());
    // A slow consumer on the same topic: fan-out takes 2 ms per message.
    a.subscribe(
        "t",
        Box::new(|_| {
            std::thread::sleep(Duration::from_millis(2));
            Delivery::Delivered
        }),
    );
    within(a.flush()).await.unwrap();

    let burst: Vec<Vec<u8>> = (0..200)
        .map(|i| format!(r#"{{"v":1,"payload":{i}}}"#).into_bytes())
        .collect();
    server.publish_burst("cinder:topic:t", &burst).unwrap();

    let gap = within(async {
        loop {
            if let event @ Event::Gap(..) = inbox.next().await {
                return event;
            }
        }
    })
    .await;
    assert_eq!(gap, Event::Gap("t".into(), GapCause::Overflow));
    let stats = a.stats();
    assert!(stats.inbound_dropped > 0, "{stats:?}");
    assert!(stats.received + stats.inbound_dropped <= 200, "{stats:?}");
    assert!(a.health().is_up());
}
