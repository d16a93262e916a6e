//! One client socket's shared half: what other tasks may hand it, and its routes.
//!
//! The socket task owns the TCP stream; a [`Conn`] is the part it shares with the link
//! readers that deliver view-node frames to it. It holds:
//!
//! - the outbox: frames waiting to be written, in order, plus a requested close. Pushes
//!   never block: a client that does not read fast enough is closed (1013) instead of
//!   slowing the link that serves everyone else; what was queued for it is dropped then,
//!   so the close frame is next. An empty outbox holds no allocation.
//! - the routes: one per joined `lv:` topic and one per open upload channel (`lvu:`),
//!   naming the link and the session key the frames of that topic travel under, at most
//!   `max_channels` of them. An upload channel shares its view's session key. The link
//!   reader removes a session's routes when the view-node closes the session or the link
//!   breaks, and an upload channel's when the node says it ended (`upload_closed`: its
//!   entry is done, or its join was refused), so the table is right when the client
//!   rejoins.
//! - the allowed upload channels: the `lvu:` topics the view-node said a session of this
//!   socket will answer (`upload_allowed`), which is how an upload channel's join finds
//!   its session without the gateway reading its token. At most `max_channels`; past
//!   that the oldest is forgotten (its join then gets `invalid_token`). The table is a vector searched in order: it is
//!   capped, holds one or two routes on most sockets, and a map would cost every idle
//!   socket more than the scan of a full table costs a message.
//! - the upstream allowance: bytes of this socket's messages still waiting in link
//!   queues. The reader reads no further frame while they are over `socket_up_bytes`
//!   (or, when a link's queue is over its own limit, until they are all sent), so the
//!   client that fills a queue is the one that waits.
//!
//! Locking: a `Conn` lock is never held while taking a link's lock, and the link code
//! releases its own before taking a `Conn`'s, so the two can never deadlock.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::frame;
use crate::link::Link;

/// Frames a slow client may have waiting before it is closed.
const OUTBOX_MAX_FRAMES: usize = 1024;

/// The per-socket limits a [`Conn`] enforces (from [`crate::Config`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Bytes of frames waiting to be written before the socket is closed.
    pub(crate) outbox_bytes: usize,
    /// Bytes of this socket's messages waiting in link queues before reading pauses.
    pub(crate) up_bytes: usize,
    /// Routes at most.
    pub(crate) channels: usize,
    /// The longest topic a route or an allowed upload channel may have.
    pub(crate) topic_bytes: usize,
}

impl Limits {
    pub(crate) fn new(config: &crate::Config) -> Self {
        Self {
            outbox_bytes: config.outbox_bytes,
            up_bytes: config.socket_up_bytes,
            channels: config.max_channels,
            topic_bytes: config.max_topic_bytes,
        }
    }
}

/// Why the gateway closes a socket: a WebSocket close code, its reason, and the label
/// `cinder_gateway_closes_total` counts it under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CloseReason {
    pub(crate) code: u16,
    pub(crate) reason: &'static str,
    /// The metric's `reason` label.
    pub(crate) label: &'static str,
}

impl CloseReason {
    /// The client sent a frame that is not V2 JSON framing.
    pub(crate) const MALFORMED: Self = Self {
        code: 1007,
        reason: "malformed frame",
        label: "malformed",
    };
    /// The client broke the WebSocket protocol itself.
    pub(crate) const PROTOCOL: Self = Self {
        code: 1002,
        reason: "protocol error",
        label: "protocol_error",
    };
    /// The client sent more messages than its token bucket allows.
    pub(crate) const RATE_LIMITED: Self = Self {
        code: 1008,
        reason: "rate limit exceeded",
        label: "rate_limit",
    };
    /// The client sent a message larger than the configured maximum.
    pub(crate) const TOO_BIG: Self = Self {
        code: 1009,
        reason: "message too big",
        label: "too_big",
    };
    /// The client does not read fast enough: its outbox is full.
    pub(crate) const TRY_AGAIN: Self = Self {
        code: 1013,
        reason: "try again later",
        label: "slow_client",
    };
    /// The client sent nothing for the idle timeout.
    pub(crate) const IDLE: Self = Self {
        code: 1001,
        reason: "idle timeout",
        label: "idle",
    };
    /// The gateway is draining (a rolling update): the client should reconnect, to
    /// another gateway.
    pub(crate) const DRAIN: Self = Self {
        code: 1012,
        reason: "service restart",
        label: "drain",
    };
    /// The client closed; the gateway answers with the same code.
    pub(crate) fn echo(code: u16) -> Self {
        Self {
            code,
            reason: "",
            label: "client",
        }
    }
}

/// A frame waiting to be written.
#[derive(Debug)]
pub(crate) enum Out {
    /// A text frame: a view-node frame passed through, or a local reply.
    Text(Vec<u8>),
    /// The answer to a client ping.
    Pong(Vec<u8>),
}

impl Out {
    fn len(&self) -> usize {
        match self {
            Out::Text(bytes) | Out::Pong(bytes) => bytes.len(),
        }
    }
}

/// Releases the lock, then wakes the parked writer, if any.
fn wake(mut state: MutexGuard<'_, State>) {
    let writer = state.writer.take();
    drop(state);
    if let Some(writer) = writer {
        writer.wake();
    }
}

/// A joined topic and where its frames go: an `lv:` topic, or an upload channel
/// (`lvu:<entry ref>`) riding on its view's session.
#[derive(Debug)]
pub(crate) struct Route {
    /// The topic, decoded (`lv:phx-…`, `lvu:0`).
    pub(crate) topic: Box<str>,
    /// The `join_ref` of the join that opened it, as raw JSON.
    pub(crate) join_ref: Box<str>,
    /// The link to the view-node holding the session.
    pub(crate) link: Arc<Link>,
    /// The session key on that link.
    pub(crate) session: u64,
}

impl Route {
    /// The route of `topic`, joined with `join_ref`, to `session` on `link`.
    pub(crate) fn new(topic: &str, join_ref: &str, link: Arc<Link>, session: u64) -> Self {
        Route {
            topic: topic.into(),
            join_ref: join_ref.into(),
            link,
            session,
        }
    }

    /// Whether this is an upload channel, which shares its view's session and is never
    /// left upstream on its own.
    pub(crate) fn is_upload(&self) -> bool {
        self.topic.starts_with("lvu:")
    }
}

/// An upload channel (`lvu:<entry ref>`) the view-node said `session` answers.
#[derive(Debug)]
struct AllowedUpload {
    topic: Box<str>,
    session: u64,
}

/// What the writer takes from the outbox in one go.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) frames: VecDeque<Out>,
    pub(crate) close: Option<CloseReason>,
}

/// Why a route was not added.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RouteRefused {
    /// The socket is gone.
    Finished,
    /// The socket holds `max_channels` routes already.
    Full,
}

#[derive(Debug, Default)]
struct State {
    outbox: VecDeque<Out>,
    outbox_bytes: usize,
    close: Option<CloseReason>,
    routes: Vec<Route>,
    /// Upload channels the view-node allowed, oldest first.
    allowed_uploads: Vec<AllowedUpload>,
    /// Bytes of this socket's messages waiting in link queues.
    up_bytes: usize,
    /// A message of this socket found its link's queue over the link's limit: read
    /// nothing more until `up_bytes` is back to 0.
    congested: bool,
    /// The reader, parked until `up_bytes` drains.
    reader: Option<Waker>,
    /// The writer, parked on an empty outbox. A bare waker rather than a `Notify`: the
    /// writer's wait then costs no waiter node in every idle socket's future.
    writer: Option<Waker>,
    /// The socket is gone: drop whatever arrives.
    finished: bool,
}

/// The shared half of one client socket.
#[derive(Debug)]
pub(crate) struct Conn {
    state: Mutex<State>,
    limits: Limits,
}

// === impl Conn ===

impl Conn {
    /// A socket's shared half with nothing queued and no routes.
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            state: Mutex::new(State::default()),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the state is still
        // a plain queue and table, safe to keep using.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a frame for the client. Returns false when the socket is gone or closing.
    pub(crate) fn push(&self, out: Out) -> bool {
        let mut state = self.lock();
        if state.finished || state.close.is_some() {
            return false;
        }
        if state.outbox.len() >= OUTBOX_MAX_FRAMES
            || state.outbox_bytes + out.len() > self.limits.outbox_bytes
        {
            tracing::debug!("client too slow, closing");
            // Its session ends with the socket: what waits is of no use, and the close
            // frame goes next (the write timeout bounds a write that never ends).
            state.outbox = VecDeque::new();
            state.outbox_bytes = 0;
            state.close = Some(CloseReason::TRY_AGAIN);
        } else {
            state.outbox_bytes += out.len();
            state.outbox.push_back(out);
        }
        wake(state);
        true
    }

    /// Asks the writer to close the socket once what is queued is written. The first
    /// reason wins.
    pub(crate) fn close(&self, reason: CloseReason) {
        let mut state = self.lock();
        if state.close.is_none() {
            state.close = Some(reason);
        }
        wake(state);
    }

    /// Takes everything queued, or parks the writer until something is.
    pub(crate) fn poll_take(&self, cx: &mut Context<'_>) -> Poll<Batch> {
        let mut state = self.lock();
        if state.outbox.is_empty() && state.close.is_none() {
            match &mut state.writer {
                Some(waker) => waker.clone_from(cx.waker()),
                None => state.writer = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        state.outbox_bytes = 0;
        Poll::Ready(Batch {
            frames: std::mem::take(&mut state.outbox),
            close: state.close,
        })
    }

    /// The live route of `topic`: its link and session key. A route whose link has died
    /// is dropped here, and the client is told with `phx_error` as the link reader
    /// would have.
    pub(crate) fn route(&self, topic: &str) -> Option<(Arc<Link>, u64)> {
        let mut state = self.lock();
        let index = state.routes.iter().position(|r| *r.topic == *topic)?;
        let route = &state.routes[index];
        if route.link.is_alive() {
            return Some((route.link.clone(), route.session));
        }
        let route = state.routes.swap_remove(index);
        drop(state);
        self.push(Out::Text(frame::error(
            &route.join_ref,
            &route.topic,
            "node_down",
        )));
        None
    }

    /// Removes and returns the route of `topic`, if any.
    pub(crate) fn take_route(&self, topic: &str) -> Option<Route> {
        let mut state = self.lock();
        let index = state.routes.iter().position(|r| &*r.topic == topic)?;
        Some(state.routes.swap_remove(index))
    }

    /// Records a route, unless the socket is gone or holds `max_channels` routes.
    pub(crate) fn add_route(&self, route: Route) -> Result<(), RouteRefused> {
        let mut state = self.lock();
        if state.finished {
            return Err(RouteRefused::Finished);
        }
        if state.routes.len() >= self.limits.channels {
            return Err(RouteRefused::Full);
        }
        state.routes.push(route);
        Ok(())
    }

    /// Counts `bytes` of this socket's messages into a link queue; `congested` when the
    /// link's queue is over its limit.
    pub(crate) fn charge_up(&self, bytes: usize, congested: bool) {
        let mut state = self.lock();
        state.up_bytes += bytes;
        state.congested |= congested;
    }

    /// `bytes` of this socket's messages left their link queue.
    pub(crate) fn release_up(&self, bytes: usize) {
        let mut state = self.lock();
        state.up_bytes = state.up_bytes.saturating_sub(bytes);
        if state.up_bytes == 0 {
            state.congested = false;
        }
        if self.has_up_room(&state)
            && let Some(reader) = state.reader.take()
        {
            drop(state);
            reader.wake();
        }
    }

    fn has_up_room(&self, state: &State) -> bool {
        state.up_bytes == 0 || (!state.congested && state.up_bytes < self.limits.up_bytes)
    }

    /// Ready when the reader may read the next frame: this socket's messages waiting in
    /// link queues are under its allowance.
    pub(crate) fn poll_up_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.lock();
        if self.has_up_room(&state) {
            return Poll::Ready(());
        }
        match &mut state.reader {
            Some(waker) => waker.clone_from(cx.waker()),
            None => state.reader = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Drops the routes of `session`, its view's and its upload channels' (the
    /// view-node closed it, or it was never opened), and its allowed upload channels.
    pub(crate) fn remove_session(&self, session: u64) -> Vec<Route> {
        let mut state = self.lock();
        state.allowed_uploads.retain(|a| a.session != session);
        // In place: the table keeps its buffer, and nothing is allocated when no route
        // goes.
        state
            .routes
            .extract_if(.., |r| r.session == session)
            .collect()
    }

    /// The `lv:` topic `session` answers, while routed here.
    pub(crate) fn view_topic(&self, session: u64) -> Option<Box<str>> {
        let state = self.lock();
        state
            .routes
            .iter()
            .find(|r| r.session == session && !r.is_upload())
            .map(|r| r.topic.clone())
    }

    /// `session` moved to `link` (same key): its view's route follows; its upload
    /// channels, which do not move, go.
    pub(crate) fn reroute(&self, session: u64, link: &Arc<Link>) {
        let mut state = self.lock();
        state.allowed_uploads.retain(|a| a.session != session);
        state
            .routes
            .retain(|r| !(r.session == session && r.is_upload()));
        for route in state.routes.iter_mut().filter(|r| r.session == session) {
            route.link = link.clone();
        }
    }

    /// Records that `session` answers joins on the upload channel `topic`. Past
    /// `max_channels` allowed channels the oldest is forgotten; a topic over
    /// `max_topic_bytes` (an entry ref the client made long) is not kept, as its join
    /// would be refused anyway.
    pub(crate) fn allow_upload(&self, topic: &str, session: u64) {
        if topic.len() > self.limits.topic_bytes {
            return;
        }
        let mut state = self.lock();
        if state.finished {
            return;
        }
        state.allowed_uploads.retain(|a| *a.topic != *topic);
        if state.allowed_uploads.len() >= self.limits.channels {
            state.allowed_uploads.remove(0);
        }
        state.allowed_uploads.push(AllowedUpload {
            topic: topic.into(),
            session,
        });
    }

    /// Where a join on the upload channel `topic` goes: the link and key of the session
    /// that allowed it, while that session's view is routed on this socket.
    pub(crate) fn upload_route(&self, topic: &str) -> Option<(Arc<Link>, u64)> {
        let state = self.lock();
        let allowed = state.allowed_uploads.iter().rfind(|a| *a.topic == *topic)?;
        let view = state
            .routes
            .iter()
            .find(|r| r.session == allowed.session && !r.is_upload())?;
        Some((view.link.clone(), view.session))
    }

    /// The upload channel `topic` of `session`, joined with `join_ref` (decoded), ended:
    /// the view-node closed it (its entry was consumed, cancelled or timed out) or
    /// refused its join. Its route and its allowance go.
    pub(crate) fn close_upload(&self, session: u64, topic: &str, join_ref: &str) {
        let mut state = self.lock();
        state
            .allowed_uploads
            .retain(|a| !(a.session == session && *a.topic == *topic));
        // The route keeps the join_ref as raw JSON; a later join of the same channel
        // (another join_ref) keeps its route.
        let raw = frame::json_ref_from_str(join_ref);
        state.routes.retain(|r| {
            !(r.session == session && r.is_upload() && *r.topic == *topic && *r.join_ref == *raw)
        });
    }

    /// Drops the upload channels of `session`, joined and allowed (its view is joined
    /// anew).
    pub(crate) fn remove_uploads(&self, session: u64) {
        let mut state = self.lock();
        state.allowed_uploads.retain(|a| a.session != session);
        state
            .routes
            .retain(|r| !(r.session == session && r.is_upload()));
    }

    /// The view-node holding `session` is gone: drop its routes and tell the client with
    /// `phx_error` on each, so it rejoins and lands on a live node.
    pub(crate) fn node_down(&self, session: u64) {
        for route in self.remove_session(session) {
            self.push(Out::Text(frame::error(
                &route.join_ref,
                &route.topic,
                "node_down",
            )));
        }
    }

    /// The socket is gone: from now on pushes are dropped. Returns the routes left, for
    /// the caller to leave upstream.
    pub(crate) fn finish(&self) -> Vec<Route> {
        let mut state = self.lock();
        state.finished = true;
        state.allowed_uploads = Vec::new();
        state.outbox.clear();
        state.outbox_bytes = 0;
        std::mem::take(&mut state.routes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn ready(conn: &Conn) -> bool {
        conn.poll_up_room(&mut Context::from_waker(Waker::noop()))
            .is_ready()
    }

    fn conn() -> Conn {
        Conn::new(Limits {
            outbox_bytes: 1024,
            up_bytes: 100,
            channels: 4,
            topic_bytes: 64,
        })
    }

    fn allowed(conn: &Conn) -> Vec<String> {
        let state = conn.lock();
        state
            .allowed_uploads
            .iter()
            .map(|a| a.topic.to_string())
            .collect()
    }

    #[test]
    fn allowed_upload_channels_are_bounded_in_count_and_length() {
        let conn = conn();
        conn.allow_upload(&format!("lvu:{}", "9".repeat(61)), 1);
        assert!(
            allowed(&conn).is_empty(),
            "a topic over the limit is not kept"
        );
        for n in 0..6 {
            conn.allow_upload(&format!("lvu:{n}"), 1);
        }
        assert_eq!(allowed(&conn), ["lvu:2", "lvu:3", "lvu:4", "lvu:5"]);
        conn.remove_session(1);
        assert!(allowed(&conn).is_empty());
    }

    #[test]
    fn reading_waits_while_the_allowance_is_used() {
        let conn = conn();
        // One message larger than the allowance still goes when nothing waits.
        assert!(ready(&conn));
        conn.charge_up(60, false);
        assert!(ready(&conn));
        conn.charge_up(60, false);
        assert!(!ready(&conn));
        conn.release_up(60);
        assert!(ready(&conn));
    }

    #[test]
    fn a_congested_link_holds_reading_until_everything_left() {
        let conn = conn();
        conn.charge_up(10, true);
        assert!(!ready(&conn));
        conn.charge_up(10, false);
        conn.release_up(10);
        assert!(!ready(&conn), "still congested with bytes waiting");
        conn.release_up(10);
        assert!(ready(&conn));
        conn.charge_up(10, false);
        assert!(ready(&conn), "the congestion ended with the drain");
    }

    #[test]
    fn a_full_outbox_drops_what_waits_and_closes() {
        let conn = conn();
        assert!(conn.push(Out::Text(vec![b'x'; 1000])));
        assert!(conn.push(Out::Text(vec![b'x'; 100])));
        let Poll::Ready(batch) = conn.poll_take(&mut Context::from_waker(Waker::noop())) else {
            panic!("a close is ready");
        };
        assert!(batch.frames.is_empty());
        assert_eq!(batch.close, Some(CloseReason::TRY_AGAIN));
    }
}
