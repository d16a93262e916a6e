//! The Phoenix channel V2 wire format (`phoenix` 1.8's serializer), written once for the
//! gateway, the view-node and the Rust protocol client.
//!
//! - [`frame`] — text frames `[join_ref, ref, topic, event, payload]`: encoding, replies.
//! - [`binary`] — binary pushes (upload chunks): the header layout, both ways.
//! - [`json`] — JSON string literals, written without a `serde_json::Value`.
//! - [`percent`] — `application/x-www-form-urlencoded` decoding.
//!
//! Decoding a text frame is each tier's own business: the gateway reads only the header
//! it routes on, the view-node the whole frame, the client what the server sends.

pub mod binary;
pub mod frame;
pub mod json;
pub mod percent;
