//! The presence codec: every presence message a node receives from its peers over the
//! pubsub, as JSON.
//!
//! Holds: no input panics; a message that decodes encodes to a value that decodes to
//! the same message, and encoding is stable from there on.
#![no_main]

use cinder_presence::codec;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(message) = codec::decode(&value) else {
        return;
    };
    let encoded = codec::encode(&message);
    let again = codec::decode(&encoded).expect("an encoded message decodes");
    assert_eq!(again, message);
    assert_eq!(codec::encode(&again), encoded);
});
