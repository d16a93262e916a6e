//! Entry points for the fuzz targets in `fuzz/` (the `fuzzing` feature only): the wire
//! envelope and the channel names, which are otherwise private. Each one calls the real
//! function and returns owned values.

use super::channel::{Channels, Route};
use super::envelope::{Incoming, Outgoing};
use crate::Value;

/// A received envelope's fields, as [`decode`] read them.
#[derive(Debug, PartialEq)]
pub struct Envelope {
    /// The publishing node.
    pub from: Option<String>,
    /// The publisher's sequence number.
    pub id: Option<u64>,
    /// The topic named inside the envelope (direct channels).
    pub topic: Option<String>,
    /// The payload, parsed, or why it is not JSON.
    pub payload: Result<Value, String>,
}

/// Reads an envelope as the dispatcher does, refusing those over `limit` bytes.
pub fn decode(bytes: &[u8], limit: usize) -> Result<Envelope, String> {
    let incoming = Incoming::decode(bytes, limit).map_err(|e| e.to_string())?;
    Ok(Envelope {
        from: incoming.from.as_deref().map(str::to_owned),
        id: incoming.id,
        topic: incoming.topic.as_deref().map(str::to_owned),
        payload: incoming.payload().map_err(|e| e.to_string()),
    })
}

/// The bytes this node publishes for `payload`.
pub fn encode(from: &str, id: u64, topic: Option<&str>, payload: &Value) -> Vec<u8> {
    Outgoing {
        from,
        id,
        topic,
        payload,
    }
    .encode()
}

/// What a received `channel` is to the node `node` under `prefix`: `Some(Some(topic))`
/// for a topic's channel, `Some(None)` for the node's direct channel, `None` otherwise.
pub fn route(prefix: &str, node: &str, channel: &str) -> Option<Option<String>> {
    match Channels::new(prefix, node).route(channel)? {
        Route::Topic(topic) => Some(Some(topic.to_owned())),
        Route::Direct => Some(None),
    }
}

/// The channel of `topic` for the node `node` under `prefix`.
pub fn topic_channel(prefix: &str, node: &str, topic: &str) -> String {
    Channels::new(prefix, node).topic(topic)
}
