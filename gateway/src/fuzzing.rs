//! Entry points for the fuzz targets in `fuzz/` (the `fuzzing` feature only): the frame
//! decoders and encoders of `frame`, which are otherwise private. Each one calls the real
//! function and returns owned values, so the gateway's own types stay private.

use crate::frame;

/// The routed fields of a text frame, `[join_ref, ref, topic, event]`, refs as raw JSON.
pub fn decode(text: &[u8]) -> Option<[String; 4]> {
    let header = frame::decode(text).ok()?;
    Some([
        header.join_ref.to_owned(),
        header.msg_ref.to_owned(),
        header.topic.into_owned(),
        header.event.into_owned(),
    ])
}

/// The routed fields of a client binary frame, `[join_ref, ref, topic, event]`.
pub fn decode_binary(bytes: &[u8]) -> Option<[String; 4]> {
    let header = frame::decode_binary(bytes).ok()?;
    Some([
        header.join_ref.to_owned(),
        header.msg_ref.to_owned(),
        header.topic.to_owned(),
        header.event.to_owned(),
    ])
}

/// `s` as a raw JSON ref (`null` when empty).
pub fn json_ref_from_str(s: &str) -> String {
    frame::json_ref_from_str(s)
}

/// The error reply the gateway writes for a client message it refuses.
pub fn error_reply(join_ref: &str, msg_ref: &str, topic: &str, reason: &str) -> Vec<u8> {
    frame::error_reply(join_ref, msg_ref, topic, reason)
}

/// The `phx_error` the gateway writes for a channel it ends.
pub fn error(join_ref: &str, topic: &str, reason: &str) -> Vec<u8> {
    frame::error(join_ref, topic, reason)
}
