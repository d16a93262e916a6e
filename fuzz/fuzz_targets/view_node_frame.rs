//! The view-node's client frame decoders: `ClientFrame::parse` (every text frame a
//! session receives) and `Chunk::parse` (every binary upload chunk).
//!
//! Holds: no input panics; a parsed frame's names are within the frame bounds; a parsed
//! frame encoded with the view-node's own encoder parses back to the same frame; a
//! parsed chunk, encoded as the client encodes chunks, gives back the exact bytes.
#![no_main]

use cinder::frame::{self, Chunk, ClientFrame};
use cinder_client::Frame;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(parsed) = ClientFrame::parse(text)
    {
        assert!(parsed.topic.len() <= frame::MAX_TOPIC_BYTES);
        assert!(parsed.event.len() <= frame::MAX_EVENT_BYTES);
        for r in [&parsed.join_ref, &parsed.msg_ref].into_iter().flatten() {
            assert!(r.len() <= frame::MAX_REF_BYTES);
        }
        let encoded = frame::encode(
            parsed.join_ref.as_deref(),
            parsed.msg_ref.as_deref(),
            &parsed.topic,
            &parsed.event,
            &parsed.payload.to_string(),
        );
        let again = ClientFrame::parse(&encoded).expect("an encoded frame parses");
        assert_eq!(
            (&again.join_ref, &again.msg_ref, &again.topic, &again.event),
            (
                &parsed.join_ref,
                &parsed.msg_ref,
                &parsed.topic,
                &parsed.event
            )
        );
        // serde_json reads floats best-effort (no `float_roundtrip`): compare the rest.
        if !has_float(&parsed.payload) {
            assert_eq!(again.payload, parsed.payload);
        }
    }

    if let Ok(chunk) = Chunk::parse(data) {
        let bytes = Frame::encode_binary(
            chunk.join_ref.as_deref().unwrap_or_default(),
            chunk.msg_ref.as_deref().unwrap_or_default(),
            &chunk.topic,
            &chunk.event,
            &chunk.bytes,
        )
        .expect("a parsed chunk's fields fit the binary layout");
        assert_eq!(bytes, data, "a chunk re-encodes to its own bytes");
    }
});

/// Whether `value` holds a float anywhere (an explicit stack: the fuzzer's own checks
/// must not recurse over input either).
fn has_float(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Number(n) if n.is_f64() => return true,
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    false
}
