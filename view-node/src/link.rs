//! The `cinder.v1.ViewNode` service: sessions hosted behind the gateways' gRPC link.
//!
//! Each gateway opens one `Link` stream and multiplexes its sessions over it. Up
//! messages start sessions (`Join`), feed them client frames, or stop them (`Leave`);
//! sessions answer with encoded frames tagged with their key, and a `Closed` when they
//! end. When the stream ends (the gateway went away) every session on it stops. Dead
//! renders are the unary `Render` call.
//!
//! Every call (`Link`, `Render`) must carry the link token of the cluster
//! (`cinder_proto::credential`), or is refused with `UNAUTHENTICATED` before it reaches
//! the node: only a gateway holding the cluster secret may join sessions with `csrf_ok`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cinder_proto::credential::LinkKey;
use cinder_proto::v1::view_node_server::{ViewNode, ViewNodeServer};
use cinder_proto::v1::{
    self, BeatRequest, BeatResponse, Closed, Down, Header, RenderRequest, RenderResponse, Up, down,
    up,
};
use cinder_proto::{MAX_LINK_FRAME_BYTES, MAX_LINK_MESSAGE_BYTES};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::{Request, Response, Status, Streaming};
use tracing::{debug, info, warn};

use cinder::frame::{self, Chunk, ClientFrame};
use cinder::router::{Refusal, Router};
use cinder::session::{ErrorReason, Input, Outbox, SendError, SessionHandle, UploadChannel};

/// How many frames may wait to go down one link.
const LINK_BUFFER: usize = 4096;
/// How long a draining link waits for its sessions to move before it ends, failing
/// those left.
const MIGRATE_WINDOW: Duration = Duration::from_secs(5);
/// How often a draining link looks for its sessions' ends.
const SWEEP: Duration = Duration::from_millis(20);

/// Where a session on a link sends its frames: the link's down stream, tagged with the
/// session's key.
#[derive(Debug, Clone)]
struct LinkOutbox {
    session: u64,
    tx: mpsc::Sender<Result<Down, Status>>,
    /// The node's count of live sessions, which this one leaves when it closes.
    live: Arc<AtomicU64>,
}

/// The default [`crate::Server::max_sessions`]: sessions one view-node process hosts at
/// most.
pub const DEFAULT_MAX_SESSIONS: u64 = 100_000;

/// The join reply of a node at its sessions cap. The official client shows the view as
/// errored and reloads the page after 5 to 10 s, which the gateway may place elsewhere.
const OVERLOADED: &str = r#"{"reason":"overloaded"}"#;

impl LinkOutbox {
    fn down(&self, kind: down::Kind) -> Down {
        Down {
            session: self.session,
            kind: Some(kind),
        }
    }

    /// Tells the gateway this key is done.
    async fn closed(&self, reason: String) {
        let down = self.down(down::Kind::Closed(Closed {
            reason,
            rejoin: false,
        }));
        let _ = self.tx.send(Ok(down)).await;
    }

    /// Tells the gateway this key is done and its client must rejoin (`phx_error`).
    async fn failed(&self, reason: String) {
        let down = self.down(down::Kind::Closed(Closed {
            reason,
            rejoin: true,
        }));
        let _ = self.tx.send(Ok(down)).await;
    }
}

impl Outbox for LinkOutbox {
    async fn send(&mut self, frame: String) -> bool {
        // Sessions check this first and fail with `phx_error`; here it only keeps a
        // message the gateway would refuse, breaking the whole link, off the link.
        if frame.len() > MAX_LINK_FRAME_BYTES {
            warn!(
                session = self.session,
                bytes = frame.len(),
                "dropped a frame over the link's limit"
            );
            return false;
        }
        let down = self.down(down::Kind::Frame(frame.into_bytes()));
        self.tx.send(Ok(down)).await.is_ok()
    }

    fn max_frame_bytes(&self) -> usize {
        MAX_LINK_FRAME_BYTES
    }

    async fn close(&mut self) {
        self.closed(String::new()).await;
        self.live.fetch_sub(1, Ordering::Relaxed);
    }

    async fn moving(&mut self) -> bool {
        let down = self.down(down::Kind::Moving(v1::Moving {}));
        self.tx.send(Ok(down)).await.is_ok()
    }

    async fn moved(&mut self, snapshot: Vec<u8>) -> bool {
        if snapshot.len() > MAX_LINK_FRAME_BYTES {
            warn!(
                session = self.session,
                bytes = snapshot.len(),
                "a snapshot over the link's limit"
            );
            return false;
        }
        let down = self.down(down::Kind::Moved(v1::Moved { snapshot }));
        self.tx.send(Ok(down)).await.is_ok()
    }

    async fn upload_channel(&mut self, change: UploadChannel) -> bool {
        let kind = match change {
            UploadChannel::Allowed { topic } => down::Kind::UploadAllowed(v1::UploadChannel {
                topic,
                join_ref: String::new(),
            }),
            UploadChannel::Closed { topic, join_ref } => {
                down::Kind::UploadClosed(v1::UploadChannel { topic, join_ref })
            }
        };
        self.tx.send(Ok(self.down(kind))).await.is_ok()
    }
}

/// The gRPC service of a view-node.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) router: Arc<Router>,
    /// Turns true when the node drains: every link ends with `UNAVAILABLE`.
    draining: watch::Receiver<bool>,
    /// Joins past this many live sessions are refused (see
    /// [`crate::Server::max_sessions`]).
    pub(crate) max_sessions: u64,
    /// Sessions live on this node, over all its links.
    live: Arc<AtomicU64>,
}

impl Node {
    /// A node serving `router`'s views; it drains when `draining` turns true.
    pub(crate) fn new(router: Router, draining: watch::Receiver<bool>) -> Self {
        Node {
            router: Arc::new(router),
            draining,
            max_sessions: DEFAULT_MAX_SESSIONS,
            live: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The tonic service, to add to a server: every call must carry the link token of
    /// the router's secret.
    pub(crate) fn into_service(self) -> InterceptedService<ViewNodeServer<Node>, LinkGuard> {
        let guard = LinkGuard {
            key: self.router.link_key().clone(),
        };
        // The link's message limit both ways; the gateway's client has the same one.
        let server = ViewNodeServer::new(self)
            .max_decoding_message_size(MAX_LINK_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_LINK_MESSAGE_BYTES);
        InterceptedService::new(server, guard)
    }
}

/// Refuses a call without the cluster's link token with `UNAUTHENTICATED`.
#[derive(Debug, Clone)]
pub(crate) struct LinkGuard {
    key: LinkKey,
}

impl Interceptor for LinkGuard {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        match self.key.verify_request(&request) {
            Ok(()) => Ok(request),
            Err(refusal) => {
                let peer = request.remote_addr();
                warn!(
                    ?peer,
                    reason = refusal.as_str(),
                    "refused a call without a valid link token"
                );
                metrics::counter!("cinder_link_refused_total", "reason" => refusal.as_str())
                    .increment(1);
                Err(Status::unauthenticated("missing or invalid link token"))
            }
        }
    }
}

type DownStream = ReceiverStream<Result<Down, Status>>;

#[tonic::async_trait]
impl ViewNode for Node {
    type LinkStream = DownStream;

    async fn link(&self, request: Request<Streaming<Up>>) -> Result<Response<DownStream>, Status> {
        let (tx, rx) = mpsc::channel(LINK_BUFFER);
        let inbound = request.into_inner();
        let link = Link {
            router: self.router.clone(),
            tx,
            sessions: HashMap::new(),
            migrating: Vec::new(),
            max_sessions: self.max_sessions,
            live: self.live.clone(),
        };
        tokio::spawn(link.run(inbound, self.draining.clone()));
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    /// Publishes a gateway's beat on the beats topic, for the cluster's dashboards. A
    /// beat over the size bound, not a beat, or not a gateway's is refused.
    async fn beat(&self, request: Request<BeatRequest>) -> Result<Response<BeatResponse>, Status> {
        use cinder_telemetry::beat::{self, Beat, Tier};
        let json = request.into_inner().json;
        if json.len() > beat::MAX_BEAT_BYTES {
            return Err(Status::invalid_argument("the beat is over 64 KiB"));
        }
        let parsed: Beat = serde_json::from_slice(&json)
            .map_err(|error| Status::invalid_argument(format!("not a beat: {error}")))?;
        if parsed.tier != Tier::Gateway {
            return Err(Status::invalid_argument(
                "a gateway hands only its own beat",
            ));
        }
        let payload = serde_json::to_value(&parsed)
            .map_err(|error| Status::internal(format!("beat: {error}")))?;
        self.router.pubsub_handle().publish(beat::TOPIC, payload);
        Ok(Response::new(BeatResponse {}))
    }

    async fn render(
        &self,
        request: Request<RenderRequest>,
    ) -> Result<Response<RenderResponse>, Status> {
        let request = request.into_inner();
        let csrf = request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(cinder_proto::CSRF_HEADER))
            .map_or("", |h| h.value.as_str());
        let url = if request.url.is_empty() {
            request.path.as_str()
        } else {
            request.url.as_str()
        };
        let flash = request
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("cookie"))
            .find_map(|h| cinder::flash::from_cookie_header(&h.value));
        let response = self.router.render(url, &request.view_id, csrf, flash);
        Ok(Response::new(RenderResponse {
            status: u32::from(response.status),
            headers: response
                .headers
                .into_iter()
                .map(|(name, value)| Header { name, value })
                .collect(),
            body: response.body.into_bytes(),
        }))
    }
}

/// One gateway's link: its sessions by key.
struct Link {
    router: Arc<Router>,
    tx: mpsc::Sender<Result<Down, Status>>,
    sessions: HashMap<u64, SessionHandle>,
    /// Sessions of a drain told to migrate, until their actors end.
    migrating: Vec<SessionHandle>,
    max_sessions: u64,
    live: Arc<AtomicU64>,
}

impl Link {
    async fn run(mut self, mut inbound: Streaming<Up>, mut draining: watch::Receiver<bool>) {
        debug!("gateway linked");
        // Set once the node drains: the link ends when its sessions are gone (moved or
        // failed) or at this instant, whichever comes first.
        let mut until: Option<Instant> = None;
        // One timer for the whole drain: a sleep made anew in each turn would never
        // fire while the gateway keeps sending.
        let mut sweep = tokio::time::interval(SWEEP);
        loop {
            let message = tokio::select! {
                message = inbound.message() => message,
                _ = async { draining.wait_for(|draining| *draining).await.is_ok() }, if until.is_none() => {
                    until = Some(Instant::now() + MIGRATE_WINDOW);
                    self.drain().await;
                    continue;
                }
                _ = sweep.tick(), if until.is_some() => {
                    self.sessions.retain(|_, handle| !handle.is_closed());
                    // A session told to migrate is done once its actor ended: its
                    // `Moved` went down the stream before the stream's end can.
                    self.migrating.retain(|handle| !handle.is_closed());
                    if self.sessions.is_empty() && self.migrating.is_empty() {
                        // Every session moved or ended: the stream ends cleanly.
                        let _ = self.tx.send(Err(Status::ok("drained"))).await;
                        info!(left = 0, "link drained");
                        break;
                    }
                    if until.is_some_and(|t| Instant::now() >= t) {
                        // The gateway fails the channels left with `phx_error`, and
                        // their clients rejoin on the nodes left.
                        let status = Status::unavailable("the view-node is draining");
                        let _ = self.tx.send(Err(status)).await;
                        let left = self.sessions.len() + self.migrating.len();
                        info!(left, "link drained");
                        break;
                    }
                    continue;
                }
            };
            match message {
                Ok(Some(up)) => self.up(up, until.is_some()).await,
                Ok(None) => break,
                Err(status) => {
                    warn!(%status, "link broke");
                    break;
                }
            }
        }
        // A link that broke (a gateway restart) leaves its clients to reconnect: sessions
        // that park wait for them. A drain ends every session: the node is going away.
        let drained = *draining.borrow();
        for (_, handle) in self.sessions.drain() {
            if drained {
                let _ = handle.try_send(Input::Shutdown);
            } else {
                self.router.disconnected(handle);
            }
        }
        debug!("gateway unlinked");
    }

    /// The node drains: the gateway stops placing sessions here, and every session
    /// either asks to move or fails its channel (see `cinder::session`'s `migrate`).
    async fn drain(&mut self) {
        let draining = Down {
            session: 0,
            kind: Some(down::Kind::Draining(v1::Draining {})),
        };
        let _ = self.tx.send(Ok(draining)).await;
        info!(
            sessions = self.sessions.len(),
            "draining the link's sessions"
        );
        for handle in self.sessions.values() {
            let _ = handle.control(Input::Drain);
        }
    }

    fn outbox(&self, session: u64) -> LinkOutbox {
        LinkOutbox {
            session,
            tx: self.tx.clone(),
            live: self.live.clone(),
        }
    }

    async fn up(&mut self, up: Up, draining: bool) {
        let session = up.session;
        match up.kind {
            Some(up::Kind::Join(_)) if draining => {
                // Its channel fails, and the client's retry is placed on a node that
                // stays.
                debug!(session, "join refused: the node drains");
                self.outbox(session).failed("draining".into()).await;
            }
            Some(up::Kind::Join(join)) => {
                self.join(session, &join.frame, join.csrf_ok, &up.trace)
                    .await;
            }
            Some(up::Kind::Migrate(_)) => {
                if let Some(handle) = self.sessions.remove(&session) {
                    let _ = handle.control(Input::Migrate(handle.identity()));
                    self.migrating.push(handle);
                }
            }
            Some(up::Kind::Resume(resume)) => self.resume(session, &resume.snapshot).await,
            Some(up::Kind::Frame(bytes)) => self.frame(session, &bytes, &up.trace).await,
            Some(up::Kind::Binary(bytes)) => self.binary(session, &bytes).await,
            // The client's socket closed: the session may wait for its reconnect. A
            // channel replaced on a live socket ends (a page that leaves says
            // `phx_leave`, a frame).
            Some(up::Kind::Leave(leave)) => {
                if let Some(handle) = self.sessions.remove(&session) {
                    if leave.socket_closed {
                        self.router.disconnected(handle);
                    } else {
                        let _ = handle.try_send(Input::Shutdown);
                    }
                }
            }
            None => {}
        }
    }

    async fn join(&mut self, session: u64, bytes: &[u8], csrf_ok: bool, trace: &Trace) {
        let mut outbox = self.outbox(session);
        let frame = match std::str::from_utf8(bytes)
            .map_err(|e| e.to_string())
            .and_then(|t| ClientFrame::parse(t).map_err(|e| e.to_string()))
        {
            Ok(frame) => traced(frame, trace),
            Err(err) => {
                warn!(session, err, "undecodable join");
                outbox.closed(err).await;
                return;
            }
        };
        let (join_ref, msg_ref, topic) = (
            frame.join_ref.clone(),
            frame.msg_ref.clone(),
            frame.topic.clone(),
        );
        if let Some(old) = self.sessions.remove(&session) {
            let _ = old.try_send(Input::Shutdown);
        }
        // A place is taken before the join, so that links joining at once cannot
        // overshoot the cap together; a refused join gives it back, an ended session
        // gives it back in `LinkOutbox::close`.
        let joined = if self.live.fetch_add(1, Ordering::Relaxed) >= self.max_sessions {
            self.live.fetch_sub(1, Ordering::Relaxed);
            warn!(%topic, max = self.max_sessions, "join refused: at the sessions cap");
            metrics::counter!("cinder_view_node_sessions_refused_total").increment(1);
            ErrorReason::Overloaded.count();
            Err(Refusal(OVERLOADED.to_owned()))
        } else {
            self.router
                .join(frame, csrf_ok, outbox.clone())
                .inspect_err(|_| {
                    self.live.fetch_sub(1, Ordering::Relaxed);
                })
        };
        match joined {
            Ok(handle) => {
                info!(%topic, "joined");
                self.sessions.insert(session, handle);
                if self.sessions.len().is_multiple_of(1024) {
                    self.sessions.retain(|_, h| !h.is_closed());
                }
            }
            Err(refusal) => {
                let reply = frame::reply(
                    join_ref.as_deref(),
                    msg_ref.as_deref(),
                    &topic,
                    "error",
                    &refusal.0,
                );
                outbox.send(reply).await;
                outbox.closed(refusal.0).await;
            }
        }
    }

    /// A session another node handed over: restored here, or its client told to rejoin.
    async fn resume(&mut self, session: u64, snapshot: &[u8]) {
        let outbox = self.outbox(session);
        if self.live.fetch_add(1, Ordering::Relaxed) >= self.max_sessions {
            self.live.fetch_sub(1, Ordering::Relaxed);
            warn!(
                max = self.max_sessions,
                "resume refused: at the sessions cap"
            );
            metrics::counter!("cinder_view_node_sessions_refused_total").increment(1);
            outbox.failed("overloaded".into()).await;
            return;
        }
        match self.router.resume(snapshot, outbox.clone()) {
            Ok(handle) => {
                debug!(session, "resumed from a snapshot");
                metrics::counter!("cinder_sessions_resumed_total").increment(1);
                if let Some(old) = self.sessions.insert(session, handle) {
                    let _ = old.try_send(Input::Shutdown);
                }
            }
            Err(error) => {
                self.live.fetch_sub(1, Ordering::Relaxed);
                warn!(%error, "a snapshot did not restore; the client mounts afresh");
                metrics::counter!("cinder_snapshots_refused_total").increment(1);
                outbox.failed(error.to_string()).await;
            }
        }
    }

    /// An upload chunk, for its view's session, which replies to it.
    async fn binary(&mut self, session: u64, bytes: &[u8]) {
        match Chunk::parse(bytes) {
            Ok(chunk) => self.deliver(session, Input::Chunk(Box::new(chunk))).await,
            Err(err) => debug!(session, %err, "undecodable chunk"),
        }
    }

    async fn frame(&mut self, session: u64, bytes: &[u8], trace: &Trace) {
        let parsed = std::str::from_utf8(bytes)
            .map_err(|e| e.to_string())
            .and_then(|t| ClientFrame::parse(t).map_err(|e| e.to_string()));
        match parsed {
            Ok(frame) => {
                let frame = traced(frame, trace);
                self.deliver(session, Input::Frame(Box::new(frame))).await;
            }
            Err(err) => debug!(session, err, "undecodable frame"),
        }
    }

    /// Queues client input for its session; input that finds the mailbox full gets an
    /// `overloaded` error reply.
    async fn deliver(&mut self, session: u64, input: Input) {
        let Some(handle) = self.sessions.get(&session) else {
            debug!(session, "input for an unknown session");
            return;
        };
        match handle.offer(input) {
            Ok(()) => {}
            Err((SendError::Full, input)) => {
                ErrorReason::Overloaded.count();
                if let Some((join_ref, msg_ref, topic)) = input.origin() {
                    let reason = frame::reason("overloaded");
                    let reply = frame::reply(join_ref, msg_ref, topic, "error", &reason);
                    self.outbox(session).send(reply).await;
                }
            }
            Err((SendError::Closed, _)) => {
                self.sessions.remove(&session);
            }
        }
    }
}

/// The W3C trace context a gateway sent with a message (`Up.trace`).
type Trace = HashMap<String, String>;

/// `frame` with the span its session handles it in, continuing the gateway's trace,
/// when the message came with one and this node exports traces too.
fn traced(mut frame: ClientFrame, trace: &Trace) -> ClientFrame {
    if !trace.is_empty() && cinder_telemetry::exporting() {
        let span =
            tracing::info_span!("session.message", topic = %frame.topic, event = %frame.event);
        cinder_telemetry::set_parent(&span, trace);
        frame.span = Some(Box::new(span));
    }
    frame
}
