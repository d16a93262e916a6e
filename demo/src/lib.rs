//! The demo app: every view, its routes, and how the process runs.
//!
//! - `views` — the demo's live views (`/`, `/counter`, `/form`, `/chat/:room`, `/clock`,
//!   `/feed/:name`, `/todos`).
//! - [`router`] — the routes; the same for every way of running.
//! - [`cluster`] — the pubsub, presence and membership a node runs with (Redis or none).
//! - [`embedded`] — gateway + view-node + in-process pubsub and presence in one process.
//! - [`view_node`] — only the view-node, for a split topology behind `cinder-gateway`.

pub mod cluster;
pub mod views;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use cinder::node::{DEFAULT_MAX_SESSIONS, LinkOutbox, Server};
use cinder::router::Router;

pub use cluster::{Cluster, NodeOptions};

/// The longest a draining view-node waits for its connections to close.
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The demo's routes, with `cluster`'s topics and presence.
pub fn router(secret: &[u8], cluster: &Cluster) -> Router<LinkOutbox> {
    Router::new(secret)
        .pubsub(cluster.pubsub.clone())
        .presence(cluster.tracker.clone())
        .live::<views::home::Home>("/")
        .live::<views::counter::Counter>("/counter")
        .live::<views::form::Form>("/form")
        .live::<views::chat::Chat>("/chat/:room")
        .live::<views::clock::Clock>("/clock")
        .live::<views::feed::Feed>("/feed/:name")
        .live::<views::todos::Todos>("/todos")
        .live::<views::upload::Upload>("/upload")
}

/// Where the pinned client bundles and `app.js` live: `CINDER_ASSETS`, else the
/// repository's `client/` folder.
pub fn assets_dir() -> PathBuf {
    std::env::var_os("CINDER_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../client")))
}

/// A view-node serving the demo on `listen`, in the cluster `options` describe; `ready`
/// gets its address once bound. On `shutdown` it drains: leaves the member set and
/// presence, then stops (its clients rejoin on other nodes).
pub async fn view_node(
    listen: SocketAddr,
    secret: &[u8],
    options: NodeOptions,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let cluster = Cluster::join(&options, &addr.to_string(), secret)?;
    // The node's name is unique in the cluster: its upload folder is its own, and the
    // sweep removes only what an earlier run of this node left.
    let advertise = options
        .advertise
        .clone()
        .unwrap_or_else(|| addr.to_string());
    let name = options.name.as_deref().unwrap_or(&advertise);
    prepare_uploads(name);
    let server = Server::new(listener, router(secret, &cluster))
        .api_token(options.api_token.clone())
        .tls(options.tls.clone())
        .max_sessions(options.max_sessions.unwrap_or(DEFAULT_MAX_SESSIONS));
    ready(addr);
    let (drained, drain) = tokio::sync::oneshot::channel::<()>();
    let serving = server.serve(async {
        let _ = drain.await;
    });
    tokio::pin!(serving);
    tokio::select! {
        served = &mut serving => served?,
        () = shutdown => {
            cluster.leave().await;
            let _ = drained.send(());
            // The links end at once; a peer that never lets go does not hold the exit.
            match tokio::time::timeout(DRAIN_LIMIT, serving).await {
                Ok(served) => served?,
                Err(_) => tracing::warn!("drain took over {DRAIN_LIMIT:?}; exiting anyway"),
            }
        }
    }
    Ok(())
}

/// Gateway and view-node in one process: the view-node on a loopback port of its own,
/// the gateway on `listen`. `ready` gets the gateway's address once bound.
pub async fn embedded(
    listen: SocketAddr,
    secret: &[u8],
    ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let cluster = Cluster::local("embedded", None)?;
    let api_token = std::env::var("CINDER_API_TOKEN").ok();
    let node = Server::bind(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        router(secret, &cluster),
    )
    .await?
    .api_token(api_token.clone());
    let node_addr = node.local_addr()?;
    let (stop_node, node_stopped) = tokio::sync::oneshot::channel::<()>();
    let node_task = tokio::spawn(node.serve(async {
        let _ = node_stopped.await;
    }));
    let mut config =
        cinder_gateway::Config::new(listen, vec![node_addr.to_string()], secret.to_vec());
    config.assets = assets_dir();
    // The gateway checks the token itself before it reads a publish's body.
    config.api_token = api_token;
    let gateway = cinder_gateway::bind(config).await?;
    // Named by the gateway's port, which no other live process on this host holds.
    let uploads = format!("embedded-{}", gateway.local_addr().port());
    prepare_uploads(&uploads);
    // The node is in this process: its link comes up at once; announce after it.
    gateway
        .links()
        .first(std::time::Duration::from_secs(5))
        .await;
    ready(gateway.local_addr());
    gateway.serve(shutdown).await?;
    let _ = stop_node.send(());
    node_task.await??;
    Ok(())
}

/// Makes the upload folder of node `name` this process's, emptied of what an earlier run
/// left. A folder that cannot be used is logged, not fatal: uploads then go where the
/// process's first folder (or the system temp folder) is.
fn prepare_uploads(name: &str) {
    let dir = cinder::upload::node_temp_dir(name);
    if let Err(error) = cinder::upload::use_temp_dir(&dir) {
        tracing::warn!(%error, dir = %dir.display(), "upload folder not set");
    }
}
