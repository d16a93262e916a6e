//! Topics: publish a message once, deliver it to every subscriber.
//!
//! - [`PubSub`] — the trait views and services publish and subscribe through.
//! - [`Local`] — the in-process backend, the embedded mode's default.
//! - [`Redis`] (`redis`) — the cluster backend: one Redis `SUBSCRIBE` per topic per node,
//!   a direct channel per node, reconnects that end in a [`Gap`]. Its module doc has the
//!   wire envelope that services outside Cinder publish with.
//! - [`membership`] — cluster membership in Redis: a node's [`Registration`](membership::Registration)
//!   under a TTL heartbeat, and the live [`Members`](membership::Members) a gateway places
//!   sessions on.
//! - `backoff` — reconnect and retry delays: doubling, capped, with jitter.
//! - `registry` — each topic's subscribers on this node and the fan-out to them, shared by
//!   both backends.
//! - [`Error`] — what a publish or a backend start can fail with.
//!
//! A subscriber is a [`Sink`]: a callback that hands the message to a session's mailbox
//! without waiting, so publishing never blocks on a slow session and a topic costs no
//! task per subscriber. A sink that reports [`Delivery::Gone`] is dropped. A subscriber
//! that must know when it may have missed messages (to refetch what it shows) also
//! passes a [`GapSink`] through [`PubSub::subscribe_with_gaps`].
//!
//! This crate does not know about sessions or the wire protocol, keeps no history (a gap
//! is reported, not repaired), and does not do presence. Membership says who is live; it
//! does not place sessions (the gateway does).
//!
//! # Metrics
//!
//! Recorded in whatever `metrics` recorder the process installs (Cinder's binaries install
//! `cinder_telemetry::prometheus`):
//!
//! - `cinder_pubsub_publishes_total` — messages this node published, either backend.
//! - `cinder_pubsub_publish_failures_total` — publishes the Redis backend could not hand
//!   to Redis (down, queue full, too large; [`Stats::publish_failed`]).
//! - `cinder_pubsub_deliveries_total` — messages handed to this node's subscribers, one
//!   per subscriber, whoever published them.
//! - `cinder_pubsub_gaps_total{cause="reconnected"|"overflow"}` — gaps told to
//!   subscribers, one per subscriber.
//! - `cinder_redis_up` — 1 while Redis is reachable: both connections of the [`Redis`]
//!   backend up, or (a gateway) the last read of [`Members`](membership::Members)
//!   succeeded; else 0.
//! - `cinder_membership_rejected_total` — members refused for a bad signature.

mod backoff;
mod error;
mod local;
pub mod membership;
pub mod redis;
mod registry;

use std::sync::Arc;

pub use error::Error;
pub use local::Local;
pub use serde_json::Value;

pub use self::redis::{Health, LinkState, Redis, RedisConfig, Stats};

/// Counts one publish in `cinder_pubsub_publishes_total`.
fn count_publish() {
    metrics::counter!("cinder_pubsub_publishes_total").increment(1);
}

/// One published message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The topic it was published on.
    pub topic: Arc<str>,
    /// The payload, shared by every delivery.
    pub payload: Arc<Value>,
}

/// What a sink did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Queued for its subscriber.
    Delivered,
    /// The subscriber could not take it now (full mailbox); it stays subscribed.
    Dropped,
    /// The subscriber is gone; remove the sink.
    Gone,
}

/// Receives a topic's messages for one subscriber.
pub type Sink = Box<dyn Fn(&Message) -> Delivery + Send + Sync>;

/// Messages on a topic may have been lost for a subscriber: whatever it derived from
/// them should be fetched again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The topic concerned.
    pub topic: Arc<str>,
    /// Why messages may be missing.
    pub cause: GapCause,
}

/// Why a [`Gap`] was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GapCause {
    /// The node's link to the broker was lost and is back: messages published in
    /// between were not received.
    Reconnected,
    /// A queue was full (the subscriber's mailbox, or the node's inbound queue) and
    /// messages were dropped.
    Overflow,
}

/// Receives a topic's gaps for one subscriber. [`Delivery::Dropped`] keeps the gap
/// pending: it is offered again before the subscriber's next message.
pub type GapSink = Box<dyn Fn(&Gap) -> Delivery + Send + Sync>;

/// A subscription's handle, for unsubscribing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionId(pub u64);

/// Topics across a node (or a cluster, depending on the backend).
pub trait PubSub: Send + Sync + 'static {
    /// Delivers every later message on `topic` to `sink`.
    fn subscribe(&self, topic: &str, sink: Sink) -> SubscriptionId;

    /// Stops a subscription.
    fn unsubscribe(&self, topic: &str, id: SubscriptionId);

    /// Publishes `payload` on `topic`; returns how many local subscribers took it.
    ///
    /// Never blocks. A backend that cannot forward the message to other nodes logs and
    /// counts that; [`PubSub::try_publish`] reports it.
    fn publish(&self, topic: &str, payload: Value) -> usize;

    /// Like [`PubSub::subscribe`], and also tells `gaps` when messages on `topic` may
    /// have been lost for this subscriber.
    ///
    /// The default ignores `gaps`, for backends that never lose a message.
    fn subscribe_with_gaps(&self, topic: &str, sink: Sink, gaps: GapSink) -> SubscriptionId {
        drop(gaps);
        self.subscribe(topic, sink)
    }

    /// Like [`PubSub::publish`], but says whether the message left this node.
    ///
    /// Never blocks. On `Err`, this node's own subscribers have still received the
    /// message and other nodes' subscribers have not, except on [`Error::TooLarge`]:
    /// a message over the backend's size limit is delivered nowhere.
    fn try_publish(&self, topic: &str, payload: Value) -> Result<usize, Error> {
        Ok(self.publish(topic, payload))
    }

    /// How many topics have a subscriber on this node (0 for a backend that does not
    /// count them).
    fn topic_count(&self) -> usize {
        0
    }
}
