//! The wire envelope (version 1): one JSON object per Redis message.
//!
//! The format is specified in the `redis` module doc (`docs/redis.md`), since services
//! outside Cinder publish with it. Decoding skips over the payload first and parses it
//! only when the envelope is to be delivered (not for this node's own echo), and it
//! parses it once per node, however many local subscribers the topic has.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::Value;

/// The envelope version this node writes and accepts.
pub const VERSION: u64 = 1;

/// An envelope this node publishes.
#[derive(Debug, Serialize)]
pub(super) struct Outgoing<'a> {
    /// This node's name.
    pub(super) from: &'a str,
    /// Per-node sequence number (debugging, deduplication).
    pub(super) id: u64,
    /// Only on direct channels: the topic on the receiving node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) topic: Option<&'a str>,
    pub(super) payload: &'a Value,
}

/// The same fields with `v` first, as written on the wire.
#[derive(Serialize)]
struct Versioned<'a> {
    v: u64,
    #[serde(flatten)]
    envelope: &'a Outgoing<'a>,
}

/// A received envelope, borrowing from the message bytes; the payload is still raw JSON.
#[derive(Debug, Deserialize)]
pub(super) struct Incoming<'a> {
    v: u64,
    #[serde(default, borrow)]
    pub(super) from: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) id: Option<u64>,
    #[serde(default, borrow)]
    pub(super) topic: Option<Cow<'a, str>>,
    #[serde(borrow)]
    payload: &'a RawValue,
}

/// Why an envelope was dropped.
#[derive(Debug, thiserror::Error)]
pub(super) enum Malformed {
    #[error("{0} bytes, over the limit")]
    TooLarge(usize),
    #[error("unsupported envelope version {0}")]
    Version(u64),
    #[error("not a version-1 envelope: {0}")]
    Json(serde_json::Error),
    #[error("`topic` is {got:?} on the channel of topic {channel:?}")]
    TopicMismatch { channel: String, got: String },
    #[error("no `topic` on a direct channel")]
    NoTopic,
}

impl Outgoing<'_> {
    /// The envelope's bytes.
    pub(super) fn encode(&self) -> Vec<u8> {
        #[expect(
            clippy::expect_used,
            reason = "writing strings, integers and a serde_json::Value to a Vec cannot fail"
        )]
        serde_json::to_vec(&Versioned {
            v: VERSION,
            envelope: self,
        })
        .expect("a JSON value always serializes")
    }
}

impl<'a> Incoming<'a> {
    /// Reads an envelope, refusing those over `limit` bytes.
    pub(super) fn decode(bytes: &'a [u8], limit: usize) -> Result<Self, Malformed> {
        if bytes.len() > limit {
            return Err(Malformed::TooLarge(bytes.len()));
        }
        match serde_json::from_slice::<Incoming<'a>>(bytes) {
            Ok(envelope) if envelope.v == VERSION => Ok(envelope),
            Ok(envelope) => Err(Malformed::Version(envelope.v)),
            Err(error) => {
                // A later version may have changed the other fields: name the version
                // rather than the field that failed.
                #[derive(Deserialize)]
                struct Version {
                    v: u64,
                }
                match serde_json::from_slice::<Version>(bytes) {
                    Ok(Version { v }) if v != VERSION => Err(Malformed::Version(v)),
                    _ => Err(Malformed::Json(error)),
                }
            }
        }
    }

    /// Parses the payload.
    pub(super) fn payload(&self) -> Result<Value, Malformed> {
        serde_json::from_str(self.payload.get()).map_err(Malformed::Json)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn writes_the_documented_shape() {
        let payload = json!({"body": "hi"});
        let bytes = Outgoing {
            from: "node-a",
            id: 7,
            topic: None,
            payload: &payload,
        }
        .encode();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"v":1,"from":"node-a","id":7,"payload":{"body":"hi"}}"#
        );
        let bytes = Outgoing {
            from: "node-a",
            id: 8,
            topic: Some("presence:1"),
            payload: &Value::Null,
        }
        .encode();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"v":1,"from":"node-a","id":8,"topic":"presence:1","payload":null}"#
        );
    }

    #[test]
    fn reads_a_minimal_external_envelope() {
        let envelope = Incoming::decode(br#"{"v":1,"payload":[1,2]}"#, 1024).unwrap();
        assert_eq!(envelope.from, None);
        assert_eq!(envelope.payload().unwrap(), json!([1, 2]));
    }

    #[test]
    fn ignores_unknown_fields_and_unescapes_strings() {
        let envelope =
            Incoming::decode(br#"{"extra":true,"payload":"x","from":"a\"b","v":1}"#, 1024).unwrap();
        assert_eq!(envelope.from.as_deref(), Some("a\"b"));
        assert_eq!(envelope.payload().unwrap(), json!("x"));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        let cases: [(&[u8], &str); 6] = [
            (b"not json", "not a version-1 envelope"),
            (br#"{"payload":1}"#, "not a version-1 envelope"),
            (br#"{"v":1}"#, "not a version-1 envelope"),
            (br#"{"v":2,"data":1}"#, "unsupported envelope version 2"),
            (br#"{"v":2,"payload":1}"#, "unsupported envelope version 2"),
            (&[b'"'; 2000], "over the limit"),
        ];
        for (bytes, expected) in cases {
            let error = Incoming::decode(bytes, 1024).unwrap_err().to_string();
            assert!(error.contains(expected), "{error:?} for {bytes:?}");
        }
    }
}
