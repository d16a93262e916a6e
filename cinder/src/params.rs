//! URL-encoded parameters decoded into nested JSON, as Plug decodes them.
//!
//! `user[name]=Jo&user[tags][]=a&user[tags][]=b` becomes
//! `{"user":{"name":"Jo","tags":["a","b"]}}`. Query strings and form payloads
//! (`phx-change` / `phx-submit` send the form urlencoded) share this decoder.
//!
//! Every input here comes from a client, so the decoder has bounds: a key nests at most
//! [`MAX_DEPTH`] levels, a query holds at most [`MAX_PARAMS`] pairs, a key is at most
//! [`MAX_KEY_BYTES`] long and a URL at most [`MAX_URL_BYTES`]. Input over a bound is
//! refused whole with a [`ParamsError`], never cut short: half a form is worse than none.
//! The depth bound also keeps the value shallow enough that dropping it (which recurses
//! once per level) cannot exhaust a stack.

use serde_json::{Map, Value};

use crate::view::Params;

pub(crate) use cinder_wire::percent::decode as percent_decode;

/// The most `[…]` segments one key may have (`a[b][]` has two); real forms nest three or
/// four levels.
pub const MAX_DEPTH: usize = 32;

/// The most `key=value` pairs one query string or form may hold.
pub const MAX_PARAMS: usize = 10_000;

/// The longest key, in bytes after percent-decoding.
pub const MAX_KEY_BYTES: usize = 1024;

/// The longest URL [`from_url`] reads, in bytes: Cowboy's default request line
/// (`max_request_line_length`, 8,000) with room for the scheme and host.
pub const MAX_URL_BYTES: usize = 8 * 1024;

/// Why parameters were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    /// A key nests deeper than [`MAX_DEPTH`].
    #[error("a parameter nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// More than [`MAX_PARAMS`] pairs.
    #[error("more than {MAX_PARAMS} parameters")]
    TooMany,
    /// A key longer than [`MAX_KEY_BYTES`].
    #[error("a parameter name is longer than {MAX_KEY_BYTES} bytes")]
    KeyTooLong,
    /// A URL longer than [`MAX_URL_BYTES`].
    #[error("the URL is longer than {MAX_URL_BYTES} bytes")]
    UrlTooLong,
}

/// Decodes `a=1&b[c]=2` into nested parameters. Later keys win; malformed pairs are kept
/// as plain keys rather than refused, because browsers send what they send. Input over
/// one of the bounds is refused.
pub fn decode(query: &str) -> Result<Params, ParamsError> {
    let mut params = Map::new();
    let pairs = query.split('&').filter(|p| !p.is_empty());
    for (count, pair) in pairs.enumerate() {
        if count == MAX_PARAMS {
            return Err(ParamsError::TooMany);
        }
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        // A percent-escape is three bytes for one: no key this long decodes short enough.
        if key.len() > 3 * MAX_KEY_BYTES {
            return Err(ParamsError::KeyTooLong);
        }
        let key = percent_decode(key);
        if key.len() > MAX_KEY_BYTES {
            return Err(ParamsError::KeyTooLong);
        }
        insert(&mut params, &key, percent_decode(value))?;
    }
    Ok(params)
}

/// The query parameters of a URL (everything after `?`, before `#`).
pub fn from_url(url: &str) -> Result<Params, ParamsError> {
    if url.len() > MAX_URL_BYTES {
        return Err(ParamsError::UrlTooLong);
    }
    let without_fragment = url.split('#').next().unwrap_or("");
    match without_fragment.split_once('?') {
        Some((_, query)) => decode(query),
        None => Ok(Params::new()),
    }
}

/// The `[…]` segments of a key after its head, or `TooDeep` past [`MAX_DEPTH`] (found
/// without reading the rest of the key).
fn segments(mut rest: &str) -> Result<Vec<&str>, ParamsError> {
    let mut segments = Vec::new();
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(end) = stripped.find(']') else { break };
        if segments.len() == MAX_DEPTH {
            return Err(ParamsError::TooDeep);
        }
        segments.push(&stripped[..end]);
        rest = &stripped[end + 1..];
    }
    Ok(segments)
}

fn insert(params: &mut Params, key: &str, value: String) -> Result<(), ParamsError> {
    let (head, rest) = match key.find('[') {
        Some(i) if i > 0 => (&key[..i], &key[i..]),
        _ => (key, ""),
    };
    let segments = segments(rest)?;
    let mut slot = params.entry(head.to_owned()).or_insert(Value::Null);
    for segment in segments {
        // The `else` arms cannot run (the slot was just made an array or an object, the
        // item just pushed); they end the walk instead of panicking.
        if segment.is_empty() {
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            let Value::Array(items) = slot else {
                return Ok(());
            };
            items.push(Value::Null);
            let Some(item) = items.last_mut() else {
                return Ok(());
            };
            slot = item;
            continue;
        }
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(map) = slot else {
            return Ok(());
        };
        slot = map.entry(segment.to_owned()).or_insert(Value::Null);
    }
    *slot = Value::String(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn decodes_nested_forms() {
        let p = decode("user%5B_unused_email%5D=&user%5Bemail%5D=&user%5Bname%5D=Jo+Do").unwrap();
        assert_eq!(
            Value::Object(p),
            json!({"user":{"_unused_email":"","email":"","name":"Jo Do"}})
        );
    }

    #[test]
    fn decodes_lists_and_urls() {
        let p = from_url("http://h/counter?step=5&t[]=a&t[]=b#x").unwrap();
        assert_eq!(Value::Object(p), json!({"step":"5","t":["a","b"]}));
        assert!(from_url("http://h/").unwrap().is_empty());
    }

    #[test]
    fn refuses_deep_keys_without_building_them() {
        let at_bound = format!("a{}=1", "[]".repeat(MAX_DEPTH));
        let value = decode(&at_bound).unwrap();
        let (mut depth, mut at) = (0, &value["a"]);
        while let Some(inner) = at.as_array().and_then(|items| items.first()) {
            (depth, at) = (depth + 1, inner);
        }
        assert_eq!((depth, at), (MAX_DEPTH, &json!("1")));
        let over = format!("a{}=1", "[]".repeat(MAX_DEPTH + 1));
        assert_eq!(decode(&over), Err(ParamsError::TooDeep));
        // The probes: 25,000 levels in a GET, 400,000 in a form event.
        let get = format!("http://h/counter?a{}=1", "[]".repeat(25_000));
        assert_eq!(from_url(&get), Err(ParamsError::UrlTooLong));
        let form = format!("a{}=1", "[]".repeat(400_000));
        assert_eq!(decode(&form), Err(ParamsError::KeyTooLong));
        let escaped = format!("a{}=1", "%5Bx%5D".repeat(MAX_DEPTH + 1));
        assert_eq!(decode(&escaped), Err(ParamsError::TooDeep));
        let named = format!("a{}=1", "[k]".repeat(MAX_DEPTH + 1));
        assert_eq!(decode(&named), Err(ParamsError::TooDeep));
    }

    #[test]
    fn refuses_too_many_pairs_and_long_keys() {
        let at_bound = "a[]=1&".repeat(MAX_PARAMS);
        assert_eq!(
            decode(&at_bound).unwrap()["a"].as_array().unwrap().len(),
            MAX_PARAMS
        );
        let over = format!("{at_bound}b=2");
        assert_eq!(decode(&over), Err(ParamsError::TooMany));
        // Empty pairs (`&&`) are not pairs.
        assert!(decode(&"&".repeat(MAX_PARAMS * 2)).unwrap().is_empty());
        let long = "k".repeat(MAX_KEY_BYTES);
        assert!(decode(&format!("{long}=1")).is_ok());
        assert_eq!(decode(&format!("{long}k=1")), Err(ParamsError::KeyTooLong));
        let url = format!("http://h/?{}", "x".repeat(MAX_URL_BYTES));
        assert_eq!(from_url(&url), Err(ParamsError::UrlTooLong));
    }
}
