//! The few JSON writing primitives the diff engine and the frame encoder share.
//!
//! Diffs are written straight into a `String` instead of building a `serde_json::Value`
//! tree: a reply frame is encoded once, on the view-node, and this keeps that one pass
//! allocation-light.

use std::fmt::Write;

/// Appends `text` as a JSON string literal.
pub(crate) fn string(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let rep: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => {
                out.push_str(&text[last..i]);
                let _ = write!(out, "\\u{b:04x}");
                last = i + 1;
                continue;
            }
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&text[last..]);
    out.push('"');
}

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

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_serde_json() {
        for text in [
            "plain",
            "a\"b\\c",
            "line\nbreak\t\u{1}",
            "<p class=\"x\">é</p>",
        ] {
            let mut out = String::new();
            super::string(&mut out, text);
            assert_eq!(out, serde_json::to_string(text).unwrap());
        }
    }
}
