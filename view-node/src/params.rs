//! URL-encoded parameters decoded into nested JSON, as Plug decodes them.
//!
//! `user[name]=Jo&user[tags][]=a&user[tags][]=b` becomes
//! `{"user":{"name":"Jo","tags":["a","b"]}}`. Query strings and form payloads
//! (`phx-change` / `phx-submit` send the form urlencoded) share this decoder.

use serde_json::{Map, Value};

use crate::view::Params;

/// Decodes `a=1&b[c]=2` into nested parameters. Later keys win; malformed pairs are kept
/// as plain keys rather than refused, because browsers send what they send.
pub fn decode(query: &str) -> Params {
    let mut params = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key);
        let value = percent_decode(value);
        insert(&mut params, &key, value);
    }
    params
}

/// The query parameters of a URL (everything after `?`, before `#`).
pub fn from_url(url: &str) -> Params {
    let without_fragment = url.split('#').next().unwrap_or("");
    match without_fragment.split_once('?') {
        Some((_, query)) => decode(query),
        None => Params::new(),
    }
}

fn insert(params: &mut Params, key: &str, value: String) {
    let (head, rest) = match key.find('[') {
        Some(i) if i > 0 => (&key[..i], &key[i..]),
        _ => (key, ""),
    };
    let mut segments = Vec::new();
    let mut rest = rest;
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(end) = stripped.find(']') else { break };
        segments.push(&stripped[..end]);
        rest = &stripped[end + 1..];
    }
    let mut slot = params.entry(head.to_owned()).or_insert(Value::Null);
    for segment in segments {
        if segment.is_empty() {
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            if let Value::Array(items) = slot {
                items.push(Value::Null);
                slot = items
                    .last_mut()
                    .unwrap_or_else(|| unreachable!("just pushed"));
            }
            continue;
        }
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        if let Value::Object(map) = slot {
            slot = map.entry(segment.to_owned()).or_insert(Value::Null);
        }
    }
    *slot = Value::String(value);
}

/// Decodes `%XX` escapes and `+` (a space); invalid escapes are kept as written.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn decodes_nested_forms() {
        let p = decode("user%5B_unused_email%5D=&user%5Bemail%5D=&user%5Bname%5D=Jo+Do");
        assert_eq!(
            Value::Object(p),
            json!({"user":{"_unused_email":"","email":"","name":"Jo Do"}})
        );
    }

    #[test]
    fn decodes_lists_and_urls() {
        let p = from_url("http://h/counter?step=5&t[]=a&t[]=b#x");
        assert_eq!(Value::Object(p), json!({"step":"5","t":["a","b"]}));
        assert!(from_url("http://h/").is_empty());
    }

    #[test]
    fn keeps_bad_escapes() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%C3%A9"), "é");
    }
}
