//! The links to the view-nodes: one multiplexed `Link` gRPC stream per node.
//!
//! Each view-node — static, or a live member of the registry (`crate::membership`) — gets
//! a task that keeps its link up: connect, open the bidi stream, then dispatch every
//! `Down` by session key to the owning socket until the stream ends; then fail every
//! session it carried and reconnect with backoff (50 ms doubling to 2 s). Only nodes
//! whose link is up take part in placement, so new joins follow the live set while a
//! session stays on its node for as long as its socket and the link live.
//!
//! A member that leaves the registry is *retired*: out of placement at once, its link
//! keeps serving the sessions it carries until it breaks, and is not reopened.
//!
//! `Up` messages go through a queue per link bounded in bytes. Senders never wait on it:
//! every message queued is charged to its socket ([`Conn::charge_up`]) until the link's
//! stream takes it, and a socket whose charge is over its allowance, or whose last
//! message found the queue over the link's limit, is not read again until its bytes have
//! left (backpressure on that client alone). So the queue holds at most the link's limit
//! plus one message per socket, and the client that fills it is the one that waits.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, Weak};
use std::time::Duration;

use cinder_proto::NodeService;
use cinder_proto::credential::Credential;
use cinder_proto::v1::topics_client::TopicsClient;
use cinder_proto::v1::view_node_client::ViewNodeClient;
use cinder_proto::v1::{
    BeatRequest, Down, Leave, PublishRequest, PublishResponse, RenderRequest, RenderResponse, Up,
    down, up,
};
use tokio::sync::{mpsc, watch};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{ClientTlsConfig, Endpoint};
use tracing::{debug, info, warn};

use crate::conn::{Conn, Out};
use crate::error::{Error, Result};
use crate::moving::{self, Holds};
use crate::placement;
use crate::telemetry::Metrics;

/// What a queued message costs besides its payloads: the `Up` and the queue's slot. It
/// also bounds how many empty messages fit in a queue.
const MESSAGE_OVERHEAD: usize = 128;
/// First wait before reconnecting a link.
const MIN_BACKOFF: Duration = Duration::from_millis(50);
/// Longest wait between reconnect attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How long a dead render may take on the view-node.
const RENDER_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a stopping gateway waits for each view-node to end its half of the link
/// after its own half ended, so that the node sees a clean close rather than a reset.
pub(crate) const LINK_CLOSE: Duration = Duration::from_secs(1);

/// Why an `Up` message was not queued.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SendError {
    /// The link is gone.
    Closed,
}

/// The bytes waiting in one link's queue, against its limit.
#[derive(Debug)]
struct QueueBytes {
    used: AtomicUsize,
    limit: usize,
    gauge: metrics::Gauge,
}

/// A queued message and what it is charged to, released when the link's stream takes
/// it (or the queue is dropped with it).
#[derive(Debug)]
struct Queued {
    up: Up,
    /// Held for its `Drop`.
    _charge: Charge,
}

#[derive(Debug)]
struct Charge {
    bytes: usize,
    queue: Arc<QueueBytes>,
    /// The socket that sent it; `None` for a leave, sent for a socket that is gone.
    conn: Option<Arc<Conn>>,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.queue.used.fetch_sub(self.bytes, Ordering::AcqRel);
        #[expect(clippy::cast_precision_loss, reason = "a gauge, approximate by nature")]
        self.queue.gauge.decrement(self.bytes as f64);
        if let Some(conn) = &self.conn {
            conn.release_up(self.bytes);
        }
    }
}

/// What `up` costs in a queue, in bytes.
pub(crate) fn queued_size(up: &Up) -> usize {
    let payload = match &up.kind {
        Some(up::Kind::Join(join)) => join.frame.len(),
        Some(up::Kind::Frame(bytes) | up::Kind::Binary(bytes)) => bytes.len(),
        Some(up::Kind::Resume(resume)) => resume.snapshot.len(),
        Some(up::Kind::Leave(_) | up::Kind::Migrate(_)) | None => 0,
    };
    let trace: usize = up.trace.iter().map(|(k, v)| k.len() + v.len()).sum();
    MESSAGE_OVERHEAD + payload + trace
}

/// An open link to one view-node.
#[derive(Debug)]
pub(crate) struct Link {
    /// The node's address as configured: its placement identity.
    pub(crate) addr: Arc<str>,
    /// Unbounded as a channel: the bound is in bytes, kept by `queue`.
    up: mpsc::UnboundedSender<Queued>,
    queue: Arc<QueueBytes>,
    /// Every call carries the link token (`cinder_proto::credential`).
    client: ViewNodeClient<InterceptedService<NodeService, Credential>>,
    /// The node's topics API, over the same connection.
    topics: TopicsClient<NodeService>,
    /// Session key → the socket that owns it.
    sessions: Mutex<HashMap<u64, Weak<Conn>>>,
    alive: AtomicBool,
    /// The node drains: no new session is placed on it.
    draining: AtomicBool,
    /// The frames held for sessions moving away from this node, then where they went.
    pub(crate) holds: Holds<Arc<Link>>,
}

/// A view-node to link to, and its current link if up.
#[derive(Debug)]
pub(crate) struct Node {
    addr: Arc<str>,
    dial: Dial,
    link: RwLock<Option<Arc<Link>>>,
    origin: Origin,
    /// Set when a member leaves the registry: its task stops reconnecting.
    retired: watch::Sender<bool>,
}

/// How a node is reached.
#[derive(Debug)]
enum Dial {
    /// Over the network.
    Network(Endpoint),
    /// In this process: its services, called directly (`Config::in_process`).
    InProcess(NodeService),
}

/// Where a node comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// `Config::view_nodes`: linked to for the gateway's whole life.
    Static,
    /// The registry: linked to while it is a live member.
    Member,
}

/// The view-nodes new sessions are placed on.
#[derive(Debug)]
pub(crate) struct Nodes {
    /// The static nodes and the live members, by address. A retired member is no longer
    /// here, even while its link still serves sessions.
    nodes: RwLock<BTreeMap<Arc<str>, Arc<Node>>>,
    /// Links up to the nodes above.
    up: watch::Sender<usize>,
    /// Held while counting and publishing the count, so that link tasks racing to
    /// publish cannot leave an older count last.
    publishing: Mutex<()>,
    metrics: Metrics,
    /// Bytes each link's queue holds before its senders wait (`Config::link_queue_bytes`).
    queue_limit: usize,
    /// Turns true when the gateway stops; every link task ends then.
    stop: watch::Receiver<bool>,
    /// Presents the cluster's link token on every call to a view-node.
    credential: Credential,
    /// When set, links are dialled over TLS, trusting the view-nodes' CA.
    tls: Option<ClientTlsConfig>,
}

// === impl Link ===

impl Link {
    fn sessions(&self) -> MutexGuard<'_, HashMap<u64, Weak<Conn>>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The socket of `session`, while both are there.
    fn conn_of(&self, session: u64) -> Option<Arc<Conn>> {
        self.sessions().get(&session).and_then(Weak::upgrade)
    }

    /// Whether the stream is still up.
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// Routes frames for `session` to `conn`. Returns false when the link is down.
    ///
    /// The link holds its sockets weakly (a socket holds its routes, and so its links,
    /// strongly): a socket gone without unregistering leaves a dead entry, never a
    /// cycle that keeps both alive.
    pub(crate) fn register(&self, session: u64, conn: &Arc<Conn>) -> bool {
        let mut sessions = self.sessions();
        // Checked under the lock `fail_all` takes, so a session is either failed by it
        // or refused here, never forgotten.
        if !self.is_alive() {
            return false;
        }
        sessions.insert(session, Arc::downgrade(conn));
        true
    }

    /// Stops routing frames for `session`.
    pub(crate) fn unregister(&self, session: u64) {
        self.sessions().remove(&session);
    }

    /// Queues `up` from the socket `conn` without waiting, charging its size to `conn`
    /// (see the module doc).
    /// A frame of a session moving away is held instead (`crate::moving`).
    pub(crate) fn send(&self, up: Up, conn: &Arc<Conn>) -> Result<(), SendError> {
        self.holds.send_or_hold(
            up,
            |up| {
                let bytes = queued_size(&up);
                let congested = self.queue.used.load(Ordering::Acquire) + bytes > self.queue.limit;
                // Charged before it is queued, so the release (when the stream takes it)
                // always comes after.
                conn.charge_up(bytes, congested);
                self.enqueue(up, bytes, Some(conn.clone()))
            },
            |to, up| to.send(up, conn),
        )
    }

    fn enqueue(&self, up: Up, bytes: usize, conn: Option<Arc<Conn>>) -> Result<(), SendError> {
        self.queue.used.fetch_add(bytes, Ordering::AcqRel);
        #[expect(clippy::cast_precision_loss, reason = "a gauge, approximate by nature")]
        self.queue.gauge.increment(bytes as f64);
        let charge = Charge {
            bytes,
            queue: self.queue.clone(),
            conn,
        };
        // A refused message is handed back and dropped here, releasing its charge.
        self.up
            .send(Queued {
                up,
                _charge: charge,
            })
            .map_err(|_| SendError::Closed)
    }

    /// Tells the node `session`'s client is gone: its socket closed (`socket_closed`;
    /// the session may wait for the client's reconnect), or the channel was replaced on
    /// a live socket. A leave is never refused for room (the node would keep the
    /// session); it is small, and one per session.
    pub(crate) fn leave(&self, session: u64, socket_closed: bool) {
        self.unregister(session);
        let up = Up {
            session,
            kind: Some(up::Kind::Leave(Leave { socket_closed })),
            trace: HashMap::new(),
        };
        // The link may be closed; then the node drops the session anyway.
        let _ = self.enqueue(up, MESSAGE_OVERHEAD, None);
    }

    /// A dead render on this node.
    pub(crate) async fn render(&self, request: RenderRequest) -> Result<RenderResponse> {
        let mut request = tonic::Request::new(request);
        request.set_timeout(RENDER_TIMEOUT);
        let mut client = self.client.clone();
        within(RENDER_TIMEOUT, client.render(request))
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| Error::Render {
                node: self.addr.to_string(),
                status: Box::new(status),
            })
    }

    /// Hands this gateway's beat to the node, which publishes it to the cluster.
    pub(crate) async fn beat(&self, json: Vec<u8>) -> Result<(), tonic::Status> {
        let mut request = tonic::Request::new(BeatRequest { json });
        request.set_timeout(cinder_telemetry::beat::PERIOD);
        let mut client = self.client.clone();
        within(cinder_telemetry::beat::PERIOD, client.beat(request))
            .await
            .map(drop)
    }

    /// Publishes through this node's topics API (`POST /api/topics/…`).
    pub(crate) async fn publish(
        &self,
        request: tonic::Request<PublishRequest>,
    ) -> Result<PublishResponse, tonic::Status> {
        self.topics
            .clone()
            .publish(request)
            .await
            .map(tonic::Response::into_inner)
    }

    fn dispatch(&self, down: Down, nodes: &Nodes) {
        let metrics = &nodes.metrics;
        match down.kind {
            Some(down::Kind::Frame(bytes)) => {
                let Some(conn) = self.conn_of(down.session) else {
                    // The socket left before the node's last frames arrived.
                    return;
                };
                if std::str::from_utf8(&bytes).is_err() {
                    warn!(node = %self.addr, session = down.session, "dropped a non-UTF-8 frame");
                    return;
                }
                metrics.frames_down.increment(1);
                conn.push(Out::Text(bytes));
            }
            Some(down::Kind::UploadAllowed(channel)) => {
                if let Some(conn) = self.conn_of(down.session) {
                    conn.allow_upload(&channel.topic, down.session);
                }
            }
            Some(down::Kind::UploadClosed(channel)) => {
                if let Some(conn) = self.conn_of(down.session) {
                    conn.close_upload(down.session, &channel.topic, &channel.join_ref);
                }
            }
            Some(down::Kind::Closed(closed)) => {
                let conn = self.sessions().remove(&down.session);
                debug!(node = %self.addr, session = down.session, reason = %closed.reason, "session closed");
                // A session that was moving ended instead (its snapshot failed): its
                // client must rejoin, as when the node refuses to restore one.
                let moving = self.holds.cancel(down.session);
                if let Some(conn) = conn.as_ref().and_then(Weak::upgrade) {
                    if closed.rejoin || moving {
                        conn.node_down(down.session);
                    } else {
                        conn.remove_session(down.session);
                    }
                }
            }
            Some(down::Kind::Draining(_)) => {
                info!(node = %self.addr, "view-node drains; no new sessions go there");
                self.draining.store(true, Ordering::Release);
            }
            Some(down::Kind::Moving(_)) if self.conn_of(down.session).is_some() => {
                self.holds.start(down.session, |migrate| {
                    let _ = self.enqueue(migrate, MESSAGE_OVERHEAD, None);
                });
            }
            Some(down::Kind::Moved(moved)) => {
                let conn = self.sessions().remove(&down.session);
                match conn.as_ref().and_then(Weak::upgrade) {
                    Some(conn) => moving::resume(nodes, self, down.session, &conn, moved),
                    None => {
                        self.holds.cancel(down.session);
                    }
                }
            }
            Some(down::Kind::Moving(_)) | None => {}
        }
    }

    /// The link broke: every session it carried gets `phx_error` and loses its route.
    fn fail_all(&self) {
        let sessions = {
            let mut sessions = self.sessions();
            self.alive.store(false, Ordering::Release);
            std::mem::take(&mut *sessions)
        };
        self.holds.clear();
        if !sessions.is_empty() {
            info!(node = %self.addr, sessions = sessions.len(), "failing sessions of a broken link");
        }
        for (session, conn) in sessions {
            if let Some(conn) = conn.upgrade() {
                conn.node_down(session);
            }
        }
    }
}

// === impl Node ===

/// A call's deadline, kept by the gateway itself: a node in this process
/// (`Dial::InProcess`) has no transport server to enforce the `grpc-timeout` header, and
/// over the network this also bounds a node that never answers. Dropping the call
/// cancels it on both sides.
async fn within<T>(
    deadline: Duration,
    call: impl Future<Output = Result<T, tonic::Status>>,
) -> Result<T, tonic::Status> {
    tokio::time::timeout(deadline, call)
        .await
        .unwrap_or_else(|_| {
            Err(tonic::Status::deadline_exceeded(
                "the view-node did not answer in time",
            ))
        })
}

impl Node {
    /// A node not linked yet; an invalid address is refused here.
    fn new(addr: &str, origin: Origin, tls: Option<&ClientTlsConfig>) -> Result<Arc<Self>> {
        Node::with(addr, origin, Dial::Network(endpoint(addr, tls)?))
    }

    fn with(addr: &str, origin: Origin, dial: Dial) -> Result<Arc<Self>> {
        Ok(Arc::new(Node {
            addr: Arc::from(addr),
            dial,
            link: RwLock::new(None),
            origin,
            retired: watch::Sender::new(false),
        }))
    }

    fn current(&self) -> Option<Arc<Link>> {
        self.link
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, link: Option<Arc<Link>>) {
        *self.link.write().unwrap_or_else(PoisonError::into_inner) = link;
    }
}

// === impl Nodes ===

impl Nodes {
    /// The static nodes; invalid addresses are refused here, before anything runs. Links
    /// start with [`Nodes::spawn`] and stop when `stop` turns true.
    pub(crate) fn new(
        addrs: &[String],
        queue_limit: usize,
        metrics: Metrics,
        stop: watch::Receiver<bool>,
        credential: Credential,
        tls: Option<ClientTlsConfig>,
        in_process: Option<&(String, NodeService)>,
    ) -> Result<Self> {
        let nodes = addrs
            .iter()
            .map(|addr| {
                let node = match in_process {
                    Some((local, service)) if local == addr => {
                        Node::with(addr, Origin::Static, Dial::InProcess(service.clone()))
                    }
                    _ => Node::new(addr, Origin::Static, tls.as_ref()),
                };
                node.map(|node| (node.addr.clone(), node))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        let (up, _) = watch::channel(0);
        metrics.links_up.set(0.0);
        Ok(Self {
            nodes: RwLock::new(nodes),
            up,
            publishing: Mutex::new(()),
            metrics,
            queue_limit,
            stop,
            credential,
            tls,
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, BTreeMap<Arc<str>, Arc<Node>>> {
        self.nodes.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many links are up.
    pub(crate) fn up_count(&self) -> usize {
        *self.up.borrow()
    }

    /// A receiver of the up-link count.
    pub(crate) fn watch(&self) -> watch::Receiver<usize> {
        self.up.subscribe()
    }

    fn publish(&self) {
        let _publishing = self
            .publishing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = self
            .read()
            .values()
            .filter(|node| node.current().is_some())
            .count();
        self.up.send_replace(count);
        #[expect(clippy::cast_precision_loss, reason = "a node count is far below 2^52")]
        self.metrics.links_up.set(count as f64);
    }

    /// Every known node's address and its link's state: `up`, `draining` or `down`.
    pub(crate) fn states(&self) -> Vec<(String, String)> {
        self.read()
            .values()
            .map(|node| {
                let state = match node.current() {
                    Some(link) if link.draining.load(Ordering::Acquire) => "draining",
                    Some(link) if link.is_alive() => "up",
                    _ => "down",
                };
                (node.addr.to_string(), state.to_owned())
            })
            .collect()
    }

    /// The live link that holds `view_id`, by rendezvous hashing over the live nodes.
    pub(crate) fn place(&self, view_id: &str) -> Option<Arc<Link>> {
        let live: Vec<Arc<Link>> = self
            .read()
            .values()
            .filter_map(|node| node.current())
            .filter(|link| link.is_alive() && !link.draining.load(Ordering::Acquire))
            .collect();
        let addr = placement::place(live.iter().map(|link| &*link.addr), view_id)?;
        live.iter().find(|link| &*link.addr == addr).cloned()
    }

    /// Starts linking to every node known now (the static ones).
    pub(crate) fn spawn(self: &Arc<Self>) {
        let nodes: Vec<Arc<Node>> = self.read().values().cloned().collect();
        for node in nodes {
            self.start(node);
        }
    }

    /// Brings the nodes in step with the registry's live `members` (name → address): links
    /// to new members, retires members that left. Static nodes stay whatever the registry
    /// says.
    pub(crate) fn follow(self: &Arc<Self>, members: &BTreeMap<String, String>) {
        let mut joined = Vec::new();
        {
            let mut nodes = self.nodes.write().unwrap_or_else(PoisonError::into_inner);
            let addrs: HashSet<&str> = members.values().map(String::as_str).collect();
            nodes.retain(|addr, node| {
                let stays = node.origin == Origin::Static || addrs.contains(&**addr);
                if !stays {
                    info!(node = %addr, "view-node left the registry; no new sessions go there");
                    node.retired.send_replace(true);
                }
                stays
            });
            for (name, addr) in members {
                if nodes.contains_key(addr.as_str()) {
                    continue;
                }
                match Node::new(addr, Origin::Member, self.tls.as_ref()) {
                    Ok(node) => {
                        info!(node = %addr, member = %name, "view-node joined the registry");
                        nodes.insert(node.addr.clone(), node.clone());
                        joined.push(node);
                    }
                    Err(error) => warn!(member = %name, %error, "ignoring a registered view-node"),
                }
            }
        }
        for node in joined {
            self.start(node);
        }
        self.publish();
    }

    /// Starts the task that keeps `node`'s link up until it is retired or the gateway
    /// stops.
    fn start(self: &Arc<Self>, node: Arc<Node>) {
        let nodes = self.clone();
        let mut stop = self.stop.clone();
        tokio::spawn(async move {
            let maintained = maintain(&nodes, &node);
            tokio::pin!(maintained);
            tokio::select! {
                () = &mut maintained => {}
                () = stopped(&mut stop) => {
                    // The link's up stream has ended (`UpStream`); the node ends its half
                    // in turn, which `maintained` sees as the link closing.
                    let _ = tokio::time::timeout(LINK_CLOSE, &mut maintained).await;
                }
            }
            // Stopped while up: the sessions go with the gateway.
            if let Some(link) = node.current() {
                node.set(None);
                nodes.publish();
                link.fail_all();
            }
        });
    }
}

/// Resolves when `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// The endpoint of the node at `addr`: `https` with `tls` (the certificate must name the
/// host of `addr`), else plain `http`.
fn endpoint(addr: &str, tls: Option<&ClientTlsConfig>) -> Result<Endpoint> {
    let invalid = |reason: String| Error::InvalidViewNode {
        addr: addr.to_owned(),
        reason,
    };
    if addr.contains("://") || !addr.contains(':') {
        return Err(invalid("expected host:port".to_owned()));
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut endpoint =
        Endpoint::from_shared(format!("{scheme}://{addr}")).map_err(|e| invalid(e.to_string()))?;
    if let Some(tls) = tls {
        endpoint = endpoint
            .tls_config(tls.clone())
            .map_err(|e| invalid(e.to_string()))?;
    }
    let endpoint = endpoint
        .connect_timeout(Duration::from_secs(1))
        .tcp_nodelay(true)
        // Finds a peer that vanished without closing (a cut cable, a frozen host).
        .http2_keep_alive_interval(Duration::from_secs(10))
        .keep_alive_timeout(Duration::from_secs(5))
        .keep_alive_while_idle(true);
    Ok(endpoint)
}

/// Keeps `node`'s link up; returns once the node is retired and has no link.
async fn maintain(nodes: &Nodes, node: &Node) {
    let mut retired = node.retired.subscribe();
    let mut backoff = MIN_BACKOFF;
    loop {
        // Connecting gives way to retirement; a link that is up serves its sessions
        // until it ends.
        if *nodes.stop.borrow() {
            break;
        }
        let opened = tokio::select! {
            opened = open(node, nodes.queue_limit, nodes.credential.clone(), nodes.stop.clone()) => opened,
            _ = retired.wait_for(|retired| *retired) => break,
        };
        let outcome = match opened {
            Ok(_) if *retired.borrow() => break,
            Ok((link, downs)) => serve(nodes, node, &link, downs).await,
            Err(failure) => Err(failure),
        };
        if *nodes.stop.borrow() {
            debug!(node = %node.addr, "link closed: the gateway stops");
            break;
        }
        match outcome {
            Ok(()) => {
                info!(node = %node.addr, "link closed by the view-node");
                backoff = MIN_BACKOFF;
            }
            Err(LinkFailure::Connect(reason)) => {
                debug!(node = %node.addr, %reason, "link connect failed");
            }
            Err(LinkFailure::Broken(reason)) => {
                warn!(node = %node.addr, %reason, "link broke");
                backoff = MIN_BACKOFF;
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = retired.wait_for(|retired| *retired) => break,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    if *retired.borrow() {
        info!(node = %node.addr, "stopped linking to a view-node that left the registry");
    }
}

enum LinkFailure {
    Connect(String),
    Broken(String),
}

/// Connects and opens the link stream.
async fn open(
    node: &Node,
    queue_limit: usize,
    credential: Credential,
    stop: watch::Receiver<bool>,
) -> Result<(Arc<Link>, tonic::Streaming<Down>), LinkFailure> {
    let channel = match &node.dial {
        Dial::Network(endpoint) => {
            let channel = endpoint
                .connect()
                .await
                .map_err(|e| LinkFailure::Connect(e.to_string()))?;
            NodeService::new(channel)
        }
        Dial::InProcess(service) => service.clone(),
    };
    let topics = TopicsClient::new(channel.clone());
    // The link's message limit both ways; the view-node's server has the same one, and
    // fails a session rather than send it a frame over it.
    let mut client = ViewNodeClient::with_interceptor(channel, credential)
        .max_decoding_message_size(cinder_proto::MAX_LINK_MESSAGE_BYTES)
        .max_encoding_message_size(cinder_proto::MAX_LINK_MESSAGE_BYTES);
    let (up, queue) = mpsc::unbounded_channel::<Queued>();
    let stream = UpStream {
        queue,
        stop: Box::pin(async move {
            let mut stop = stop;
            let _ = stop.wait_for(|stopped| *stopped).await;
        }),
        ended: false,
    };
    let downs = client
        .link(stream)
        .await
        .map_err(|status| LinkFailure::Connect(status.to_string()))?
        .into_inner();
    let link = Arc::new(Link {
        addr: node.addr.clone(),
        up,
        queue: Arc::new(QueueBytes {
            used: AtomicUsize::new(0),
            limit: queue_limit,
            gauge: metrics::gauge!("cinder_gateway_link_queue_bytes", "node" => node.addr.to_string()),
        }),
        client,
        topics,
        sessions: Mutex::new(HashMap::new()),
        alive: AtomicBool::new(true),
        draining: AtomicBool::new(false),
        holds: Holds::default(),
    });
    Ok((link, downs))
}

/// A link's up stream: the queued messages, until every sender is gone or the gateway
/// stops. Ending it at the stop is what lets the view-node see the link close cleanly:
/// it ends its own half in turn (the link task waits for that, up to [`LINK_CLOSE`]).
struct UpStream {
    queue: mpsc::UnboundedReceiver<Queued>,
    /// Resolves when the gateway stops (or is gone).
    stop: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
    ended: bool,
}

impl tokio_stream::Stream for UpStream {
    type Item = Up;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Up>> {
        use std::task::Poll;
        let this = self.get_mut();
        if this.ended || this.stop.as_mut().poll(cx).is_ready() {
            this.ended = true;
            return Poll::Ready(None);
        }
        match this.queue.poll_recv(cx) {
            // Taking a message releases its charge (see `Queued`).
            Poll::Ready(Some(queued)) => Poll::Ready(Some(queued.up)),
            Poll::Ready(None) => {
                this.ended = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Serves an open link until it ends, then fails its sessions.
async fn serve(
    nodes: &Nodes,
    node: &Node,
    link: &Arc<Link>,
    mut downs: tonic::Streaming<Down>,
) -> Result<(), LinkFailure> {
    node.set(Some(link.clone()));
    nodes.publish();
    info!(node = %node.addr, "link up");

    let outcome = loop {
        match downs.message().await {
            Ok(Some(down)) => link.dispatch(down, nodes),
            Ok(None) => break Ok(()),
            Err(status) => break Err(LinkFailure::Broken(status.to_string())),
        }
    };
    // Out of placement first, so the clients told below rejoin elsewhere.
    node.set(None);
    nodes.publish();
    link.fail_all();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_that_never_answers_ends_at_its_deadline() {
        let never = std::future::pending::<Result<(), tonic::Status>>();
        let status = within(Duration::from_millis(20), never).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
    }

    #[tokio::test]
    async fn a_call_that_answers_in_time_keeps_its_outcome() {
        let answered = within(Duration::from_secs(5), async { Ok(7) }).await;
        assert_eq!(answered.ok(), Some(7));
        let refused = async { Err::<(), _>(tonic::Status::unavailable("draining")) };
        let status = within(Duration::from_secs(5), refused).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable);
    }
}
