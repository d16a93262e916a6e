//! Admitting a WebSocket: the checks made before the 101, and the CSRF verdict.
//!
//! In order: a real upgrade request (400), `vsn=2.0.0` (400), an allowed `Origin` (403),
//! room under the connection cap (503). A request without `Origin` (not a browser) is
//! allowed. The CSRF check never refuses: a socket whose `_csrf_token` does not verify
//! against its `_cinder_key` cookie still connects, and each of its joins reaches the
//! view-node with `csrf_ok = false`, which answers `stale` (as Phoenix does).

use std::sync::Arc;

use cinder_wire::percent;
use fastwebsockets::upgrade::{UpgradeFut, is_upgrade_request};
use hyper::header::{HOST, HeaderValue, ORIGIN, SEC_WEBSOCKET_PROTOCOL};
use hyper::{Request, Response};

use crate::csrf::{self, COOKIE_NAME};
use crate::response::Body;
use crate::shared::{Shared, SocketPermit};

/// The only serializer version spoken.
const VSN: &str = "2.0.0";

/// An accepted upgrade, waiting for hyper to hand over the connection.
#[derive(Debug)]
pub(crate) struct Upgrade {
    pub(crate) fut: UpgradeFut,
    pub(crate) csrf_ok: bool,
    pub(crate) permit: SocketPermit,
}

/// Why an upgrade was refused; [`crate::response::refusal_response`] answers it.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Not a WebSocket upgrade request.
    NotUpgrade,
    /// A `vsn` other than 2.0.0.
    Version,
    /// An `Origin` outside the allowed ones.
    Origin,
    /// The connection cap is reached.
    Full,
    /// The handshake headers are invalid.
    Handshake(fastwebsockets::WebSocketError),
}

/// Checks an upgrade request; on success the 101 response and the pending upgrade.
pub(crate) fn admit(
    request: &mut Request<hyper::body::Incoming>,
    shared: &Arc<Shared>,
) -> Result<(Response<Body>, Upgrade), Refusal> {
    if !is_upgrade_request(request) {
        return Err(Refusal::NotUpgrade);
    }
    let query = request.uri().query().unwrap_or("");
    if query_param(query, "vsn").as_deref() != Some(VSN) {
        return Err(Refusal::Version);
    }
    let headers = request.headers();
    if let Some(origin) = headers.get(ORIGIN) {
        let host = headers.get(HOST).and_then(|h| h.to_str().ok());
        let allowed = origin
            .to_str()
            .is_ok_and(|origin| shared.origins.allows(origin, host));
        if !allowed {
            tracing::debug!(?origin, "origin refused");
            return Err(Refusal::Origin);
        }
    }
    let Some(permit) = shared.try_open_socket() else {
        return Err(Refusal::Full);
    };
    let csrf_ok = query_param(query, "_csrf_token").is_some_and(|token| {
        shared
            .csrf
            .verify(&token, csrf::cookie(headers, COOKIE_NAME), csrf::unix_now())
    });
    let phoenix_protocol = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|protocol| protocol.trim() == "phoenix");

    let (response, fut) = fastwebsockets::upgrade::upgrade(request).map_err(Refusal::Handshake)?;
    let (mut parts, _) = response.into_parts();
    if phoenix_protocol {
        parts
            .headers
            .insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("phoenix"));
    }
    Ok((
        Response::from_parts(parts, Body::default()),
        Upgrade {
            fut,
            csrf_ok,
            permit,
        },
    ))
}

/// The percent-decoded value of `name` in a query string.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| percent::decode(key) == name)
        .map(|(_, value)| percent::decode(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_decodes_query_params() {
        let q = "_csrf_token=17.a%2Db&_mounts=1&vsn=2.0.0&flag";
        assert_eq!(query_param(q, "vsn").as_deref(), Some("2.0.0"));
        assert_eq!(query_param(q, "_csrf_token").as_deref(), Some("17.a-b"));
        assert_eq!(query_param(q, "flag").as_deref(), Some(""));
        assert_eq!(query_param(q, "missing"), None);
    }
}
