//! The Phoenix V2 frame header: the only part of a client message the gateway reads.
//!
//! A text frame is `[join_ref, ref, topic, event, payload]`. The gateway decodes the
//! first four fields to route the frame and leaves the payload as raw JSON text it never
//! interprets; the frame travels upstream as the exact bytes the browser sent. The refs
//! are kept as their raw JSON (`"4"` or `null`) so replies echo them unchanged.
//!
//! ```text
//! ["4","7","lv:phx-F1","event",{"type":"click","event":"inc","value":{}}]
//!   │   │      │         │       └ payload: skipped as raw JSON
//!   │   │      │         └ event: routes heartbeats and joins
//!   │   │      └ topic: finds the session
//!   └───┴ refs: echoed as raw JSON in local replies
//! ```
//!
//! A binary frame (upload chunks) is `u8 kind=0`, four `u8` lengths, then join_ref, ref,
//! topic and event as UTF-8, then the raw payload; only kind 0 comes from a client.
//!
//! This module also encodes the few frames the gateway writes itself: heartbeat replies,
//! error replies, and the `phx_close` / `phx_error` it sends for channels it ends.

use std::borrow::Cow;

use cinder_wire::{frame as wire, json};
use serde_json::value::RawValue;

/// A client frame that is not a V2 frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Malformed;

/// The routed fields of a text frame.
#[derive(Debug)]
pub(crate) struct Header<'a> {
    /// `join_ref` as raw JSON: a string or `null`.
    pub(crate) join_ref: &'a str,
    /// `ref` as raw JSON: a string or `null`.
    pub(crate) msg_ref: &'a str,
    /// The decoded topic.
    pub(crate) topic: Cow<'a, str>,
    /// The decoded event.
    pub(crate) event: Cow<'a, str>,
}

/// Reads the header of a V2 text frame; the payload is only checked to be JSON.
pub(crate) fn decode(text: &[u8]) -> Result<Header<'_>, Malformed> {
    type Fields<'a> = (
        &'a RawValue,
        &'a RawValue,
        &'a RawValue,
        &'a RawValue,
        &'a RawValue,
    );
    let (join_ref, msg_ref, topic, event, _payload): Fields<'_> =
        serde_json::from_slice(text).map_err(|_| Malformed)?;
    Ok(Header {
        join_ref: json_ref(join_ref)?,
        msg_ref: json_ref(msg_ref)?,
        topic: json_string(topic)?,
        event: json_string(event)?,
    })
}

fn json_ref(raw: &RawValue) -> Result<&str, Malformed> {
    let text = raw.get();
    if text == "null" || text.starts_with('"') {
        Ok(text)
    } else {
        Err(Malformed)
    }
}

fn json_string(raw: &RawValue) -> Result<Cow<'_, str>, Malformed> {
    if let Ok(borrowed) = serde_json::from_str::<&str>(raw.get()) {
        return Ok(Cow::Borrowed(borrowed));
    }
    // A string with escapes cannot be borrowed.
    serde_json::from_str::<String>(raw.get())
        .map(Cow::Owned)
        .map_err(|_| Malformed)
}

/// Reads the header of a client binary frame (a push; `cinder_wire::binary`).
pub(crate) fn decode_binary(frame: &[u8]) -> Result<cinder_wire::binary::Push<'_>, Malformed> {
    cinder_wire::binary::decode(frame).map_err(|_| Malformed)
}

/// `s` as a JSON ref: a string, or `null` when empty (binary frames carry no null).
pub(crate) fn json_ref_from_str(s: &str) -> String {
    if s.is_empty() {
        "null".to_owned()
    } else {
        let mut out = String::with_capacity(s.len() + 2);
        json::string(&mut out, s);
        out
    }
}

fn frame(join_ref: &str, msg_ref: &str, topic: &str, event: &str, payload: &str) -> Vec<u8> {
    let mut out = String::with_capacity(
        join_ref.len() + msg_ref.len() + topic.len() + event.len() + payload.len() + 16,
    );
    wire::open_raw(&mut out, join_ref, msg_ref, topic, event);
    out.push_str(payload);
    out.push(']');
    out.into_bytes()
}

/// `[null, ref, "phoenix", "phx_reply", {"status":"ok","response":{}}]`.
pub(crate) fn heartbeat_reply(msg_ref: &str) -> Vec<u8> {
    frame(
        "null",
        msg_ref,
        "phoenix",
        "phx_reply",
        r#"{"status":"ok","response":{}}"#,
    )
}

/// `[join_ref, ref, topic, "phx_reply", {"status":"error","response":{"reason":…}}]`.
pub(crate) fn error_reply(join_ref: &str, msg_ref: &str, topic: &str, reason: &str) -> Vec<u8> {
    let mut payload = String::new();
    wire::reply_payload(&mut payload, "error", &wire::reason(reason));
    frame(join_ref, msg_ref, topic, "phx_reply", &payload)
}

/// `[join_ref, join_ref, topic, "phx_close", {}]`: the channel stopped gracefully.
pub(crate) fn close(join_ref: &str, topic: &str) -> Vec<u8> {
    frame(join_ref, join_ref, topic, "phx_close", "{}")
}

/// `[join_ref, join_ref, topic, "phx_error", {"reason":…}]`: the channel crashed; the
/// client rejoins after its backoff.
pub(crate) fn error(join_ref: &str, topic: &str, reason: &str) -> Vec<u8> {
    frame(
        join_ref,
        join_ref,
        topic,
        "phx_error",
        &wire::reason(reason),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn decodes_the_routed_fields_and_keeps_refs_raw() {
        let h = decode(br#"["4","7","lv:phx-F1","event",{"type":"click"}]"#).unwrap();
        assert_eq!(
            (h.join_ref, h.msg_ref, &*h.topic, &*h.event),
            (r#""4""#, r#""7""#, "lv:phx-F1", "event")
        );
        let h = decode(br#"[null,"12","phoenix","heartbeat",{}]"#).unwrap();
        assert_eq!((h.join_ref, h.msg_ref), ("null", r#""12""#));
    }

    #[test]
    fn decodes_escaped_topics() {
        let h = decode(br#"[null,null,"lv:a\"b","x",1]"#).unwrap();
        assert_eq!(&*h.topic, "lv:a\"b");
    }

    #[test]
    fn rejects_what_is_not_a_v2_frame() {
        for bad in [
            &b"not json"[..],
            b"{}",
            br#"["1","1","t","e"]"#,
            br#"["1","1","t","e",{},1]"#,
            br#"[1,"1","t","e",{}]"#,
            br#"["1","1",3,"e",{}]"#,
            br#"["1","1","t","e",{]"#,
        ] {
            assert_eq!(
                decode(bad).err(),
                Some(Malformed),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_binary_push_header_is_read_and_garbage_refused() {
        let mut frame = vec![0, 1, 2, 4, 5];
        frame.extend_from_slice(b"112lv:xchunk");
        let header = decode_binary(&frame).unwrap();
        assert_eq!(
            (header.join_ref, header.msg_ref, header.topic, header.event),
            ("1", "12", "lv:x", "chunk")
        );
        assert_eq!(decode_binary(&[1, 0, 0, 0, 0]).err(), Some(Malformed));
    }

    #[test]
    fn encodes_local_replies() {
        assert_eq!(
            text(heartbeat_reply(r#""12""#)),
            r#"[null,"12","phoenix","phx_reply",{"status":"ok","response":{}}]"#
        );
        assert_eq!(
            text(error_reply("null", r#""3""#, "room:1", "unmatched topic")),
            r#"[null,"3","room:1","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]"#
        );
        assert_eq!(
            text(close(r#""1""#, "lv:x")),
            r#"["1","1","lv:x","phx_close",{}]"#
        );
        assert_eq!(
            text(error(r#""1""#, "lv:x", "node_down")),
            r#"["1","1","lv:x","phx_error",{"reason":"node_down"}]"#
        );
    }

    #[test]
    fn refs_are_json_strings_or_null() {
        assert_eq!(json_ref_from_str("a\"b"), r#""a\"b""#);
        assert_eq!(json_ref_from_str(""), "null");
        assert_eq!(json_ref_from_str("7"), r#""7""#);
    }
}
