//! The in-process backend: the node's subscriber registry, nothing else.

use crate::registry::Registry;
use crate::{GapSink, PubSub, Sink, SubscriptionId, Value};

/// Delivers messages to subscribers in this process.
///
/// Nothing is lost between publisher and subscriber here, so the only gaps it reports
/// are [`GapCause::Overflow`](crate::GapCause::Overflow): a subscriber whose mailbox
/// was full.
#[derive(Default)]
pub struct Local {
    registry: Registry,
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local").finish_non_exhaustive()
    }
}

impl Local {
    /// An empty in-process pubsub.
    pub fn new() -> Self {
        Local::default()
    }

    /// How many subscribers `topic` has.
    pub fn subscribers(&self, topic: &str) -> usize {
        self.registry.subscribers(topic)
    }

    /// How many topics have a subscriber on this node.
    pub fn topic_count(&self) -> usize {
        self.registry.len()
    }
}

impl PubSub for Local {
    fn topic_count(&self) -> usize {
        Local::topic_count(self)
    }

    fn subscribe(&self, topic: &str, sink: Sink) -> SubscriptionId {
        self.registry.subscribe(topic, sink, None).0
    }

    fn subscribe_with_gaps(&self, topic: &str, sink: Sink, gaps: GapSink) -> SubscriptionId {
        self.registry.subscribe(topic, sink, Some(gaps)).0
    }

    fn unsubscribe(&self, topic: &str, id: SubscriptionId) {
        self.registry.unsubscribe(topic, id);
    }

    fn publish(&self, topic: &str, payload: Value) -> usize {
        crate::count_publish();
        self.registry.deliver(topic, payload).delivered
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::{Delivery, Gap, GapCause};

    #[test]
    fn delivers_to_subscribers_of_the_topic_only() {
        let pubsub = Local::new();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        pubsub.subscribe(
            "room:a",
            Box::new(move |m| {
                s.lock().unwrap().push(m.payload.clone());
                Delivery::Delivered
            }),
        );
        assert_eq!(pubsub.publish("room:a", serde_json::json!(1)), 1);
        assert_eq!(pubsub.publish("room:b", serde_json::json!(2)), 0);
        assert_eq!(*seen.lock().unwrap(), vec![Arc::new(serde_json::json!(1))]);
    }

    #[test]
    fn drops_gone_subscribers_and_unsubscribes() {
        let pubsub = Local::new();
        pubsub.subscribe("t", Box::new(|_| Delivery::Gone));
        let id = pubsub.subscribe("t", Box::new(|_| Delivery::Delivered));
        assert_eq!(pubsub.publish("t", Value::Null), 1);
        assert_eq!(pubsub.subscribers("t"), 1);
        pubsub.unsubscribe("t", id);
        assert_eq!(pubsub.subscribers("t"), 0);
    }

    #[test]
    fn a_full_mailbox_is_reported_as_an_overflow_gap() {
        let pubsub = Local::new();
        let gaps = Arc::new(Mutex::new(Vec::new()));
        let g = gaps.clone();
        let full = Arc::new(Mutex::new(true));
        let f = full.clone();
        pubsub.subscribe_with_gaps(
            "t",
            Box::new(move |_| {
                if *f.lock().unwrap() {
                    Delivery::Dropped
                } else {
                    Delivery::Delivered
                }
            }),
            Box::new(move |gap| {
                g.lock().unwrap().push(gap.clone());
                Delivery::Delivered
            }),
        );
        assert_eq!(pubsub.try_publish("t", Value::Null).unwrap(), 0);
        *full.lock().unwrap() = false;
        assert_eq!(pubsub.try_publish("t", Value::Null).unwrap(), 1);
        assert_eq!(
            *gaps.lock().unwrap(),
            [Gap {
                topic: Arc::from("t"),
                cause: GapCause::Overflow
            }]
        );
    }
}
