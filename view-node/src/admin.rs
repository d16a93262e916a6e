//! The view-node's HTTP port for operators (`--admin-listen`): `GET /healthz` (200 while
//! the process runs), `GET /readyz` (200 while the node takes joins, 503 before its
//! cluster is reachable and from the start of a drain) and `GET /metrics` (Prometheus
//! text). Nothing else is served, and nothing here reaches a session.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::debug;

/// How long a request's headers may take to arrive.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Admin connections open at once; more wait in the listen queue.
const MAX_CONNECTIONS: usize = 64;

/// Serves the admin endpoints on `listener` until the task is dropped; `ready` is the
/// node's readiness ([`crate::Server::readiness`]).
pub async fn serve(listener: TcpListener, ready: watch::Receiver<bool>) {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                debug!(%error, "admin accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let ready = ready.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let ready = *ready.borrow();
                async move { Ok::<_, Infallible>(answer(&request, ready)) }
            });
            let served = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(error) = served {
                debug!(%error, %peer, "admin connection ended");
            }
            drop(permit);
        });
    }
}

fn answer(request: &Request<Incoming>, ready: bool) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed\n".into(),
        );
    }
    let mut response = match request.uri().path() {
        "/healthz" => text(StatusCode::OK, "ok\n".into()),
        "/readyz" if ready => text(StatusCode::OK, "ready\n".into()),
        "/readyz" => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: draining, or the cluster's Redis is unreachable\n".into(),
        ),
        "/metrics" => {
            let mut response = text(StatusCode::OK, cinder_telemetry::render());
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    };
    if request.method() == Method::HEAD {
        *response.body_mut() = Full::default();
    }
    response
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}
