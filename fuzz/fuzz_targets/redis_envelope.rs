//! The Redis envelope: every message a node reads off Redis, from any client of that
//! Redis, and the channel names it routes on.
//!
//! Holds: no input panics; an envelope over the limit is refused; what decodes and is
//! re-published decodes to the same fields; a topic's channel routes back to the topic.
#![no_main]

use cinder_pubsub::redis::fuzzing as envelope;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// A small limit, so that the fuzzer reaches the size check too.
const LIMIT: usize = 1024;

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = envelope::decode(data, LIMIT) {
        assert!(data.len() <= LIMIT);
        if let Ok(payload) = &decoded.payload {
            let from = decoded.from.as_deref().unwrap_or_default();
            let id = decoded.id.unwrap_or_default();
            let bytes = envelope::encode(from, id, decoded.topic.as_deref(), payload);
            let again = envelope::decode(&bytes, usize::MAX).expect("our envelope decodes");
            assert_eq!(again.from.as_deref(), Some(from));
            assert_eq!(again.id, Some(id));
            assert_eq!(again.topic, decoded.topic);
            if !has_float(payload) {
                assert_eq!(again.payload.as_ref(), Ok(payload));
            }
        }
    }

    if let Ok(text) = std::str::from_utf8(data) {
        let _ = envelope::route("cinder", "node-a", text);
        let channel = envelope::topic_channel("cinder", "node-a", text);
        assert_eq!(
            envelope::route("cinder", "node-a", &channel),
            Some(Some(text.to_owned()))
        );
    }
});

/// Whether `value` holds a float anywhere.
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
