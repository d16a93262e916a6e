//! Embedded mode: a gateway and a view-node in one process.
//!
//! The gateway links to its view-node with the same gRPC contract as in a cluster, so an
//! app behaves the same embedded and split, but calls the node's services in the process
//! (`cinder_proto::NodeService`): no HTTP/2 codec, socket or connection task on the hop.
//! The node still listens on a loopback port of its own (health, and any other gateway).
//! Topics and presence stay in the process.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use cinder::router::Router;
use cinder_gateway::Drain;
use cinder_view_node::NodeOptions;

/// How long the gateway may take to link to its own view-node.
const LINK_WAIT: Duration = Duration::from_secs(5);

/// Embedded mode's settings.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// Where the gateway listens (port 0 picks one).
    pub listen: SocketAddr,
    /// The token secret.
    pub secret: Vec<u8>,
    /// The folder holding `app.js` and the client bundles.
    pub assets: PathBuf,
    /// The topics API's bearer token; closed when `None`.
    pub api_token: Option<String>,
    /// What the gateway does once `drain` resolves.
    pub drain: Drain,
}

/// Serves `routes` embedded until `drain` resolves, then drains the gateway (see
/// [`Drain`]) and stops the view-node. `ready` gets the gateway's address once it links
/// to its view-node.
///
/// # Errors
/// A port that cannot be bound, or a failure of either tier.
pub async fn embedded(
    settings: Embedded,
    routes: impl FnOnce(Router) -> Router + Send + 'static,
    ready: impl FnOnce(SocketAddr),
    drain: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    // Uploads go to a folder named by the gateway's port, which no other live process
    // of this host holds; port 0 falls back to the process id.
    let name = match settings.listen.port() {
        0 => format!("embedded-pid{}", std::process::id()),
        port => format!("embedded-{port}"),
    };
    let options = NodeOptions {
        name: Some(name),
        api_token: settings.api_token.clone(),
        ..NodeOptions::default()
    };
    let (bound, node_addr) = tokio::sync::oneshot::channel();
    let (stop_node, node_stop) = tokio::sync::oneshot::channel::<()>();
    let secret = settings.secret.clone();
    let node = tokio::spawn(async move {
        let ready = move |b: cinder_view_node::Bound| {
            let _ = bound.send((b.grpc, b.local));
        };
        let stop = async {
            let _ = node_stop.await;
        };
        cinder_view_node::serve(loopback, &secret, options, routes, ready, stop).await
    });
    let Ok((node_addr, local)) = node_addr.await else {
        return Err(match node.await {
            Ok(Err(error)) => error,
            _ => anyhow::anyhow!("the view-node stopped before listening"),
        });
    };
    let mut config = cinder_gateway::Config::new(
        settings.listen,
        vec![node_addr.to_string()],
        settings.secret,
    );
    config.assets = settings.assets;
    // The gateway checks the token itself before it reads a publish's body.
    config.api_token = settings.api_token;
    config.drain = settings.drain;
    config.in_process = Some((node_addr.to_string(), local));
    let gateway = match cinder_gateway::bind(config).await {
        Ok(gateway) => gateway,
        Err(error) => {
            // The view-node stops with it instead of serving on, unreachable.
            node.abort();
            return Err(error.into());
        }
    };
    gateway.links().first(LINK_WAIT).await;
    ready(gateway.local_addr());
    let served = gateway.serve_until_drained(drain).await;
    let _ = stop_node.send(());
    node.await.context("the view-node task")??;
    served?;
    Ok(())
}
