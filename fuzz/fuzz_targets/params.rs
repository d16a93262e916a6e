//! `params`: query strings, form bodies, join and patch URLs decoded into nested JSON,
//! from any client before any check.
//!
//! Holds: no input panics or overflows the stack (the issue's `a[][][]…=1`); what is
//! accepted nests at most `MAX_DEPTH` levels below its key; a URL over `MAX_URL_BYTES`
//! is refused; a plain `k=v&…` query (no brackets, no escapes) gives back each pair,
//! the last one winning.
#![no_main]

use cinder::params::{self, MAX_DEPTH, MAX_URL_BYTES, ParamsError};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(decoded) = params::decode(text) {
        for value in decoded.values() {
            assert!(depth(value) <= MAX_DEPTH, "{text:?}");
        }
        if !text.contains(['[', ']', '%', '+']) {
            let mut expected = serde_json::Map::new();
            for pair in text.split('&').filter(|p| !p.is_empty()) {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                expected.insert(key.to_owned(), Value::String(value.to_owned()));
            }
            assert_eq!(decoded, expected, "{text:?}");
        }
    }
    match params::from_url(text) {
        Ok(decoded) => {
            assert!(text.len() <= MAX_URL_BYTES);
            for value in decoded.values() {
                assert!(depth(value) <= MAX_DEPTH);
            }
        }
        Err(error) => {
            if text.len() > MAX_URL_BYTES {
                assert_eq!(error, ParamsError::UrlTooLong);
            }
        }
    }
});

/// How many levels of arrays and objects `value` nests (an explicit stack, since the
/// value may be as deep as a bug let it be).
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0)];
    while let Some((value, level)) = stack.pop() {
        deepest = deepest.max(level);
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, level + 1))),
            Value::Object(map) => stack.extend(map.values().map(|v| (v, level + 1))),
            _ => {}
        }
    }
    deepest
}
