//! Cinder's view-node: hosts an app's live sessions behind the gateways' gRPC link.
//!
//! [`serve`] runs one: it joins the cluster ([`Cluster`]: pubsub, presence and
//! membership, through Redis or in the process), serves the router's views on the gRPC
//! port ([`Server`]: `cinder.v1.ViewNode`, `cinder.v1.Topics`, `grpc.health.v1`), the
//! admin port when asked ([`admin`]: `/healthz`, `/readyz`, `/metrics`), and drains on
//! shutdown. App binaries get all of it from `cinder-runtime`; [`cli::Flags`] are its
//! settings.
//!
//! - [`link`] — the link and dead renders: sessions multiplexed per gateway.
//! - [`topics`] — the topics API for services outside Cinder.
//! - [`server`] — the gRPC port and its health.
//! - [`cluster`] — the pubsub, presence and membership a node runs with.
//! - [`admin`] — the operators' HTTP port.
//! - [`cli`] — the settings, as flags and variables.
//! - `beat` — the node's figures for the cluster dashboard, every second.

pub mod admin;
mod beat;
pub mod cli;
pub mod cluster;
pub mod link;
pub mod server;
pub mod topics;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use cinder::router::Router;
use cinder_telemetry::beat::State;
use tracing::{info, warn};

pub use cluster::{Cluster, NodeOptions};
pub use link::DEFAULT_MAX_SESSIONS;
pub use server::Server;

/// The longest a draining view-node waits for its links to close, unless set.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a running view-node listens.
#[derive(Debug, Clone)]
pub struct Bound {
    /// The gRPC port: links, renders, topics API, health.
    pub grpc: SocketAddr,
    /// The admin HTTP port, when one was asked for.
    pub admin: Option<SocketAddr>,
    /// The node's services for a gateway in the same process ([`Server::local`]).
    pub local: cinder_proto::NodeService,
}

/// Runs a view-node serving `routes` on `listen`, in the cluster `options` describe,
/// its tokens signed with the cluster `secret`; `ready` gets its addresses once bound.
///
/// `routes` receives the router with the node's pubsub and presence in place and adds
/// the app's views. On `shutdown` the node drains: health turns `NOT_SERVING`, it leaves
/// the member set, its sessions move to other nodes (views with
/// [`cinder::LiveView::snapshot`]) or fail their channels (the clients rejoin on other
/// nodes), each link ends once its sessions are gone, then it leaves presence, and it
/// returns once the links are closed or after the drain timeout.
///
/// # Errors
/// A port that cannot be bound, a cluster that cannot be joined (a bad Redis URL), or
/// the gRPC server failing.
pub async fn serve(
    listen: SocketAddr,
    secret: &[u8],
    options: NodeOptions,
    routes: impl FnOnce(Router) -> Router,
    ready: impl FnOnce(Bound),
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    // The recorder first: what is counted before it is installed is lost.
    cinder_telemetry::prometheus();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("--listen {listen}"))?;
    let addr = listener.local_addr()?;
    let mut cluster = Cluster::join(&options, &addr.to_string(), secret)?;
    // The node's name is unique in the cluster: its upload folder is its own, and the
    // sweep removes only what an earlier run of this node left.
    let advertise = options
        .advertise
        .clone()
        .unwrap_or_else(|| addr.to_string());
    let name = options.name.as_deref().unwrap_or(&advertise);
    prepare_uploads(name);
    let beats = Arc::new(beat::Beats::new(
        name,
        &advertise,
        cluster.pubsub.clone(),
        cluster.tracker.clone(),
    ));
    let _beating = AbortOnDrop(beats.spawn());
    let (grace, max_parked) = options.park.unwrap_or((
        cinder::parking::DEFAULT_GRACE,
        cinder::parking::DEFAULT_MAX_PARKED,
    ));
    let router = routes(
        Router::new(secret)
            .pubsub(cluster.pubsub.clone())
            .presence(cluster.tracker.clone())
            .park(grace, max_parked),
    );
    let server = Server::new(listener, router)
        .api_token(options.api_token.clone())
        .tls(options.tls.clone())
        .max_sessions(options.max_sessions.unwrap_or(DEFAULT_MAX_SESSIONS))
        .cluster_up(cluster.up.clone());
    let (admin, admin_addr) = match options.admin_listen {
        Some(admin) => {
            let listener = tokio::net::TcpListener::bind(admin)
                .await
                .with_context(|| format!("--admin-listen {admin}"))?;
            let bound = listener.local_addr()?;
            let task = tokio::spawn(admin::serve(listener, server.readiness()));
            (Some(AbortOnDrop(task)), Some(bound))
        }
        None => (None, None),
    };
    ready(Bound {
        grpc: addr,
        admin: admin_addr,
        local: server.local(),
    });
    let (drained, drain) = tokio::sync::oneshot::channel::<()>();
    let serving = server.serve(async {
        let _ = drain.await;
    });
    tokio::pin!(serving);
    let limit = options.drain_timeout.unwrap_or(DEFAULT_DRAIN_TIMEOUT);
    tokio::select! {
        served = &mut serving => served?,
        () = shutdown => {
            info!("draining");
            beats.set(State::Draining);
            cluster.leave_members().await;
            let _ = drained.send(());
            // Each link ends once its sessions moved or failed; a peer that never lets
            // go does not hold the exit.
            match tokio::time::timeout(limit, serving).await {
                Ok(served) => served?,
                Err(_) => warn!("drain took over {limit:?}; exiting anyway"),
            }
            beats.set(State::Stopped);
            cluster.leave().await;
        }
    }
    drop(admin);
    Ok(())
}

/// Makes the upload folder of node `name` this process's, emptied of what an earlier run
/// left. A folder that cannot be used is logged, not fatal: uploads then go where the
/// process's first folder (or the system temp folder) is.
fn prepare_uploads(name: &str) {
    let dir = cinder::upload::node_temp_dir(name);
    if let Err(error) = cinder::upload::use_temp_dir(&dir) {
        warn!(%error, dir = %dir.display(), "upload folder not set");
    }
}

/// A task stopped when its owner is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
