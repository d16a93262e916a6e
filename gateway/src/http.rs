//! HTTP/1.1 on an accepted connection: which request goes where.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /live/websocket?…&vsn=2.0.0` | the WebSocket upgrade ([`crate::upgrade`]) |
//! | `GET /assets/…` | the client bundles, app.js and app.css ([`crate::assets`]) |
//! | `GET /healthz` | 200 while the process runs |
//! | `GET /readyz` | 200 when a view-node link is up and the gateway is not draining, else 503 |
//! | `GET /metrics` | Prometheus text |
//! | `POST /api/topics/<topic>` | a publish through a view-node ([`crate::publish`]) |
//! | any other `GET`/`HEAD` | a dead render on a view-node ([`crate::render`]) |
//! | anything else | 405 |
//!
//! Errors become responses in one place, [`error_response`].
//!
//! A connection has [`Config::header_timeout`](crate::Config::header_timeout) to send
//! each request's headers, also between requests on a kept-alive connection, so an idle
//! or trickling connection is closed in bounded time. Page renders are limited per
//! client address ([`crate::admission`]): past the limit, 429.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tracing::debug;

use crate::response::{Body, error_response, refusal_response, text};
use crate::shared::Shared;
use crate::upgrade::{self, Upgrade};
use crate::{admission, assets, publish, render};

/// The most hyper buffers for one request's headers.
const MAX_HEADER_BUFFER: usize = 64 * 1024;

/// Serves HTTP on `tcp` (from `peer`) until the connection ends; returns the WebSocket
/// upgrade if a request asked for one and got its 101.
pub(crate) async fn serve(tcp: TcpStream, peer: IpAddr, shared: Arc<Shared>) -> Option<Upgrade> {
    let slot: Arc<Mutex<Option<Upgrade>>> = Arc::default();
    let header_timeout = shared.config.header_timeout;
    let service = {
        let slot = slot.clone();
        service_fn(move |request| {
            let shared = shared.clone();
            let slot = slot.clone();
            async move { Ok::<_, Infallible>(handle(request, peer, &shared, &slot).await) }
        })
    };
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(MAX_HEADER_BUFFER)
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    if let Err(error) = connection.await {
        debug!(%error, "http connection ended with an error");
    }
    slot.lock().unwrap_or_else(PoisonError::into_inner).take()
}

async fn handle(
    mut request: Request<Incoming>,
    peer: IpAddr,
    shared: &Arc<Shared>,
    slot: &Mutex<Option<Upgrade>>,
) -> Response<Body> {
    let method = request.method().clone();
    if method == Method::GET && request.uri().path() == "/live/websocket" {
        return match upgrade::admit(&mut request, shared) {
            Ok((response, upgrade)) => {
                *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(upgrade);
                response
            }
            Err(refusal) => refusal_response(refusal),
        };
    }
    if method == Method::POST && request.uri().path().starts_with(publish::PREFIX) {
        return publish::publish(request, shared).await;
    }
    if method != Method::GET && method != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let head = method == Method::HEAD;
    let response = match request.uri().path() {
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/readyz" if shared.is_draining() => text(StatusCode::SERVICE_UNAVAILABLE, "draining\n"),
        "/readyz" if shared.nodes.up_count() > 0 => text(StatusCode::OK, "ready\n"),
        "/readyz" => text(StatusCode::SERVICE_UNAVAILABLE, "no view-node link is up\n"),
        "/metrics" => {
            let mut response = text(StatusCode::OK, cinder_telemetry::render());
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        path => match assets::file(path) {
            Some(file) => assets::serve(&shared.config.assets, file).await,
            None => {
                let trust = shared.config.trust_forwarded_for;
                let client = admission::request_address(request.headers(), peer, trust);
                if shared.admission.allow_render(client, Instant::now()) {
                    match render::render(&request, shared).await {
                        Ok(response) => response,
                        Err(error) => error_response(&error),
                    }
                } else {
                    shared.metrics.renders_refused.increment(1);
                    let mut response = text(StatusCode::TOO_MANY_REQUESTS, "too many page loads\n");
                    response
                        .headers_mut()
                        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
                    response
                }
            }
        },
    };
    if head {
        let (parts, _) = response.into_parts();
        return Response::from_parts(parts, Body::default());
    }
    response
}
