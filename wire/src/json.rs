//! JSON string literals, appended to a `String` as they are written.

use std::fmt::Write as _;

/// Appends `text` as a JSON string literal, escaped as `serde_json` escapes it.
pub fn string(out: &mut String, text: &str) {
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

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_serde_json() {
        for text in [
            "plain",
            "a\"b\\c",
            "line\nbreak\t\u{1}\r\u{1f}",
            "<p class=\"x\">é</p>",
            "",
        ] {
            let mut out = String::new();
            super::string(&mut out, text);
            assert_eq!(out, serde_json::to_string(text).unwrap_or_default());
        }
    }
}
