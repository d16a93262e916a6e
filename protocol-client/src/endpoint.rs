//! Where a client connects: the WebSocket URL with its query string built as `phoenix`'s
//! `Ajax.appendParams` builds it, and the page origin sent as `Origin`.

use crate::error::{Error, Result};

/// The protocol version the client speaks: V2 array frames.
pub const VSN: &str = "2.0.0";

/// A URL split into the parts this crate uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    /// `ws`, `wss`, `http` or `https`.
    pub(crate) scheme: String,
    /// `host[:port]`.
    pub(crate) authority: String,
    /// `/path?query` (at least `/`).
    pub(crate) target: String,
}

impl Url {
    pub(crate) fn parse(url: &str) -> Result<Url> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| invalid("no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "ws" | "wss" | "http" | "https") {
            return Err(invalid("the scheme is not ws, wss, http or https"));
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(end);
        if authority.is_empty() {
            return Err(invalid("no host"));
        }
        let target = target.split('#').next().unwrap_or_default();
        let target = match target.strip_prefix('?') {
            Some(query) => format!("/?{query}"),
            None if target.is_empty() => "/".to_owned(),
            None => target.to_owned(),
        };
        Ok(Url {
            scheme,
            authority: authority.to_owned(),
            target,
        })
    }

    /// `http://host[:port]` (or `https` for `wss`/`https`).
    pub(crate) fn origin(&self) -> String {
        let scheme = if matches!(self.scheme.as_str(), "wss" | "https") {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.authority)
    }

    /// The host and port to open a TCP connection to.
    pub(crate) fn host_port(&self) -> Result<(String, u16)> {
        let default = if matches!(self.scheme.as_str(), "wss" | "https") {
            443
        } else {
            80
        };
        let authority = &self.authority;
        // `[::1]:4000` or `host:4000` or `host`.
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, Some(port)),
            _ => (authority.as_str(), None),
        };
        let port = match port {
            Some(port) => port.parse().map_err(|_| Error::InvalidUrl {
                url: authority.clone(),
                reason: "bad port".into(),
            })?,
            None => default,
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        Ok((host.to_owned(), port))
    }
}

/// The WebSocket URL the browser opens: `url?<params>&vsn=2.0.0`, each pair written as
/// `encodeURIComponent(key)=encodeURIComponent(value)`.
pub(crate) fn socket_url(url: &str, params: &[(&str, &str)]) -> String {
    let with_params = append_params(url, params);
    append_params(&with_params, &[("vsn", VSN)])
}

/// `Ajax.appendParams`.
fn append_params(url: &str, params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        return url.to_owned();
    }
    let mut out = String::from(url);
    out.push(if url.contains('?') { '&' } else { '?' });
    for (i, (key, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_component(key, &mut out);
        out.push('=');
        encode_component(value, &mut out);
    }
    out
}

/// JavaScript's `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`
/// is percent-encoded as UTF-8.
pub(crate) fn encode_component(text: &str, out: &mut String) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_urls_like_phoenix() {
        assert_eq!(
            socket_url("ws://h:4/live/websocket", &[("_csrf_token", "a+b/c=")]),
            "ws://h:4/live/websocket?_csrf_token=a%2Bb%2Fc%3D&vsn=2.0.0"
        );
        assert_eq!(
            socket_url("ws://h/live/websocket", &[]),
            "ws://h/live/websocket?vsn=2.0.0"
        );
        assert_eq!(
            socket_url("ws://h/x?a=1", &[("b", "é ")]),
            "ws://h/x?a=1&b=%C3%A9%20&vsn=2.0.0"
        );
    }

    #[test]
    fn urls_split() {
        let url = Url::parse("ws://127.0.0.1:4000/live/websocket?x=1#f").unwrap();
        assert_eq!(url.origin(), "http://127.0.0.1:4000");
        assert_eq!(url.target, "/live/websocket?x=1");
        assert_eq!(url.host_port().unwrap(), ("127.0.0.1".to_owned(), 4000));
        let url = Url::parse("https://[::1]/").unwrap();
        assert_eq!(url.host_port().unwrap(), ("::1".to_owned(), 443));
        assert_eq!(Url::parse("http://h?q").unwrap().target, "/?q");
        assert!(Url::parse("ftp://h/").is_err());
        assert!(Url::parse("h/x").is_err());
    }
}
