//! One simulated browser tab, lean enough for a hundred thousand per box: a socket from
//! a chosen source address, joined to a page's view, sending events when told and the
//! browser's heartbeat every 30 s, and reporting every reply and error to the
//! [`Recorder`].
//!
//! It speaks the wire protocol directly (tungstenite with a 4 KiB read buffer and no
//! write buffer, one task, no copy of the rendered page), so its memory is the socket's;
//! the load tester reports its own bytes per session beside the servers'.
//!
//! It recovers as the official client does. A `phx_error` on its view (the view-node
//! went away) makes it join again on the same socket after `phoenix`'s channel back-off
//! (1, 2, 5, then 10 s). A socket that closes with anything but 1000 makes it connect
//! again after the socket back-off (10 ms, 50, 100, 150, 200, 250, 500 ms, 1, 2, then
//! 5 s) and join with the same tokens. Each loss counts as an error of its kind, and
//! each recovery as a rejoin with the time the session was without its view.

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cinder_protocol_client::Page;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::sources::Sources;
use crate::stats::Recorder;

/// How long a connect, a handshake or a join may take (the `phoenix` client's join
/// timeout).
pub(crate) const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// The browser's heartbeat period.
const HEARTBEAT: Duration = Duration::from_secs(30);
/// Events one session may have waiting to be sent before the scheduler counts a
/// backlog instead.
const QUEUE: usize = 64;
/// Events one session may have awaiting replies; past it the oldest counts as lost.
const MAX_PENDING: usize = 1024;
/// The largest server message read: over the link's largest frame (4 MiB).
const MAX_MESSAGE: usize = 8 << 20;
/// `phoenix`'s `rejoinAfterMs` for a channel, by attempt; 10 s after the last.
const REJOIN_MS: [u64; 3] = [1000, 2000, 5000];
/// `phoenix`'s `reconnectAfterMs` for the socket, by attempt; 5 s after the last.
const RECONNECT_MS: [u64; 9] = [10, 50, 100, 150, 200, 250, 500, 1000, 2000];
/// Attempts to join again before a session gives up (about five minutes of back-off).
const ATTEMPTS: u32 = 60;
/// What precedes a stamp in a message: its wall-clock time in Unix nanoseconds follows.
const STAMP: &str = "cinderlt";

/// A page of one gateway: what every session joining it needs.
#[derive(Debug)]
pub(crate) struct Target {
    /// The gateway's address.
    pub(crate) addr: SocketAddr,
    /// The page's tokens (from its dead render).
    pub(crate) page: Page,
}

/// What a session pushes when the scheduler says so.
#[derive(Clone, Debug)]
pub(crate) enum Push {
    /// A `phx-click` of this event.
    Click(String),
    /// A `phx-submit` of `event` whose form field `field` holds a stamp (`chat`).
    Stamped { event: String, field: String },
    /// Nothing: the scheduler publishes instead (`fanout`).
    Publish,
}

/// How many sessions are joined, and how many are trying to join again.
#[derive(Debug, Default)]
pub(crate) struct Levels {
    pub(crate) live: AtomicU64,
    pub(crate) down: AtomicU64,
}

/// What a session needs besides its target.
#[derive(Clone, Debug)]
pub(crate) struct Shared {
    pub(crate) sources: Sources,
    pub(crate) recorder: Arc<Recorder>,
    pub(crate) push: Arc<Push>,
    /// Whether sessions read the stamps in what they receive (`chat`, `fanout`).
    pub(crate) stamps: bool,
    pub(crate) levels: Arc<Levels>,
    /// Turns true when the run ends: every session closes with 1000.
    pub(crate) stop: watch::Receiver<bool>,
}

/// A joined session: where to send it the scheduled time of an event to push.
pub(crate) type Handle = mpsc::Sender<Instant>;

type Socket = WebSocketStream<TcpStream>;

/// Opens session `n` on `target`: connects from its source, joins, and spawns its task.
/// `None` when it failed (the error is recorded).
pub(crate) async fn open(n: usize, target: Arc<Target>, shared: &Shared) -> Option<Handle> {
    let started = Instant::now();
    let socket = match tokio::time::timeout(JOIN_TIMEOUT, connect(n, &target, shared, 0)).await {
        Ok(Ok(socket)) => socket,
        Ok(Err(kind)) => {
            shared.recorder.error(kind);
            return None;
        }
        Err(_) => {
            shared.recorder.error("join timeout");
            return None;
        }
    };
    shared.recorder.joined(started.elapsed());
    shared.levels.live.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::spawn(Session::new(n, target, shared, socket).run(rx));
    Some(tx)
}

/// Connects, upgrades and joins (the `joins`-th time); the error is a kind to count.
async fn connect(n: usize, target: &Target, shared: &Shared, joins: u32) -> Result<Socket, String> {
    let tcp = shared
        .sources
        .connect(n, target.addr, JOIN_TIMEOUT)
        .await
        .map_err(|e| io_kind(&e))?;
    let page = &target.page;
    let url = format!(
        "ws://{}/live/websocket?_csrf_token={}&vsn=2.0.0",
        target.addr,
        encode_component(&page.csrf)
    );
    let mut request = url.into_client_request().map_err(|e| ws_kind(&e))?;
    let headers = request.headers_mut();
    let origin = HeaderValue::from_str(&format!("http://{}", target.addr))
        .map_err(|_| "bad origin".to_owned())?;
    headers.insert("origin", origin);
    if let Some(cookie) = &page.cookie {
        let cookie = HeaderValue::from_str(cookie).map_err(|_| "bad cookie".to_owned())?;
        headers.insert("cookie", cookie);
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let (mut socket, _) = tokio_tungstenite::client_async_with_config(request, tcp, Some(config))
        .await
        .map_err(|e| ws_kind(&e))?;
    socket
        .send(join_frame(page, "1", joins))
        .await
        .map_err(|e| ws_kind(&e))?;
    while let Some(message) = socket.next().await {
        match message.map_err(|e| ws_kind(&e))? {
            Message::Text(text) => {
                let Some(header) = Header::parse(&text) else {
                    return Err("malformed frame".to_owned());
                };
                if header.msg_ref.as_deref() == Some("1") && header.event == "phx_reply" {
                    return match header.refused {
                        None => Ok(socket),
                        Some(reason) => Err(format!("join refused: {reason}")),
                    };
                }
            }
            Message::Close(frame) => return Err(close_kind(frame.as_ref())),
            _ => {}
        }
    }
    Err("closed without a close frame".to_owned())
}

/// The `phx_join` of `page` with `join_ref`, after `mounts` earlier joins.
fn join_frame(page: &Page, join_ref: &str, mounts: u32) -> Message {
    let join = json!([join_ref, join_ref, format!("lv:{}", page.view_id), "phx_join", {
        "url": page.url,
        "params": {"_csrf_token": page.csrf, "_mounts": mounts, "_mount_attempts": 0},
        "session": page.session,
        "static": page.static_token,
        "sticky": false,
    }]);
    Message::text(join.to_string())
}

/// Where a session's view stands.
#[derive(Clone, Copy, Debug)]
enum View {
    Joined,
    /// Lost at `since` (its view, or its socket when there is none). The next attempt,
    /// the `attempt`-th, is due at `retry`; `None` while a new socket is being opened.
    /// `joining`: a join is out on the socket, and `retry` is its timeout.
    Lost {
        since: Instant,
        attempt: u32,
        retry: Option<tokio::time::Instant>,
        joining: bool,
    },
    /// The session is over.
    Ended,
}

type Connecting = Pin<Box<dyn Future<Output = Result<Socket, String>> + Send>>;

/// One session.
struct Session {
    n: usize,
    target: Arc<Target>,
    topic: String,
    shared: Shared,
    socket: Option<Socket>,
    view: View,
    /// A new socket being opened and joined, after the last was lost.
    connecting: Option<Connecting>,
    join_ref: String,
    next_ref: u64,
    /// Joins so far (sent as `_mounts`).
    joins: u32,
    /// Refs of the events waiting for replies, with when each was scheduled and sent.
    pending: VecDeque<(u64, Instant, Instant)>,
    /// The last stamps read, so that one read again (a page rendered again) counts once.
    seen: [u128; 8],
}

/// What the session's loop woke for.
enum Turn {
    Frame(Option<Result<Message, tungstenite::Error>>),
    Event(Option<Instant>),
    Heartbeat,
    Retry,
    Connected(Result<Socket, String>),
    Stop,
}

impl Session {
    fn new(n: usize, target: Arc<Target>, shared: &Shared, socket: Socket) -> Session {
        Session {
            n,
            topic: format!("lv:{}", target.page.view_id),
            target,
            shared: shared.clone(),
            socket: Some(socket),
            view: View::Joined,
            connecting: None,
            join_ref: "1".to_owned(),
            next_ref: 2,
            joins: 1,
            pending: VecDeque::new(),
            seen: [0; 8],
        }
    }

    /// The session's life: sends what it is told, times the replies, heartbeats,
    /// recovers lost views and sockets, and ends on a close with 1000, a `phx_close`,
    /// when it gives up, or at the run's end.
    async fn run(mut self, mut events: mpsc::Receiver<Instant>) {
        let mut stop = self.shared.stop.clone();
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.tick().await;
        loop {
            let retry = match self.view {
                View::Lost { retry, .. } => retry,
                _ => None,
            };
            let has_socket = self.socket.is_some();
            let connecting = self.connecting.as_mut();
            let turn = tokio::select! {
                frame = next_frame(self.socket.as_mut()) => Turn::Frame(frame),
                event = events.recv() => Turn::Event(event),
                _ = heartbeat.tick(), if has_socket => Turn::Heartbeat,
                () = sleep_until(retry) => Turn::Retry,
                outcome = until(connecting) => Turn::Connected(outcome),
                () = stopped(&mut stop) => Turn::Stop,
            };
            let was_joined = matches!(self.view, View::Joined);
            self.turn(turn).await;
            let levels = &self.shared.levels;
            let level = |joined: bool| if joined { &levels.live } else { &levels.down };
            match self.view {
                View::Ended => {
                    level(was_joined).fetch_sub(1, Ordering::Relaxed);
                    return;
                }
                view if was_joined != matches!(view, View::Joined) => {
                    level(was_joined).fetch_sub(1, Ordering::Relaxed);
                    level(!was_joined).fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
        }
    }

    async fn turn(&mut self, turn: Turn) {
        match turn {
            Turn::Stop | Turn::Event(None) => {
                // The run ended, or let this session go (churn): a tab closing.
                if let Some(socket) = &mut self.socket {
                    let _ = socket.close(None).await;
                }
                self.view = View::Ended;
            }
            Turn::Event(Some(scheduled)) => {
                if matches!(self.view, View::Joined) {
                    self.push(scheduled).await;
                } else {
                    self.shared.recorder.error("event while the view was down");
                }
            }
            Turn::Heartbeat => {
                let beat = format!(r#"[null,"{}","phoenix","heartbeat",{{}}]"#, self.next_ref);
                self.next_ref += 1;
                self.send(Message::text(beat)).await;
            }
            Turn::Frame(frame) => self.frame(frame),
            Turn::Retry => self.retry().await,
            Turn::Connected(outcome) => {
                self.connecting = None;
                let View::Lost { since, attempt, .. } = self.view else {
                    return;
                };
                match outcome {
                    Ok(socket) => {
                        self.socket = Some(socket);
                        self.join_ref = "1".to_owned();
                        self.rejoined(since);
                    }
                    Err(kind) => {
                        self.shared.recorder.error(format!("reconnect: {kind}"));
                        self.lost(since, attempt + 1);
                    }
                }
            }
        }
    }

    /// Pushes the event scheduled at `scheduled`.
    async fn push(&mut self, scheduled: Instant) {
        let msg_ref = self.next_ref;
        self.next_ref += 1;
        let payload = match &*self.shared.push {
            Push::Click(event) => {
                json!({"type": "click", "event": event, "value": {"value": ""}})
            }
            Push::Stamped { event, field } => {
                let value = format!("{field}={}", stamp(scheduled));
                json!({"type": "form", "event": event, "value": value})
            }
            Push::Publish => return,
        };
        let frame = json!([
            &self.join_ref,
            msg_ref.to_string(),
            &self.topic,
            "event",
            payload
        ]);
        let sent = Instant::now();
        if !self.send(Message::text(frame.to_string())).await {
            return;
        }
        let recorder = &self.shared.recorder;
        recorder.sent();
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            recorder.error("reply lost (1,024 events unanswered)");
        }
        self.pending.push_back((msg_ref, scheduled, sent));
    }

    /// Sends `message`; a failure loses the socket. Whether it went out.
    async fn send(&mut self, message: Message) -> bool {
        let Some(socket) = &mut self.socket else {
            return false;
        };
        match socket.send(message).await {
            Ok(()) => true,
            Err(error) => {
                self.socket_lost(ws_kind(&error));
                false
            }
        }
    }

    /// Handles what the socket gave.
    fn frame(&mut self, frame: Option<Result<Message, tungstenite::Error>>) {
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                let kind = close_kind(frame.as_ref());
                if frame.is_some_and(|f| u16::from(f.code) == 1000) {
                    // A clean close from the server: the browser does not reconnect.
                    self.shared.recorder.error(kind);
                    self.view = View::Ended;
                } else {
                    self.socket_lost(kind);
                }
                return;
            }
            Some(Ok(_)) => return,
            Some(Err(error)) => return self.socket_lost(ws_kind(&error)),
            None => return self.socket_lost("closed without a close frame".to_owned()),
        };
        if self.shared.stamps {
            self.read_stamps(&text);
        }
        let Some(header) = Header::parse(&text) else {
            self.shared.recorder.error("malformed frame");
            return;
        };
        if header.topic != self.topic {
            return;
        }
        match header.event.as_str() {
            "phx_reply" => self.reply(header),
            "phx_error" => match self.view {
                View::Joined => {
                    self.shared.recorder.error("phx_error");
                    self.view_lost();
                }
                // The join sent again crashed too (its node went away meanwhile).
                View::Lost {
                    since,
                    attempt,
                    joining: true,
                    ..
                } => {
                    self.shared.recorder.error("phx_error (joining again)");
                    self.rejoin_later(since, attempt + 1);
                }
                _ => {}
            },
            "phx_close" => {
                self.shared.recorder.error("phx_close");
                self.view = View::Ended;
            }
            _ => {}
        }
    }

    /// A reply: to a pending event, or to a join sent again.
    fn reply(&mut self, header: Header) {
        let Some(msg_ref) = header.msg_ref else {
            return;
        };
        if let View::Lost {
            since,
            attempt,
            joining: true,
            ..
        } = self.view
            && msg_ref == self.join_ref
        {
            match header.refused {
                None => self.rejoined(since),
                Some(reason) => {
                    self.shared
                        .recorder
                        .error(format!("rejoin refused: {reason}"));
                    self.rejoin_later(since, attempt + 1);
                }
            }
            return;
        }
        let Ok(msg_ref) = msg_ref.parse::<u64>() else {
            return;
        };
        while let Some(&(r, scheduled, sent)) = self.pending.front() {
            if r > msg_ref {
                break;
            }
            self.pending.pop_front();
            if r == msg_ref {
                let now = Instant::now();
                self.shared.recorder.replied(now - scheduled, now - sent);
                if let Some(reason) = &header.refused {
                    self.shared
                        .recorder
                        .error(format!("event refused: {reason}"));
                }
            }
        }
    }

    /// Reads the stamps in `text`: one delivery each, unless read before.
    fn read_stamps(&mut self, text: &str) {
        let now = unix_nanos(Instant::now());
        let mut rest = text;
        while let Some(at) = rest.find(STAMP) {
            rest = &rest[at + STAMP.len()..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let Ok(stamp) = rest[..digits].parse::<u128>() else {
                continue;
            };
            if self.seen.contains(&stamp) {
                continue;
            }
            self.seen.rotate_right(1);
            self.seen[0] = stamp;
            let nanos = u64::try_from(now.saturating_sub(stamp)).unwrap_or(u64::MAX);
            self.shared.recorder.delivered(Duration::from_nanos(nanos));
        }
    }

    /// The view is lost (the socket is still up): join again after the back-off.
    fn view_lost(&mut self) {
        self.drop_pending();
        self.rejoin_later(Instant::now(), 0);
    }

    fn rejoin_later(&mut self, since: Instant, attempt: u32) {
        let ms = REJOIN_MS.get(attempt as usize).copied().unwrap_or(10_000);
        self.retry_after(since, attempt, ms);
    }

    /// The socket is lost: open another after the back-off.
    fn socket_lost(&mut self, kind: String) {
        self.shared.recorder.error(kind);
        self.socket = None;
        self.drop_pending();
        let since = match self.view {
            View::Lost { since, .. } => since,
            _ => Instant::now(),
        };
        self.lost(since, 0);
    }

    /// Waits to open a socket again (the `attempt`-th time).
    fn lost(&mut self, since: Instant, attempt: u32) {
        let ms = RECONNECT_MS.get(attempt as usize).copied().unwrap_or(5_000);
        self.retry_after(since, attempt, ms);
    }

    fn retry_after(&mut self, since: Instant, attempt: u32, ms: u64) {
        if attempt >= ATTEMPTS {
            self.shared.recorder.error("gave up joining again");
            self.view = View::Ended;
            return;
        }
        let retry = tokio::time::Instant::now() + Duration::from_millis(ms);
        self.view = View::Lost {
            since,
            attempt,
            retry: Some(retry),
            joining: false,
        };
    }

    /// The back-off is over: join again on the socket, or open a new one. Or a join
    /// sent again timed out: back off again.
    async fn retry(&mut self) {
        let View::Lost {
            since,
            attempt,
            joining,
            ..
        } = self.view
        else {
            return;
        };
        if joining {
            self.shared.recorder.error("rejoin timeout");
            return self.rejoin_later(since, attempt + 1);
        }
        if self.socket.is_some() {
            self.join_ref = self.next_ref.to_string();
            self.next_ref += 1;
            let join = join_frame(&self.target.page, &self.join_ref, self.joins);
            self.view = View::Lost {
                since,
                attempt,
                retry: Some(tokio::time::Instant::now() + JOIN_TIMEOUT),
                joining: true,
            };
            self.send(join).await;
            return;
        }
        self.view = View::Lost {
            since,
            attempt,
            retry: None,
            joining: false,
        };
        let (n, target, shared, joins) =
            (self.n, self.target.clone(), self.shared.clone(), self.joins);
        self.connecting = Some(Box::pin(async move {
            tokio::time::timeout(JOIN_TIMEOUT, connect(n, &target, &shared, joins))
                .await
                .unwrap_or_else(|_| Err("join timeout".to_owned()))
        }));
    }

    fn rejoined(&mut self, since: Instant) {
        self.joins += 1;
        self.view = View::Joined;
        self.shared.recorder.rejoined(since.elapsed());
    }

    /// Events awaiting replies when the view is lost never get one.
    fn drop_pending(&mut self) {
        for _ in self.pending.drain(..) {
            self.shared.recorder.error("reply lost (view lost)");
        }
    }
}

/// The next frame of `socket`; never, without one.
async fn next_frame(socket: Option<&mut Socket>) -> Option<Result<Message, tungstenite::Error>> {
    match socket {
        Some(socket) => socket.next().await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `at`; forever, without one.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The outcome of `connecting`; never, without one.
async fn until(connecting: Option<&mut Connecting>) -> Result<Socket, String> {
    match connecting {
        Some(connecting) => connecting.await,
        None => std::future::pending().await,
    }
}

/// `at` on the wall clock, in Unix nanoseconds (the stamps' clock, which processes
/// and machines share).
pub(crate) fn unix_nanos(at: Instant) -> u128 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    now.saturating_sub(Instant::now().saturating_duration_since(at).as_nanos())
}

/// A stamp of `at`, as a message carries it.
pub(crate) fn stamp(at: Instant) -> String {
    format!("{STAMP}{}", unix_nanos(at))
}

/// Returns once the run ends.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// What a session reads of a server frame, in one pass: the routed fields and, for a
/// reply, its status and reason. Everything else (diffs) is skipped unread.
struct Header {
    msg_ref: Option<String>,
    topic: String,
    event: String,
    /// `None` unless the frame is a reply whose status is not `ok`: its reason.
    refused: Option<String>,
}

/// The payload fields a session reads.
#[derive(serde::Deserialize)]
struct Payload {
    status: Option<String>,
    response: Option<Response>,
}

#[derive(serde::Deserialize)]
struct Response {
    reason: Option<String>,
}

impl Header {
    fn parse(text: &str) -> Option<Header> {
        let (_, msg_ref, topic, event, payload): (
            serde::de::IgnoredAny,
            Option<String>,
            String,
            String,
            Payload,
        ) = serde_json::from_str(text).ok()?;
        let refused =
            (event == "phx_reply" && payload.status.as_deref() != Some("ok")).then(|| {
                payload
                    .response
                    .and_then(|r| r.reason)
                    .unwrap_or_else(|| "no reason".to_owned())
            });
        Some(Header {
            msg_ref,
            topic,
            event,
            refused,
        })
    }
}

/// An I/O error's kind, named as the OS does where it matters for sizing.
pub(crate) fn io_kind(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(nix::libc::EMFILE) => "EMFILE (too many open files)".to_owned(),
        Some(nix::libc::EADDRNOTAVAIL) => "EADDRNOTAVAIL (no free source port)".to_owned(),
        Some(nix::libc::ECONNREFUSED) => "connection refused".to_owned(),
        _ if error.kind() == std::io::ErrorKind::TimedOut => "connect timeout".to_owned(),
        _ => format!("io {:?}", error.kind()),
    }
}

/// A WebSocket error's kind, without the details that make every one different.
pub(crate) fn ws_kind(error: &tungstenite::Error) -> String {
    match error {
        tungstenite::Error::Http(response) => format!("HTTP {}", response.status().as_u16()),
        tungstenite::Error::Io(io) => io_kind(io),
        tungstenite::Error::Protocol(protocol) => format!("protocol: {protocol}"),
        other => other.to_string(),
    }
}

fn close_kind(frame: Option<&tungstenite::protocol::CloseFrame>) -> String {
    format!("closed {}", frame.map_or(1005, |f| u16::from(f.code)))
}

/// JavaScript's `encodeURIComponent`, as the page's socket URL is built.
pub(crate) fn encode_component(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_read_by_header() {
        let ok =
            r#"["1","7","lv:phx-a","phx_reply",{"status":"ok","response":{"diff":{"0":"1"}}}]"#;
        let header = Header::parse(ok).map(|h| (h.msg_ref, h.topic, h.event, h.refused));
        assert_eq!(
            header,
            Some((
                Some("7".into()),
                "lv:phx-a".into(),
                "phx_reply".into(),
                None
            ))
        );
        assert!(Header::parse("[1,2]").is_none());
        let refused =
            r#"["1","1","lv:a","phx_reply",{"status":"error","response":{"reason":"stale"}}]"#;
        let reason = Header::parse(refused).and_then(|h| h.refused);
        assert_eq!(reason, Some("stale".to_owned()));
        let diff = r#"[null,null,"lv:a","diff",{"0":"2"}]"#;
        assert_eq!(Header::parse(diff).map(|h| h.refused), Some(None));
    }

    #[test]
    fn components_are_encoded_like_javascript() {
        assert_eq!(encode_component("a+b/c=_-~"), "a%2Bb%2Fc%3D_-~");
    }
}
