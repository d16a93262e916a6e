//! The Rust client's frame codec, and the binary layout across the three tiers: what the
//! client encodes, the gateway and the view-node must read the same way.
//!
//! Holds: no input panics; `decode(encode(f)) == f` for every frame the client decodes;
//! a chunk the client encodes is read with the same fields by the gateway's header
//! decoder and the view-node's `Chunk::parse`, and encoding fails only for a field over
//! 255 bytes.
#![no_main]

use cinder::frame::Chunk;
use cinder_protocol_client::Frame;
use cinder_fuzz::reparses_exactly;
use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(frame) = Frame::decode(text)
    {
        // Floats and serde_json's RawValue key do not read back exactly (the key may not
        // read back at all): the header then, when it decodes.
        match Frame::decode(&frame.encode()) {
            Ok(again) if reparses_exactly(&frame.payload) => assert_eq!(again, frame),
            Ok(again) => assert_eq!(
                (&again.join_ref, &again.msg_ref, &again.topic, &again.event),
                (&frame.join_ref, &frame.msg_ref, &frame.topic, &frame.event)
            ),
            Err(error) => assert!(!reparses_exactly(&frame.payload), "{error:?}"),
        }
    }
    let _ = Frame::decode_binary(data);

    let mut input = Unstructured::new(data);
    let Ok(fields) = input.arbitrary::<[String; 4]>() else {
        return;
    };
    let payload = input.take_rest();
    let [join_ref, msg_ref, topic, event] = &fields;
    match Frame::encode_binary(join_ref, msg_ref, topic, event, payload) {
        Ok(bytes) => {
            assert_eq!(
                cinder_gateway::fuzzing::decode_binary(&bytes),
                Some(fields.clone())
            );
            let chunk = Chunk::parse(&bytes).expect("the view-node reads a client chunk");
            let some = |s: &String| (!s.is_empty()).then(|| s.clone());
            assert_eq!(
                (chunk.join_ref, chunk.msg_ref, &chunk.topic, &chunk.event),
                (some(join_ref), some(msg_ref), topic, event)
            );
            assert_eq!(chunk.bytes, payload);
        }
        Err(_) => assert!(fields.iter().any(|f| f.len() > 255)),
    }
});
