//! The Redis envelope: every message a node reads off Redis, from any client of that
//! Redis, and the channel names it routes on.
//!
//! Holds: no input panics; an envelope over the limit is refused; what decodes and is
//! re-published decodes to the same fields; a topic's channel routes back to the topic.
#![no_main]

use cinder_fuzz::reparses_exactly;
use cinder_pubsub::redis::fuzzing as envelope;
use libfuzzer_sys::fuzz_target;

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
            if reparses_exactly(payload) {
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
