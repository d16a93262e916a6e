//! A bound view-node: the link and dead renders (`cinder.v1.ViewNode`), the topics API
//! for outside services (`cinder.v1.Topics`) and `grpc.health.v1`, on one port.
//!
//! The health service answers without the link token, for probes and load balancers:
//! `SERVING` for the service `""` and `"cinder.v1.ViewNode"` while the node takes joins,
//! `NOT_SERVING` before its cluster is reachable and from the start of a drain.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use cinder::router::Router;
use tokio::sync::watch;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::link::Node;
use crate::topics::TopicsApi;

/// A bound view-node, ready to serve: the link, dead renders, health, and the topics
/// API for outside services.
pub struct Server {
    listener: tokio::net::TcpListener,
    node: Node,
    topics: TopicsApi,
    drain: watch::Sender<bool>,
    /// Whether the node's cluster is reachable (see [`Server::cluster_up`]).
    cluster_up: watch::Receiver<bool>,
    /// Whether the node takes joins: its cluster is up and it is not draining.
    ready: watch::Sender<bool>,
    /// The certificate chain and key links and renders are served over TLS with; plain
    /// HTTP/2 when `None` (the default: a node on the gateways' own host).
    tls: Option<tonic::transport::Identity>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds `addr` (port 0 picks one) for `router`'s views.
    pub async fn bind(addr: SocketAddr, router: Router) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(Server::new(listener, router))
    }

    /// Serves `router`'s views on a bound `listener` (to learn the address first).
    pub fn new(listener: tokio::net::TcpListener, router: Router) -> Self {
        let (drain, draining) = watch::channel(false);
        Server {
            listener,
            topics: TopicsApi::new(router.pubsub_handle(), None),
            node: Node::new(router, draining),
            drain,
            cluster_up: watch::channel(true).1,
            ready: watch::channel(false).0,
            tls: None,
        }
    }

    /// Reports the node ready only while `up` is true: the state of its link to the
    /// cluster (Redis). Without it, the node is ready from the start of `serve`.
    #[must_use]
    pub fn cluster_up(mut self, up: watch::Receiver<bool>) -> Self {
        self.cluster_up = up;
        self
    }

    /// Whether the node takes joins, as health checks report it: true once serving with
    /// its cluster up, false again when the cluster is lost or a drain starts.
    pub fn readiness(&self) -> watch::Receiver<bool> {
        self.ready.subscribe()
    }

    /// Serves over TLS with `identity` (a PEM certificate chain and its key), for
    /// gateways on other hosts: they then dial with the CA that signed it. `None` keeps
    /// plain HTTP/2. Every call is authenticated by its link token either way; TLS keeps
    /// the link's sessions, cookies and tokens from whoever can read the network.
    #[must_use]
    pub fn tls(mut self, identity: Option<tonic::transport::Identity>) -> Self {
        self.tls = identity;
        self
    }

    /// Opens the topics API to callers presenting `token` (closed without one).
    #[must_use]
    pub fn api_token(mut self, token: Option<String>) -> Self {
        self.topics = TopicsApi::new(self.node.router.pubsub_handle(), token);
        self
    }

    /// Refuses joins while `max` sessions live on this node (default
    /// [`crate::DEFAULT_MAX_SESSIONS`]): the join gets an error reply `{"reason":"overloaded"}`
    /// and `cinder_view_node_sessions_refused_total` counts it.
    #[must_use]
    pub fn max_sessions(mut self, max: u64) -> Self {
        self.node.max_sessions = max;
        self
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The node's link and topics services for a gateway in this process: the same
    /// node (sessions, limits, drain) as the port serves, called without the network.
    /// The health service and the gRPC timeout header are the port's only.
    pub fn local(&self) -> cinder_proto::NodeService {
        let routes = tonic::service::Routes::new(self.node.clone().into_service())
            .add_service(self.topics.clone().into_service());
        tower::util::BoxCloneSyncService::new(tower::ServiceExt::<
            tonic::codegen::http::Request<tonic::body::Body>,
        >::map_err(
            routes,
            |never: std::convert::Infallible| -> tonic::transport::Error { match never {} },
        ))
    }

    /// Serves until `shutdown` resolves, then drains: health turns `NOT_SERVING`, every
    /// gateway link ends with `UNAVAILABLE` (its clients get `phx_error` and rejoin
    /// elsewhere), the sessions stop, and the server returns once the links are closed.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), tonic::transport::Error> {
        // Frames are small and latency-bound: no Nagle delay on the link's socket.
        let incoming = tokio_stream::StreamExt::map(
            tokio_stream::wrappers::TcpListenerStream::new(self.listener),
            |stream| {
                stream.inspect(|s| {
                    let _ = s.set_nodelay(true);
                })
            },
        );
        let (reporter, health) = tonic_health::server::health_reporter();
        let follow = tokio::spawn(report_readiness(
            reporter,
            self.cluster_up,
            self.drain.subscribe(),
            self.ready,
        ));
        let drain = self.drain;
        let shutdown: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
            shutdown.await;
            drain.send_replace(true);
        });
        let mut builder = tonic::transport::Server::builder();
        if let Some(identity) = self.tls {
            builder =
                builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))?;
        }
        let served = builder
            .http2_keepalive_interval(Some(std::time::Duration::from_secs(10)))
            .add_service(self.node.into_service())
            .add_service(self.topics.into_service())
            .add_service(health)
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await;
        follow.abort();
        served
    }
}

/// The gRPC service name health reports besides the server's (`""`).
const SERVICE: &str = "cinder.v1.ViewNode";

/// Keeps `ready` and the health service at "cluster up and not draining".
async fn report_readiness(
    reporter: HealthReporter,
    mut cluster_up: watch::Receiver<bool>,
    mut draining: watch::Receiver<bool>,
    ready: watch::Sender<bool>,
) {
    loop {
        let now = *cluster_up.borrow_and_update() && !*draining.borrow_and_update();
        ready.send_replace(now);
        let status = if now {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        for service in ["", SERVICE] {
            reporter.set_service_status(service, status).await;
        }
        tokio::select! {
            // A cluster state nobody updates any more stays as it last was.
            Ok(()) = cluster_up.changed() => {}
            changed = draining.changed() => if changed.is_err() { break },
        }
    }
}
