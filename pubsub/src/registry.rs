//! Each topic's subscribers on this node, and the fan-out to them: shared by the backends.
//!
//! A topic is present exactly while it has a subscriber, so "the topic appeared" and "the
//! topic is gone" are the reference-count edges the Redis backend turns into `SUBSCRIBE`
//! and `UNSUBSCRIBE`. The methods that can cross an edge say so in their result.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::{Delivery, Gap, GapCause, GapSink, Message, Sink, SubscriptionId, Value};

/// Each topic's subscribers.
type Topics = HashMap<Arc<str>, Vec<Subscriber>>;

/// Subscribers by topic, with the fan-out rules every backend shares.
#[derive(Default)]
pub(crate) struct Registry {
    topics: RwLock<Topics>,
    next: AtomicU64,
}

/// What a fan-out did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Fanout {
    /// Sinks that took the message (or the gap).
    pub(crate) delivered: usize,
    /// The topic lost its last subscriber because sinks reported [`Delivery::Gone`].
    pub(crate) emptied: bool,
}

struct Subscriber {
    id: SubscriptionId,
    on_message: Sink,
    on_gap: Option<GapSink>,
    /// A gap this subscriber has not been told about yet, because its gap sink reported
    /// [`Delivery::Dropped`] or a message to it was dropped: 0 for none, else
    /// [`cause_code`]. Offered again before its next message.
    pending_gap: AtomicU8,
}

// === impl Registry ===

impl Registry {
    /// Adds a subscriber; the flag is true when it is the topic's first.
    pub(crate) fn subscribe(
        &self,
        topic: &str,
        on_message: Sink,
        on_gap: Option<GapSink>,
    ) -> (SubscriptionId, bool) {
        let id = SubscriptionId(self.next.fetch_add(1, Ordering::Relaxed));
        let subscriber = Subscriber {
            id,
            on_message,
            on_gap,
            pending_gap: AtomicU8::new(0),
        };
        let mut topics = self.write();
        match topics.get_mut(topic) {
            Some(subscribers) => {
                subscribers.push(subscriber);
                (id, false)
            }
            None => {
                topics.insert(Arc::from(topic), vec![subscriber]);
                (id, true)
            }
        }
    }

    /// Removes a subscriber; true when that left the topic without subscribers.
    pub(crate) fn unsubscribe(&self, topic: &str, id: SubscriptionId) -> bool {
        self.remove(topic, &[id])
    }

    /// How many subscribers `topic` has.
    pub(crate) fn subscribers(&self, topic: &str) -> usize {
        self.read().get(topic).map_or(0, Vec::len)
    }

    /// Whether `topic` has a subscriber.
    pub(crate) fn contains(&self, topic: &str) -> bool {
        self.read().contains_key(topic)
    }

    /// How many topics have a subscriber.
    pub(crate) fn len(&self) -> usize {
        self.read().len()
    }

    /// Every topic with a subscriber.
    pub(crate) fn topics(&self) -> Vec<Arc<str>> {
        self.read().keys().cloned().collect()
    }

    /// Hands `payload` to every subscriber of `topic`.
    pub(crate) fn deliver(&self, topic: &str, payload: Value) -> Fanout {
        let mut gone = Vec::new();
        let delivered = {
            let topics = self.read();
            let Some((key, subscribers)) = topics.get_key_value(topic) else {
                return Fanout::default();
            };
            let message = Message {
                topic: key.clone(),
                payload: Arc::new(payload),
            };
            let mut delivered = 0;
            for subscriber in subscribers {
                match subscriber.offer(&message) {
                    Delivery::Delivered => delivered += 1,
                    Delivery::Dropped => tracing::debug!(topic, "a subscriber's mailbox was full"),
                    Delivery::Gone => gone.push(subscriber.id),
                }
            }
            delivered
        };
        if delivered > 0 {
            metrics::counter!("cinder_pubsub_deliveries_total").increment(delivered as u64);
        }
        Fanout {
            delivered,
            emptied: self.remove(topic, &gone),
        }
    }

    /// Tells every subscriber of `topic` that messages may have been lost.
    pub(crate) fn gap(&self, topic: &str, cause: GapCause) -> Fanout {
        let mut gone = Vec::new();
        let delivered = {
            let topics = self.read();
            let Some((key, subscribers)) = topics.get_key_value(topic) else {
                return Fanout::default();
            };
            let gap = Gap {
                topic: key.clone(),
                cause,
            };
            let mut delivered = 0;
            for subscriber in subscribers {
                // This gap supersedes one still pending.
                subscriber.pending_gap.store(0, Ordering::Relaxed);
                match subscriber.tell(&gap) {
                    Delivery::Delivered if subscriber.on_gap.is_some() => delivered += 1,
                    Delivery::Delivered | Delivery::Dropped => {}
                    Delivery::Gone => gone.push(subscriber.id),
                }
            }
            delivered
        };
        Fanout {
            delivered,
            emptied: self.remove(topic, &gone),
        }
    }

    /// Removes subscribers; true when that left the topic without subscribers.
    fn remove(&self, topic: &str, ids: &[SubscriptionId]) -> bool {
        if ids.is_empty() {
            return false;
        }
        let mut topics = self.write();
        let Some(subscribers) = topics.get_mut(topic) else {
            return false;
        };
        let before = subscribers.len();
        subscribers.retain(|s| !ids.contains(&s.id));
        if subscribers.is_empty() {
            topics.remove(topic);
            return true;
        }
        if subscribers.len() == before {
            tracing::trace!(topic, "unsubscribe of an unknown subscription");
        }
        false
    }

    fn read(&self) -> RwLockReadGuard<'_, Topics> {
        // A sink that panicked left the map itself intact: keep serving.
        self.topics
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Topics> {
        self.topics
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

// === impl Subscriber ===

impl Subscriber {
    /// Offers a message, preceded by a pending gap if there is one.
    fn offer(&self, message: &Message) -> Delivery {
        if let Some(cause) = cause_of(self.pending_gap.swap(0, Ordering::Relaxed)) {
            let gap = Gap {
                topic: message.topic.clone(),
                cause,
            };
            match self.tell(&gap) {
                Delivery::Delivered => {}
                // Still full: this message is lost too, and the gap stays pending.
                Delivery::Dropped => return Delivery::Dropped,
                Delivery::Gone => return Delivery::Gone,
            }
        }
        let outcome = (self.on_message)(message);
        if outcome == Delivery::Dropped && self.on_gap.is_some() {
            self.pending_gap
                .store(cause_code(GapCause::Overflow), Ordering::Relaxed);
        }
        outcome
    }

    /// Tells the gap sink, if any; a dropped gap stays pending.
    fn tell(&self, gap: &Gap) -> Delivery {
        let Some(on_gap) = &self.on_gap else {
            return Delivery::Delivered;
        };
        let outcome = on_gap(gap);
        match outcome {
            Delivery::Delivered => {
                metrics::counter!("cinder_pubsub_gaps_total", "cause" => cause_label(gap.cause))
                    .increment(1);
            }
            Delivery::Dropped => {
                self.pending_gap
                    .store(cause_code(gap.cause), Ordering::Relaxed);
            }
            Delivery::Gone => {}
        }
        outcome
    }
}

/// The `cause` label of `cinder_pubsub_gaps_total`.
fn cause_label(cause: GapCause) -> &'static str {
    match cause {
        GapCause::Reconnected => "reconnected",
        GapCause::Overflow => "overflow",
    }
}

fn cause_code(cause: GapCause) -> u8 {
    match cause {
        GapCause::Reconnected => 1,
        GapCause::Overflow => 2,
    }
}

fn cause_of(code: u8) -> Option<GapCause> {
    match code {
        1 => Some(GapCause::Reconnected),
        2 => Some(GapCause::Overflow),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::AtomicBool;

    use super::*;

    type Seen = Arc<Mutex<Vec<String>>>;

    /// A subscriber whose mailbox can be made full; it records what it took.
    fn subscriber(seen: &Seen, full: &Arc<AtomicBool>) -> (Sink, GapSink) {
        let (s, f) = (seen.clone(), full.clone());
        let on_message: Sink = Box::new(move |m| {
            if f.load(Ordering::Relaxed) {
                return Delivery::Dropped;
            }
            s.lock().unwrap().push(format!("msg {}", m.payload));
            Delivery::Delivered
        });
        let (s, f) = (seen.clone(), full.clone());
        let on_gap: GapSink = Box::new(move |g| {
            if f.load(Ordering::Relaxed) {
                return Delivery::Dropped;
            }
            s.lock().unwrap().push(format!("gap {:?}", g.cause));
            Delivery::Delivered
        });
        (on_message, on_gap)
    }

    #[test]
    fn reports_the_first_and_last_subscriber() {
        let registry = Registry::default();
        let (a, first) = registry.subscribe("t", Box::new(|_| Delivery::Delivered), None);
        assert!(first);
        let (b, first) = registry.subscribe("t", Box::new(|_| Delivery::Delivered), None);
        assert!(!first);
        assert!(!registry.unsubscribe("t", a));
        assert!(registry.unsubscribe("t", b));
        assert!(!registry.unsubscribe("t", b));
    }

    #[test]
    fn a_gone_last_subscriber_empties_the_topic() {
        let registry = Registry::default();
        registry.subscribe("t", Box::new(|_| Delivery::Gone), None);
        let fanout = registry.deliver("t", Value::Null);
        assert_eq!(
            fanout,
            Fanout {
                delivered: 0,
                emptied: true
            }
        );
        assert!(!registry.contains("t"));
    }

    #[test]
    fn a_dropped_message_becomes_a_gap_before_the_next_one() {
        let registry = Registry::default();
        let seen = Seen::default();
        let full = Arc::new(AtomicBool::new(false));
        let (on_message, on_gap) = subscriber(&seen, &full);
        registry.subscribe("t", on_message, Some(on_gap));

        registry.deliver("t", Value::from(1));
        full.store(true, Ordering::Relaxed);
        assert_eq!(registry.deliver("t", Value::from(2)).delivered, 0);
        assert_eq!(registry.deliver("t", Value::from(3)).delivered, 0);
        full.store(false, Ordering::Relaxed);
        registry.deliver("t", Value::from(4));

        assert_eq!(
            *seen.lock().unwrap(),
            ["msg 1", "gap Overflow", "msg 4"].map(String::from)
        );
    }

    #[test]
    fn a_dropped_gap_is_offered_again() {
        let registry = Registry::default();
        let seen = Seen::default();
        let full = Arc::new(AtomicBool::new(true));
        let (on_message, on_gap) = subscriber(&seen, &full);
        registry.subscribe("t", on_message, Some(on_gap));

        assert_eq!(registry.gap("t", GapCause::Reconnected).delivered, 0);
        full.store(false, Ordering::Relaxed);
        registry.deliver("t", Value::from(1));

        assert_eq!(
            *seen.lock().unwrap(),
            ["gap Reconnected", "msg 1"].map(String::from)
        );
    }

    #[test]
    fn subscribers_without_a_gap_sink_are_not_counted_for_gaps() {
        let registry = Registry::default();
        registry.subscribe("t", Box::new(|_| Delivery::Delivered), None);
        assert_eq!(registry.gap("t", GapCause::Reconnected).delivered, 0);
        assert_eq!(registry.gap("other", GapCause::Reconnected).delivered, 0);
    }
}
