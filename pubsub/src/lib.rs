//! Topics: publish a message once, deliver it to every subscriber.
//!
//! - [`PubSub`] — the trait views and services publish and subscribe through.
//! - [`Local`] — the in-process backend, the embedded mode's default.
//!
//! A subscriber is a [`Sink`]: a callback that hands the message to a session's mailbox
//! without waiting, so publishing never blocks on a slow session and a topic costs no
//! task per subscriber. A sink that reports [`Delivery::Gone`] is dropped.
//!
//! This crate does not know about sessions or the wire protocol; the Redis backend
//! (cross-node delivery) implements the same trait.

mod local;

use std::sync::Arc;

pub use local::Local;
pub use serde_json::Value;

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
    fn publish(&self, topic: &str, payload: Value) -> usize;
}
