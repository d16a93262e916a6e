//! [`TestApp`]: a view-node and a gateway running an app's router inside the test
//! process, on loopback ports of their own.

use std::net::SocketAddr;
use std::time::Duration;

use cinder::node::{LinkOutbox, Server};
use cinder::router::Router;
use tokio::task::JoinHandle;

use crate::dead::{self, DeadRender};
use crate::error::{Error, Result};
use crate::live::Live;

/// How long the gateway may take to link to the view-node.
const LINK_TIMEOUT: Duration = Duration::from_secs(10);

/// An app served in-process: its view-node and its gateway on `127.0.0.1:0`, signed with
/// a random secret. Both stop when it is dropped.
#[derive(Debug)]
pub struct TestApp {
    addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl TestApp {
    /// Builds the router with `router(secret)` and serves it. Call it inside a Tokio
    /// runtime (`#[tokio::test]`); it returns once the gateway can serve.
    ///
    /// # Errors
    /// [`Error::Start`] when a port cannot be bound or the gateway never links to the
    /// view-node.
    pub async fn start(router: impl FnOnce(&[u8]) -> Router<LinkOutbox>) -> Result<TestApp> {
        let start = |e: &dyn std::fmt::Display| Error::Start(e.to_string());
        let secret: [u8; 32] = rand::random();
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let node = Server::bind(loopback, router(&secret))
            .await
            .map_err(|e| start(&e))?;
        let node_addr = node.local_addr().map_err(|e| start(&e))?;
        let mut tasks = vec![tokio::spawn(async move {
            if let Err(error) = node.serve(std::future::pending()).await {
                tracing::warn!(%error, "the test view-node stopped");
            }
        })];
        let config =
            cinder_gateway::Config::new(loopback, vec![node_addr.to_string()], secret.to_vec());
        let gateway = match cinder_gateway::bind(config).await {
            Ok(gateway) => gateway,
            Err(error) => {
                abort(&tasks);
                return Err(start(&error));
            }
        };
        let addr = gateway.local_addr();
        let mut links = gateway.links();
        tasks.push(tokio::spawn(async move {
            if let Err(error) = gateway.serve(std::future::pending()).await {
                tracing::warn!(%error, "the test gateway stopped");
            }
        }));
        let app = TestApp { addr, tasks };
        if !links.first(LINK_TIMEOUT).await {
            return Err(Error::Start(format!(
                "the gateway did not link to the view-node within {LINK_TIMEOUT:?}"
            )));
        }
        Ok(app)
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
        abort(&self.tasks);
    }
}

fn abort(tasks: &[JoinHandle<()>]) {
    for task in tasks {
        task.abort();
    }
}
