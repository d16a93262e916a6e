//! Where the shards meet on the cluster pubsub: topic names, the sinks that queue
//! received messages for the tracker's task, and sending.

use std::sync::Arc;

use cinder_pubsub::{Delivery, Gap, GapSink, Message, PubSub, Sink, SubscriptionId, Value};
use tokio::sync::mpsc::{self, error::TrySendError};
use tracing::debug;

use crate::codec;
use crate::message::Outbound;

/// What a sink queues for the task.
#[derive(Debug)]
pub(super) enum Inbound {
    /// A message arrived on one of shard `shard`'s topics.
    Message { shard: usize, payload: Arc<Value> },
    /// Messages on one of shard `shard`'s topics may have been lost.
    Gap { shard: usize },
}

/// What every topic the tracker speaks on starts with: the namespace no outside caller
/// may publish to or read (the topics API refuses it).
pub const TOPIC_PREFIX: &str = "presence:";

/// Shard `shard`'s broadcasts, heard by the same shard on every node.
pub(super) fn broadcast_topic(shard: usize) -> String {
    format!("{TOPIC_PREFIX}{shard}")
}

/// Messages to shard `shard` of `node` only.
pub(super) fn direct_topic(shard: usize, node: &str) -> String {
    format!("{TOPIC_PREFIX}{shard}:{node}")
}

/// Subscribes shard `shard` of `node` to its two topics, queueing what arrives.
pub(super) fn subscribe(
    pubsub: &dyn PubSub,
    shard: usize,
    node: &str,
    inbound: &mpsc::Sender<Inbound>,
) -> [(String, SubscriptionId); 2] {
    [broadcast_topic(shard), direct_topic(shard, node)].map(|topic| {
        let id = pubsub.subscribe_with_gaps(
            &topic,
            sink(shard, inbound.clone()),
            gap_sink(shard, inbound.clone()),
        );
        (topic, id)
    })
}

fn sink(shard: usize, inbound: mpsc::Sender<Inbound>) -> Sink {
    Box::new(move |message: &Message| {
        let payload = Arc::clone(&message.payload);
        offer(&inbound, Inbound::Message { shard, payload })
    })
}

fn gap_sink(shard: usize, inbound: mpsc::Sender<Inbound>) -> GapSink {
    Box::new(move |_: &Gap| offer(&inbound, Inbound::Gap { shard }))
}

/// Queues without waiting: this runs inside the pubsub's fan-out.
fn offer(inbound: &mpsc::Sender<Inbound>, event: Inbound) -> Delivery {
    match inbound.try_send(event) {
        Ok(()) => Delivery::Delivered,
        // The pubsub turns this into a gap, which ends in a transfer.
        Err(TrySendError::Full(_)) => Delivery::Dropped,
        Err(TrySendError::Closed(_)) => Delivery::Gone,
    }
}

/// Publishes shard `shard`'s messages: broadcasts to every node, the others to one.
pub(super) fn send(pubsub: &dyn PubSub, shard: usize, outbound: Vec<Outbound>) {
    for Outbound { to, message } in outbound {
        let topic = match &to {
            Some(peer) => direct_topic(shard, peer.name()),
            None => broadcast_topic(shard),
        };
        // While the link is down this fails; the shard catches up when it is back.
        if let Err(error) = pubsub.try_publish(&topic, codec::encode(&message)) {
            debug!(%error, %topic, "presence message not sent");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_per_shard_and_node() {
        assert_eq!(broadcast_topic(3), "presence:3");
        assert_eq!(direct_topic(3, "node-a"), "presence:3:node-a");
    }
}
