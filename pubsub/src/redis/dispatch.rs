//! Received messages → local subscribers: route by channel, decode the envelope once,
//! fan out.
//!
//! This runs in its own task behind a bounded queue, so that the subscriber connection's
//! read loop only ever moves messages and never waits: when decoding and fan-out fall
//! behind, the queue fills, the link drops what does not fit and the topic gets a gap.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use redis::Msg;
use tokio::sync::mpsc;

use super::channel::Route;
use super::envelope::{Incoming, Malformed};
use super::{Shared, Stop};

/// Messages taken off the queue per wake-up.
const BATCH: usize = 64;

/// At most one warning per this long about malformed envelopes; the rest are counted.
const WARN_EVERY: Duration = Duration::from_secs(1);

/// Drains the inbound queue until the backend stops.
pub(super) async fn run(shared: Arc<Shared>, mut inbound: mpsc::Receiver<Msg>, mut stop: Stop) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut warnings = Warnings::default();
    loop {
        tokio::select! {
            biased;
            () = stop.wait() => return,
            taken = inbound.recv_many(&mut batch, BATCH) => if taken == 0 {
                return;
            },
        }
        for message in batch.drain(..) {
            dispatch(&shared, &message, &mut warnings);
        }
        shared.report_overflow();
    }
}

/// Delivers one received message to this node's subscribers.
fn dispatch(shared: &Shared, message: &Msg, warnings: &mut Warnings) {
    shared.counters.received.fetch_add(1, Ordering::Relaxed);
    let channel = message.get_channel_name();
    let Some(route) = shared.channels.route(channel) else {
        tracing::debug!(channel, "a message on a channel that is not ours");
        return;
    };
    let envelope =
        match Incoming::decode(message.get_payload_bytes(), shared.config.max_message_bytes) {
            Ok(envelope) => envelope,
            Err(error) => return warnings.malformed(shared, channel, &error),
        };
    let topic = match (route, envelope.topic.as_deref()) {
        (Route::Topic(topic), None) => topic,
        (Route::Topic(topic), Some(named)) if named == topic => topic,
        (Route::Topic(topic), Some(named)) => {
            let error = Malformed::TopicMismatch {
                channel: topic.to_owned(),
                got: named.to_owned(),
            };
            return warnings.malformed(shared, channel, &error);
        }
        (Route::Direct, Some(named)) => named,
        (Route::Direct, None) => return warnings.malformed(shared, channel, &Malformed::NoTopic),
    };
    let from = envelope.from.as_deref();
    tracing::trace!(topic, from, id = envelope.id, "received");
    if matches!(route, Route::Topic(_)) && from == Some(shared.config.node.as_str()) {
        // Our own publish: local subscribers had it at publish time.
        return;
    }
    if !shared.registry.contains(topic) {
        return;
    }
    let payload = match envelope.payload() {
        Ok(payload) => payload,
        Err(error) => return warnings.malformed(shared, channel, &error),
    };
    let delivered = shared.deliver(topic, payload);
    shared
        .counters
        .delivered
        .fetch_add(delivered as u64, Ordering::Relaxed);
}

/// Rate-limits the warnings about malformed envelopes: a misbehaving publisher must not
/// flood the log.
#[derive(Default)]
struct Warnings {
    last: Option<Instant>,
    suppressed: u64,
}

impl Warnings {
    fn malformed(&mut self, shared: &Shared, channel: &str, error: &Malformed) {
        shared.counters.malformed.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        if self.last.is_some_and(|last| now - last < WARN_EVERY) {
            self.suppressed += 1;
            tracing::debug!(channel, %error, "dropped a malformed envelope");
            return;
        }
        tracing::warn!(
            channel,
            %error,
            suppressed = self.suppressed,
            "dropped a malformed envelope"
        );
        self.last = Some(now);
        self.suppressed = 0;
    }
}
