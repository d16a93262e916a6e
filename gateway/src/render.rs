//! Dead renders: a page GET forwarded to the view-node that will hold its session.
//!
//! The gateway knows no app routes. For any page it picks the view id the page's
//! LiveView will join with (`phx-` + 16 url-safe random chars), places it by rendezvous
//! hashing, and sends the node the path, the request headers, the view id and the
//! absolute URL. Since the socket join of that page carries the same id, it lands on
//! the same node.
//!
//! The CSRF token for the page is minted here, bound to the `_cinder_key` cookie (set
//! now if the browser has none), and handed to the node as `x-cinder-csrf-token` to put
//! in the page's `<meta name="csrf-token">`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use cinder_proto::v1::{Header, RenderRequest};
use http_body_util::Full;
use hyper::header::{HOST, HeaderName, HeaderValue, SET_COOKIE};
use hyper::{Request, Response, StatusCode};
use rand::RngCore as _;

use crate::csrf::{self, COOKIE_NAME};
use crate::error::{Error, Result};
use crate::response::Body;
use crate::shared::Shared;

/// The header carrying the page's CSRF token to the view-node. A client's own copy is
/// dropped, so only the gateway can set it.
pub use cinder_proto::CSRF_HEADER;

/// Response headers that describe the gRPC hop or the connection, not the page.
const HOP_HEADERS: [&str; 6] = [
    "connection",
    "content-length",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "trailer",
];

/// A fresh view id: `phx-` and 16 url-safe random chars.
pub fn new_view_id() -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    format!("phx-{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Forwards the page request to its view-node and relays the answer.
pub(crate) async fn render<B>(request: &Request<B>, shared: &Shared) -> Result<Response<Body>> {
    let view_id = new_view_id();
    let link = shared
        .nodes
        .place(&view_id)
        .ok_or(Error::UpstreamUnavailable)?;

    let (cookie, new_cookie) = match csrf::cookie(request.headers(), COOKIE_NAME) {
        Some(cookie) => (cookie.to_owned(), None),
        None => {
            let cookie = csrf::new_cookie_value();
            (cookie.clone(), Some(cookie))
        }
    };
    let token = shared.csrf.mint(&cookie, csrf::unix_now());

    let mut headers: Vec<Header> = request
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str() != CSRF_HEADER)
        .filter_map(|(name, value)| {
            Some(Header {
                name: name.as_str().to_owned(),
                value: value.to_str().ok()?.to_owned(),
            })
        })
        .collect();
    headers.push(Header {
        name: CSRF_HEADER.to_owned(),
        value: token,
    });
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned());
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or("localhost");
    let url = format!("http://{host}{path}");

    shared.metrics.renders.increment(1);
    tracing::debug!(view = %view_id, node = %link.addr, %path, "dead render");
    let answer = link
        .render(RenderRequest {
            path,
            headers,
            view_id,
            url,
        })
        .await?;

    let invalid = |reason: String| Error::InvalidRender {
        node: link.addr.to_string(),
        reason,
    };
    let status = u16::try_from(answer.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| invalid(format!("status {}", answer.status)))?;
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = status;
    for header in answer.headers {
        let name = HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| invalid(format!("header name {:?}", header.name)))?;
        if HOP_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let value = HeaderValue::from_str(&header.value)
            .map_err(|_| invalid(format!("value of header {name}")))?;
        response.headers_mut().append(name, value);
    }
    if let Some(cookie) = new_cookie {
        let value = HeaderValue::from_str(&csrf::set_cookie(&cookie))
            .map_err(|_| invalid("cookie".to_owned()))?;
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_ids_are_phx_and_16_url_safe_chars() {
        let id = new_view_id();
        let rest = id.strip_prefix("phx-").unwrap();
        assert_eq!(rest.len(), 16);
        assert!(
            rest.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(id, new_view_id());
    }
}
