//! Phoenix channel V2 frames: `[join_ref, ref, topic, event, payload]`.
//!
//! Client frames are decoded once, on the view-node; server frames are encoded once into
//! their final bytes and pass through the gateway untouched.

use serde_json::Value;

use crate::error::Error;

/// The longest topic a client frame may name, in bytes; `lv:phx-…` and `lvu:…` topics
/// are a few dozen.
pub const MAX_TOPIC_BYTES: usize = 256;

/// The longest `join_ref` or `ref`, in bytes; the official client counts up from 1.
pub const MAX_REF_BYTES: usize = 64;

/// The longest event name, in bytes: the frame's (`phx_join`, `event`…) and the one an
/// `event` payload names for `handle_event`.
pub const MAX_EVENT_BYTES: usize = 256;

/// A decoded client frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFrame {
    /// The ref of the channel's current join.
    pub join_ref: Option<String>,
    /// This message's ref, echoed in the reply.
    pub msg_ref: Option<String>,
    /// The topic, `lv:<view id>` for live views.
    pub topic: String,
    /// The event name (`phx_join`, `event`, `live_patch`, `phx_leave`…).
    pub event: String,
    /// The payload.
    pub payload: Value,
    /// The span the session handles it in, continuing the gateway's trace of it; only
    /// when traces are exported (see `cinder_telemetry`).
    pub span: Option<Box<tracing::Span>>,
}

impl ClientFrame {
    /// Decodes a text frame.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| Error::MalformedFrame(e.to_string()))?;
        let Value::Array(mut parts) = value else {
            return Err(Error::MalformedFrame("a frame is a JSON array".into()));
        };
        if parts.len() != 5 {
            return Err(Error::MalformedFrame(format!(
                "a frame has 5 elements, got {}",
                parts.len()
            )));
        }
        let payload = parts.pop().unwrap_or(Value::Null);
        let mut strings = parts.into_iter().map(|v| match v {
            Value::String(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            other => Err(Error::MalformedFrame(format!(
                "expected a string or null, got {other}"
            ))),
        });
        let mut next = || strings.next().unwrap_or(Ok(None));
        let join_ref = next()?;
        let msg_ref = next()?;
        let topic = next()?.ok_or_else(|| Error::MalformedFrame("missing topic".into()))?;
        let event = next()?.ok_or_else(|| Error::MalformedFrame("missing event".into()))?;
        // Replies echo the refs and topic, and logs name the event: none of them may be
        // as large as the frame.
        for (field, value, max) in [
            ("join_ref", join_ref.as_deref(), MAX_REF_BYTES),
            ("ref", msg_ref.as_deref(), MAX_REF_BYTES),
            ("topic", Some(topic.as_str()), MAX_TOPIC_BYTES),
            ("event", Some(event.as_str()), MAX_EVENT_BYTES),
        ] {
            if value.is_some_and(|v| v.len() > max) {
                return Err(Error::MalformedFrame(format!(
                    "{field} longer than {max} bytes"
                )));
            }
        }
        Ok(ClientFrame {
            join_ref,
            msg_ref,
            topic,
            event,
            payload,
            span: None,
        })
    }
}

/// A binary client push: an upload chunk on an `lvu:` topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The ref of the upload channel's join.
    pub join_ref: Option<String>,
    /// This push's ref, echoed in the reply.
    pub msg_ref: Option<String>,
    /// The topic, `lvu:<entry ref>`.
    pub topic: String,
    /// The event (`chunk`).
    pub event: String,
    /// The raw bytes.
    pub bytes: Vec<u8>,
}

impl Chunk {
    /// Decodes a binary push (`cinder_wire::binary`).
    pub fn parse(frame: &[u8]) -> Result<Self, Error> {
        let push = cinder_wire::binary::decode(frame)
            .map_err(|why| Error::MalformedFrame(format!("binary frame: {why}")))?;
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Ok(Chunk {
            join_ref: some(push.join_ref),
            msg_ref: some(push.msg_ref),
            topic: push.topic.to_owned(),
            event: push.event.to_owned(),
            bytes: push.payload.to_vec(),
        })
    }
}

pub use cinder_wire::frame::{encode, open, reason, reply};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_client_push() {
        let f = ClientFrame::parse(r#"["4","7","lv:phx-F1","event",{"type":"click"}]"#).unwrap();
        assert_eq!(f.join_ref.as_deref(), Some("4"));
        assert_eq!(f.msg_ref.as_deref(), Some("7"));
        assert_eq!(f.topic, "lv:phx-F1");
        assert_eq!(f.event, "event");
        assert_eq!(f.payload["type"], "click");
    }

    #[test]
    fn parses_a_heartbeat_with_null_join_ref() {
        let f = ClientFrame::parse(r#"[null,"12","phoenix","heartbeat",{}]"#).unwrap();
        assert_eq!(f.join_ref, None);
    }

    #[test]
    fn refuses_malformed_frames() {
        for bad in [
            "",
            "{}",
            "[1,2,3]",
            r#"["1","2",3,"e",{}]"#,
            r#"["1","2",null,"e",{}]"#,
            "[\"a\"",
        ] {
            assert!(
                matches!(ClientFrame::parse(bad), Err(Error::MalformedFrame(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_oversized_names() {
        let long = |n: usize| "x".repeat(n);
        let frame = |jr: &str, r: &str, topic: &str, event: &str| {
            format!(r#"["{jr}","{r}","{topic}","{event}",{{}}]"#)
        };
        let at_bounds = frame(
            &long(MAX_REF_BYTES),
            &long(MAX_REF_BYTES),
            &long(MAX_TOPIC_BYTES),
            &long(MAX_EVENT_BYTES),
        );
        assert!(ClientFrame::parse(&at_bounds).is_ok());
        for over in [
            frame(&long(MAX_REF_BYTES + 1), "1", "lv:x", "event"),
            frame("1", &long(MAX_REF_BYTES + 1), "lv:x", "event"),
            frame("1", "1", &long(MAX_TOPIC_BYTES + 1), "event"),
            frame("1", "1", "lv:x", &long(MAX_EVENT_BYTES + 1)),
        ] {
            let err = ClientFrame::parse(&over).unwrap_err();
            assert!(err.to_string().contains("longer than"), "{err}");
        }
    }

    #[test]
    fn refuses_payloads_nested_past_the_parsers_limit() {
        // serde_json stops at 128 levels, so a payload's value stays shallow enough to
        // drop (dropping recurses once per level) on any stack.
        let nested = |depth: usize| {
            let payload = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            format!(r#"["1","2","lv:x","event",{payload}]"#)
        };
        assert!(ClientFrame::parse(&nested(126)).is_ok());
        let err = ClientFrame::parse(&nested(200_000)).unwrap_err();
        assert!(err.to_string().contains("recursion limit"), "{err}");
    }

    #[test]
    fn parses_binary_pushes() {
        let mut frame = vec![0, 1, 2, 5, 5];
        frame.extend_from_slice(b"112lvu:0chunk");
        frame.extend_from_slice(&[0, 255]);
        let chunk = Chunk::parse(&frame).unwrap();
        assert_eq!(chunk.join_ref.as_deref(), Some("1"));
        assert_eq!(chunk.msg_ref.as_deref(), Some("12"));
        assert_eq!(
            (chunk.topic.as_str(), chunk.event.as_str()),
            ("lvu:0", "chunk")
        );
        assert_eq!(chunk.bytes, [0, 255]);
        for bad in [&[0, 1][..], &[1, 0, 0, 0, 0], &[0, 9, 0, 0, 0, b'a']] {
            assert!(Chunk::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn encodes_replies() {
        assert_eq!(
            reply(Some("4"), Some("7"), "lv:phx-F1", "ok", "{}"),
            r#"["4","7","lv:phx-F1","phx_reply",{"status":"ok","response":{}}]"#
        );
        assert_eq!(
            encode(Some("4"), None, "lv:x", "diff", r#"{"0":"1"}"#),
            r#"["4",null,"lv:x","diff",{"0":"1"}]"#
        );
    }
}
