//! [`TestApp`]: a view-node and a gateway running an app's router inside the test
//! process, on loopback ports of their own.

use std::net::SocketAddr;

use cinder::router::Router;
use cinder_runtime::Embedded;
use tokio::task::JoinHandle;

use crate::dead::{self, DeadRender};
use crate::error::{Error, Result};
use crate::live::Live;

/// An app served in-process as `cinder-runtime` serves it embedded: its view-node and its
/// gateway on `127.0.0.1:0`, signed with a random secret. Both stop when it is dropped.
#[derive(Debug)]
pub struct TestApp {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TestApp {
    /// Serves the routes `routes` adds (the app's `routes` function). Call it inside a
    /// Tokio runtime (`#[tokio::test]`); it returns once the gateway can serve.
    ///
    /// # Errors
    /// [`Error::Start`] when a port cannot be bound or the app stops before serving.
    pub async fn start(routes: impl FnOnce(Router) -> Router + Send + 'static) -> Result<TestApp> {
        let settings = Embedded {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            secret: rand::random::<[u8; 32]>().to_vec(),
            assets: "client".into(),
            api_token: None,
            drain: cinder_gateway::Drain::default(),
        };
        let (bound, addr) = tokio::sync::oneshot::channel();
        let ready = move |addr| {
            let _ = bound.send(addr);
        };
        let task = tokio::spawn(async move {
            let served = cinder_runtime::embedded(settings, routes, ready, std::future::pending());
            if let Err(error) = served.await {
                tracing::warn!(%error, "the test app stopped");
            }
        });
        match addr.await {
            Ok(addr) => Ok(TestApp { addr, task }),
            Err(_) => Err(Error::Start(
                "the app stopped before serving (see the log)".into(),
            )),
        }
    }

    /// The gateway's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The dead render of `path`: one `GET`, redirects not followed.
    ///
    /// # Errors
    /// [`Error::Http`] when the request fails below HTTP; any status is returned.
    pub async fn get(&self, path: &str) -> Result<DeadRender> {
        dead::get(&self.url(path), None).await
    }

    /// Opens `path` as a browser does: the dead render (following redirects), the
    /// socket, the join of the main view.
    ///
    /// # Errors
    /// [`Error::Status`] when the page is not a 200, [`Error::Client`] when the socket
    /// or the join fails.
    pub async fn live(&self, path: &str) -> Result<Live> {
        Live::open(format!("http://{}", self.addr), self.url(path)).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.task.abort();
    }
}
