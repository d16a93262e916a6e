//! The in-process backend: a map from topic to sinks behind one lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::{Delivery, Message, PubSub, Sink, SubscriptionId, Value};

/// Each topic's subscribers.
type Topics = HashMap<Arc<str>, Vec<(SubscriptionId, Sink)>>;

/// Delivers messages to subscribers in this process.
#[derive(Default)]
pub struct Local {
    topics: RwLock<Topics>,
    next: AtomicU64,
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
        self.read().get(topic).map_or(0, Vec::len)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Topics> {
        // Sinks never panic while the lock is held in a way that breaks the map.
        self.topics
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Topics> {
        self.topics
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl PubSub for Local {
    fn subscribe(&self, topic: &str, sink: Sink) -> SubscriptionId {
        let id = SubscriptionId(self.next.fetch_add(1, Ordering::Relaxed));
        let mut topics = self.write();
        match topics.get_mut(topic) {
            Some(sinks) => sinks.push((id, sink)),
            None => {
                topics.insert(Arc::from(topic), vec![(id, sink)]);
            }
        }
        id
    }

    fn unsubscribe(&self, topic: &str, id: SubscriptionId) {
        let mut topics = self.write();
        if let Some(sinks) = topics.get_mut(topic) {
            sinks.retain(|(s, _)| *s != id);
            if sinks.is_empty() {
                topics.remove(topic);
            }
        }
    }

    fn publish(&self, topic: &str, payload: Value) -> usize {
        let mut gone = Vec::new();
        let delivered = {
            let topics = self.read();
            let Some((key, sinks)) = topics.get_key_value(topic) else {
                return 0;
            };
            let message = Message {
                topic: key.clone(),
                payload: Arc::new(payload),
            };
            let mut delivered = 0;
            for (id, sink) in sinks {
                match sink(&message) {
                    Delivery::Delivered => delivered += 1,
                    Delivery::Dropped => tracing::debug!(topic, "a subscriber's mailbox was full"),
                    Delivery::Gone => gone.push(*id),
                }
            }
            delivered
        };
        for id in gone {
            self.unsubscribe(topic, id);
        }
        delivered
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

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
}
