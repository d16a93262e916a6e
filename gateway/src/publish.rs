//! `POST /api/topics/<topic>`: services outside Cinder publish a JSON body to a topic.
//!
//! The gateway holds no pubsub of its own: it forwards the call to a live view-node's
//! topics API (`cinder.v1.Topics/Publish`, placed by the topic's name), which checks the
//! bearer token and publishes through the node's pubsub to the whole cluster. The
//! `Authorization: Bearer <token>` header travels as is.
//!
//! | outcome | status |
//! | --- | --- |
//! | published | 202 |
//! | body not JSON, bad topic | 400 |
//! | missing or wrong token | 401 |
//! | body over 1 MiB | 413 |
//! | no view-node, API off, Redis down | 503 |

use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use hyper::header::AUTHORIZATION;
use hyper::{Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use tonic::Code;
use tonic::metadata::MetadataValue;

use cinder_proto::v1::PublishRequest;

use crate::http::{Body, text};
use crate::server::Shared;

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
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "the body is over 1 MiB\n"),
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
        Err(status) => {
            let code = match status.code() {
                Code::InvalidArgument => StatusCode::BAD_REQUEST,
                Code::Unauthenticated => StatusCode::UNAUTHORIZED,
                Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_GATEWAY,
            };
            text(code, format!("{}\n", status.message()))
        }
    }
}
