//! The few JSON writing primitives the diff engine and the frame encoder share.
//!
//! Diffs are written straight into a `String` instead of building a `serde_json::Value`
//! tree: a reply frame is encoded once, on the view-node, and this keeps that one pass
//! allocation-light.

use std::fmt::Write;

pub(crate) use cinder_wire::json::string;

/// Appends `"key":`, preceded by a comma unless it opens an object or array.
pub(crate) fn key(out: &mut String, key: impl std::fmt::Display) {
    separate(out);
    let _ = write!(out, "\"{key}\":");
}

/// Appends a comma unless the buffer ends an opening bracket.
pub(crate) fn separate(out: &mut String) {
    if !matches!(out.as_bytes().last(), Some(b'{' | b'[') | None) {
        out.push(',');
    }
}

/// Appends any serializable value.
pub(crate) fn value(out: &mut String, value: &serde_json::Value) {
    // Writing a Value into a String cannot fail.
    let _ = write!(out, "{value}");
}
