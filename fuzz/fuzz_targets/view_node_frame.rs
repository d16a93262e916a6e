//! The view-node's client frame decoders: `ClientFrame::parse` (every text frame a
//! session receives) and `Chunk::parse` (every binary upload chunk).
//!
//! Holds: no input panics; a parsed frame's names are within the frame bounds; a parsed
//! frame encoded with the view-node's own encoder parses back to the same frame; a
//! parsed chunk, encoded as the client encodes chunks, gives back the exact bytes.
#![no_main]

use cinder::frame::{self, Chunk, ClientFrame};
use cinder_protocol_client::Frame;
use cinder_fuzz::reparses_exactly;
use libfuzzer_sys::fuzz_target;

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
        // Floats and serde_json's RawValue key do not read back exactly (the key may not
        // read back at all): the header then, when it parses.
        let exact = reparses_exactly(&parsed.payload);
        match ClientFrame::parse(&encoded) {
            Ok(again) => {
                assert_eq!(
                    (&again.join_ref, &again.msg_ref, &again.topic, &again.event),
                    (
                        &parsed.join_ref,
                        &parsed.msg_ref,
                        &parsed.topic,
                        &parsed.event
                    )
                );
                if exact {
                    assert_eq!(again.payload, parsed.payload);
                }
            }
            Err(error) => assert!(!exact, "an encoded frame parses: {error:?}"),
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
