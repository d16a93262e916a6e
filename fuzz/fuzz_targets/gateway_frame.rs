//! The gateway's V2 header decoders: what it reads of every client frame (text and
//! binary).
//!
//! Holds: no input panics; a decoded header's refs are raw JSON (a string or `null`);
//! a reply the gateway writes from a decoded header decodes to the same fields; a
//! decoded binary header re-encodes to the frame's first bytes; the gateway's JSON
//! string escaper agrees with serde_json on every string.
#![no_main]

use cinder_gateway::fuzzing as frame;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Some([join_ref, msg_ref, topic, event]) = frame::decode(data) {
        for raw in [&join_ref, &msg_ref] {
            assert!(
                raw == "null" || serde_json::from_str::<String>(raw).is_ok(),
                "a ref is raw JSON: {raw:?}"
            );
        }
        let reply = frame::error_reply(&join_ref, &msg_ref, &topic, &event);
        let echoed = frame::decode(&reply).expect("the gateway's own reply decodes");
        assert_eq!(echoed, [join_ref, msg_ref, topic, "phx_reply".to_owned()]);
        let payload = reply_payload(&reply);
        assert_eq!(payload["response"]["reason"].as_str(), Some(event.as_str()));
    }

    if let Some(fields) = frame::decode_binary(data) {
        let mut header = vec![0u8];
        for field in &fields {
            header.push(u8::try_from(field.len()).expect("a binary field is under 256 bytes"));
        }
        for field in &fields {
            header.extend_from_slice(field.as_bytes());
        }
        assert!(
            data.starts_with(&header),
            "the header re-encodes to the frame's start"
        );
    }

    // The escaper against serde_json, through the frames the gateway writes.
    if let Ok(text) = std::str::from_utf8(data) {
        let raw = frame::json_ref_from_str(text);
        if text.is_empty() {
            assert_eq!(raw, "null");
        } else {
            assert_eq!(
                serde_json::from_str::<String>(&raw).ok().as_deref(),
                Some(text)
            );
        }
        let error = frame::error(&raw, text, text);
        let decoded = frame::decode(&error).expect("the gateway's own phx_error decodes");
        assert_eq!(
            decoded,
            [raw.clone(), raw, text.to_owned(), "phx_error".to_owned()]
        );
        assert_eq!(reply_payload(&error)["reason"].as_str(), Some(text));
    }
});

/// The payload (fifth element) of a frame the gateway wrote.
fn reply_payload(frame: &[u8]) -> Value {
    let value: Value = serde_json::from_slice(frame).expect("the gateway writes JSON");
    value[4].clone()
}
