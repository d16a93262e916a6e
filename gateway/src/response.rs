//! What the gateway answers over HTTP: the body type, plain-text responses, and the one
//! place a gateway error or a refused upgrade becomes an HTTP answer.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

use crate::error::Error;
use crate::upgrade::Refusal;

/// Every response body: small and known in full.
pub(crate) type Body = Full<Bytes>;

/// A plain-text response.
pub(crate) fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The one place a gateway error becomes an HTTP answer.
pub(crate) fn error_response(error: &Error) -> Response<Body> {
    // A publish the node refused says why (the node's own words: a bad topic, a wrong
    // token, the API off): the caller sent it and can act on it.
    if let Error::Publish { status, .. } = error {
        let code = match status.code() {
            tonic::Code::InvalidArgument => StatusCode::BAD_REQUEST,
            tonic::Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            tonic::Code::PermissionDenied => StatusCode::FORBIDDEN,
            tonic::Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_GATEWAY,
        };
        if code.is_client_error() {
            return text(
                code,
                format!(
                    "{}
",
                    status.message()
                ),
            );
        }
    }
    let status = match error {
        Error::UpstreamUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        Error::Render { status, .. } if status.code() == tonic::Code::Unavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        Error::Render { .. } | Error::Publish { .. } | Error::InvalidRender { .. } => {
            StatusCode::BAD_GATEWAY
        }
        Error::Bind { .. }
        | Error::InvalidViewNode { .. }
        | Error::InvalidMembership(_)
        | Error::WeakSecret(_)
        | Error::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status.is_server_error() {
        tracing::warn!(%error, "request failed");
    }
    // The detail (node addresses, gRPC statuses) stays in the log.
    let reason = status.canonical_reason().unwrap_or("error");
    text(status, format!("{reason}\n"))
}

/// The answer to a refused WebSocket upgrade.
pub(crate) fn refusal_response(refusal: Refusal) -> Response<Body> {
    match refusal {
        Refusal::NotUpgrade => text(StatusCode::BAD_REQUEST, "expected a WebSocket upgrade\n"),
        Refusal::Version => text(StatusCode::BAD_REQUEST, "unsupported vsn, expected 2.0.0\n"),
        Refusal::Origin => text(StatusCode::FORBIDDEN, "origin not allowed\n"),
        Refusal::Full => text(StatusCode::SERVICE_UNAVAILABLE, "too many connections\n"),
        Refusal::Handshake(error) => text(StatusCode::BAD_REQUEST, format!("{error}\n")),
    }
}
