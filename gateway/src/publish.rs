//! `POST /api/topics/<topic>`: services outside Cinder publish a JSON body to a topic.
//!
//! The gateway holds no pubsub of its own: it forwards the call to a live view-node's
//! topics API (`cinder.v1.Topics/Publish`, placed by the topic's name), which checks the
//! token again, refuses internal topics and publishes through the node's pubsub to the
//! whole cluster. The `Authorization: Bearer <token>` header travels as is.
//!
//! Nothing of the body is read before the token is checked here, against
//! [`Config::api_token`](crate::Config::api_token): an unauthenticated caller gets 401 at
//! once and the connection is closed, however large a body it announced. An
//! authenticated body must be at most 1 MiB (a larger `Content-Length` is refused before
//! reading) and arrive within [`Config::body_timeout`](crate::Config::body_timeout).
//!
//! | outcome | status |
//! | --- | --- |
//! | published | 202 |
//! | body not JSON, bad topic | 400 |
//! | missing or wrong token | 401 |
//! | an internal topic (`presence:…`), a framework event | 403 |
//! | body slower than the body timeout | 408 |
//! | body over 1 MiB | 413 |
//! | no view-node, API off (here or on the node), Redis down | 503 |

use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONNECTION, CONTENT_LENGTH, HeaderValue};
use hyper::{Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use tonic::metadata::MetadataValue;

use cinder_proto::v1::PublishRequest;

use crate::Error;
use crate::response::{Body, error_response, text};
use crate::shared::Shared;

/// Where the API lives.
pub(crate) const PREFIX: &str = "/api/topics/";
/// The largest body forwarded (the view-node's own limit).
const MAX_BODY: usize = 1 << 20;

/// Forwards one publish.
pub(crate) async fn publish(request: Request<Incoming>, shared: &Shared) -> Response<Body> {
    let path = request.uri().path();
    let topic = match percent_decode_str(path.strip_prefix(PREFIX).unwrap_or("")).decode_utf8() {
        Ok(topic) if !topic.is_empty() => topic.into_owned(),
        _ => {
            return text(
                StatusCode::BAD_REQUEST,
                "name a topic: POST /api/topics/<topic>\n",
            );
        }
    };
    let authorization = request.headers().get(AUTHORIZATION).cloned();
    let Some(token) = &shared.config.api_token else {
        return closing(text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the topics API is off at this gateway\n",
        ));
    };
    if !bearer_matches(authorization.as_ref(), token) {
        return closing(text(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token\n",
        ));
    }
    let announced = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > MAX_BODY as u64) {
        return closing(text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is over 1 MiB\n",
        ));
    }
    let reading = Limited::new(request.into_body(), MAX_BODY).collect();
    let body = match tokio::time::timeout(shared.config.body_timeout, reading).await {
        Ok(Ok(body)) => body.to_bytes(),
        Ok(Err(_)) => {
            return closing(text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the body is over 1 MiB\n",
            ));
        }
        Err(_) => {
            return closing(text(
                StatusCode::REQUEST_TIMEOUT,
                "the body took too long to arrive\n",
            ));
        }
    };
    let Ok(payload) = String::from_utf8(body.to_vec()) else {
        return text(StatusCode::BAD_REQUEST, "the body is not UTF-8 JSON\n");
    };
    let Some(link) = shared.nodes.place(&topic) else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "no view-node is linked\n");
    };
    let mut call = tonic::Request::new(PublishRequest { topic, payload });
    if let Some(value) = authorization.and_then(|v| MetadataValue::try_from(v.as_bytes()).ok()) {
        call.metadata_mut().insert("authorization", value);
    }
    match link.publish(call).await {
        Ok(_) => text(StatusCode::ACCEPTED, "published\n"),
        Err(status) => error_response(&Error::Publish {
            node: link.addr.to_string(),
            status: Box::new(status),
        }),
    }
}

/// Whether `authorization` is `Bearer <token>`, compared in time independent of where
/// they differ.
fn bearer_matches(authorization: Option<&HeaderValue>, token: &str) -> bool {
    let given = authorization
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .unwrap_or_default();
    !token.is_empty() && cinder_proto::credential::constant_time_eq(given, token.as_bytes())
}

/// `response`, closing the connection after it: the body left unread is never drained.
fn closing(mut response: Response<Body>) -> Response<Body> {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_matches() {
        let value = |s: &'static str| HeaderValue::from_static(s);
        assert!(bearer_matches(Some(&value("Bearer tok")), "tok"));
        assert!(!bearer_matches(Some(&value("Bearer to")), "tok"));
        assert!(!bearer_matches(Some(&value("Bearer tok2")), "tok"));
        assert!(!bearer_matches(Some(&value("tok")), "tok"));
        assert!(!bearer_matches(None, "tok"));
        assert!(
            !bearer_matches(Some(&value("Bearer ")), ""),
            "an empty token is none"
        );
    }
}
