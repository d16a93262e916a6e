//! The socket: one WebSocket to a gateway, the ref counter, and the reader task that
//! routes every incoming frame — replies to their waiting push, pushes to their view,
//! everything else to the raw frame queue.
//!
//! Routing happens on the reader task, in arrival order, so a reply's diff is merged
//! before a `diff` push the server sent after it, as in the browser.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::diff::Extras;
use crate::endpoint::{Url, socket_url};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::inbox::{Empty, Inbox};
use crate::reply::Reply;
use crate::view::{View, ViewShared};

/// How long a join waits for its reply (the `phoenix` socket's default timeout).
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a LiveView push waits for its reply (`PUSH_TIMEOUT`).
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the waiting helpers (`next_frame`, `next_push`, `wait_for`, `wait_closed`)
/// wait by default.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Frames nobody claimed are kept up to this many; older ones are dropped.
const RAW_CAPACITY: usize = 1024;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How the socket ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The close code the server sent, `None` if the connection ended without a close
    /// frame (or with an empty one).
    pub code: Option<u16>,
    /// The close reason, empty if none.
    pub reason: String,
}

/// A connected socket. Cheap to clone; the connection closes when the last clone and
/// the last [`View`] from it are dropped.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    sink: tokio::sync::Mutex<SplitSink<Socket, Message>>,
    reader: JoinHandle<()>,
    /// The connect params, which the browser also sends in every join's `params`.
    params: Vec<(String, String)>,
    /// `http://host[:port]` of the socket URL.
    origin: String,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// What the reader task and the handles share.
pub(crate) struct Shared {
    refs: AtomicU64,
    routes: Mutex<Routes>,
    raw: Inbox<Result<Frame>>,
    closed: watch::Sender<Option<Closed>>,
}

struct Routes {
    /// Pushes waiting for their reply, by ref.
    pending: HashMap<String, Pending>,
    /// Joined (or joining) views by topic.
    views: HashMap<String, Arc<ViewShared>>,
    /// False once the reader has ended: nothing registered after that is answered.
    open: bool,
}

/// A push waiting for its `phx_reply`.
pub(crate) struct Pending {
    tx: oneshot::Sender<Answer>,
    target: Target,
}

/// What a push carries: a JSON payload (a text frame) or an encoded binary frame.
enum Outgoing {
    Json(Value),
    Binary(Vec<u8>),
}

/// What the reader does with a reply before handing it over.
pub(crate) enum Target {
    /// Nothing.
    Plain,
    /// Builds the view from the join's `rendered`.
    Join(Arc<ViewShared>),
    /// Merges the reply's `diff` into the view.
    Push(Arc<ViewShared>),
}

/// A reply as the reader hands it to its waiting push.
pub(crate) struct Answer {
    pub(crate) frame: Frame,
    /// What the view took out of the reply's diff, or why merging it failed.
    pub(crate) extras: Result<Extras>,
}

// === impl Client ===

impl Client {
    /// Opens `url` (`ws://host:port/live/websocket`) with `?<params>&vsn=2.0.0`, an
    /// `Origin: http://host:port` header and, if given, a `Cookie` header (the page's
    /// session cookie, which the CSRF check needs), and starts reading.
    pub async fn connect(
        url: &str,
        params: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Result<Client> {
        let endpoint = Url::parse(url)?;
        let origin = endpoint.origin();
        let full = socket_url(url, params);
        let mut request = full.as_str().into_client_request()?;
        let header = |value: &str| {
            HeaderValue::from_str(value).map_err(|e| Error::InvalidUrl {
                url: url.to_owned(),
                reason: format!("header value {value:?}: {e}"),
            })
        };
        request.headers_mut().insert("origin", header(&origin)?);
        if let Some(cookie) = cookie {
            request.headers_mut().insert("cookie", header(cookie)?);
        }
        let (socket, _response) = tokio_tungstenite::connect_async(request).await?;
        let (sink, stream) = socket.split();
        let shared = Arc::new(Shared {
            refs: AtomicU64::new(0),
            routes: Mutex::new(Routes {
                pending: HashMap::new(),
                views: HashMap::new(),
                open: true,
            }),
            raw: Inbox::new(RAW_CAPACITY),
            closed: watch::Sender::new(None),
        });
        let reader = tokio::spawn(read(stream, shared.clone()));
        tracing::debug!(url = %full, "connected");
        Ok(Client {
            inner: Arc::new(Inner {
                shared,
                sink: tokio::sync::Mutex::new(sink),
                reader,
                params: params
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                origin,
            }),
        })
    }

    /// The next ref of this socket's counter (`"1"`, `"2"`…), for hand-built frames.
    pub fn next_ref(&self) -> String {
        (self.inner.shared.refs.fetch_add(1, Ordering::Relaxed) + 1).to_string()
    }

    /// `http://host[:port]` of the socket URL, sent as `Origin`.
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// Sends a text frame as it is.
    pub async fn send_text(&self, text: &str) -> Result<()> {
        self.send(Message::text(text)).await
    }

    /// Sends a binary frame as it is (see [`Frame::encode_binary`]).
    pub async fn send_binary(&self, bytes: &[u8]) -> Result<()> {
        self.send(Message::binary(bytes.to_vec())).await
    }

    /// Sends a frame, encoded as V2 JSON.
    pub async fn send_frame(&self, frame: &Frame) -> Result<()> {
        self.send_text(&frame.encode()).await
    }

    async fn send(&self, message: Message) -> Result<()> {
        let result = self.inner.sink.lock().await.send(message).await;
        result.map_err(|e| match self.closed() {
            Some(closed) => Error::Closed(Some(closed)),
            None => Error::from(e),
        })
    }

    /// The next frame nobody claimed — a reply to a hand-sent frame, a push for a topic
    /// with no joined view — waiting up to [`WAIT_TIMEOUT`].
    pub async fn next_frame(&self) -> Result<Frame> {
        self.next_frame_within(WAIT_TIMEOUT).await
    }

    /// [`Client::next_frame`] with a timeout. A frame that could not be decoded comes
    /// out as [`Error::MalformedFrame`]; after the socket closed, [`Error::Closed`].
    pub async fn next_frame_within(&self, timeout: Duration) -> Result<Frame> {
        match self.inner.shared.raw.pop(timeout).await {
            Ok(frame) => frame,
            Err(Empty::Closed) => Err(Error::Closed(self.closed())),
            Err(Empty::Timeout) => Err(timeout_error("a frame", timeout)),
        }
    }

    /// Sends a heartbeat (`[null, ref, "phoenix", "heartbeat", {}]`) and waits for its
    /// reply.
    pub async fn heartbeat(&self) -> Result<Reply> {
        self.request(None, "phoenix", "heartbeat", json!({})).await
    }

    /// Sends a heartbeat every `interval` in the background, as the browser does every
    /// 30 s, until the socket closes, a heartbeat goes unanswered or every handle is
    /// dropped.
    pub fn start_heartbeat(&self, interval: Duration) {
        let inner = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let Some(inner) = inner.upgrade() else { break };
                let client = Client { inner };
                if let Err(error) = client.heartbeat().await {
                    tracing::debug!(%error, "heartbeat failed, stopping");
                    break;
                }
            }
        });
    }

    /// Sends `event` on `topic` with a fresh ref and waits up to [`PUSH_TIMEOUT`] for
    /// the reply, whatever its status. Nothing is merged: for a joined view use
    /// [`View::push`].
    pub async fn request(
        &self,
        join_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> Result<Reply> {
        let answer = self
            .call(join_ref, topic, event, payload, PUSH_TIMEOUT, Target::Plain)
            .await?;
        Ok(Reply::new(&answer.frame.payload, answer.extras?))
    }

    /// Sends `bytes` as a binary push (an upload chunk) on `topic` with a fresh ref and
    /// waits up to [`PUSH_TIMEOUT`] for the reply, whatever its status.
    pub async fn request_binary(
        &self,
        join_ref: &str,
        topic: &str,
        event: &str,
        bytes: &[u8],
    ) -> Result<Reply> {
        let msg_ref = self.next_ref();
        let frame = Frame::encode_binary(join_ref, &msg_ref, topic, event, bytes)?;
        let payload = Outgoing::Binary(frame);
        let answer = self
            .send_and_wait(
                &msg_ref,
                Some(join_ref),
                topic,
                event,
                payload,
                PUSH_TIMEOUT,
                Target::Plain,
            )
            .await?;
        Ok(Reply::new(&answer.frame.payload, answer.extras?))
    }

    /// Joins `topic` (`lv:<view id>`) with `payload` and waits up to [`JOIN_TIMEOUT`].
    /// On `ok` the view's tree is built from `response.rendered`; an `error` reply is
    /// [`Error::JoinRefused`] with the response (`{"reason":"stale"}`…).
    pub async fn join(&self, topic: &str, payload: Value) -> Result<View> {
        let join_ref = self.next_ref();
        let base = payload
            .get("url")
            .or_else(|| payload.get("redirect"))
            .and_then(Value::as_str)
            .and_then(|url| Url::parse(url).ok())
            .map_or_else(|| self.inner.origin.clone(), |url| url.origin());
        let view = Arc::new(ViewShared::new(topic, &join_ref, base));
        let replaced = self
            .inner
            .shared
            .routes()
            .views
            .insert(topic.to_owned(), view.clone());
        if let Some(replaced) = replaced {
            // A newer join of the same topic supersedes the old channel.
            replaced.on_replaced();
        }
        let answer = self
            .send_and_wait(
                &join_ref,
                Some(&join_ref),
                topic,
                "phx_join",
                Outgoing::Json(payload),
                JOIN_TIMEOUT,
                Target::Join(view.clone()),
            )
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                self.inner.shared.remove_view(&view);
                return Err(e);
            }
        };
        if status(&answer.frame) != "ok" {
            return Err(Error::JoinRefused(response(answer.frame)));
        }
        if let Err(e) = answer.extras {
            self.inner.shared.remove_view(&view);
            return Err(e);
        }
        tracing::debug!(%topic, %join_ref, "joined");
        Ok(View::new(self.clone(), view))
    }

    /// Joins a page's main view as the browser does: topic `lv:<view_id>`, payload
    /// [`Client::join_payload`].
    pub async fn join_page(
        &self,
        view_id: &str,
        session: &str,
        static_token: Option<&str>,
        url: &str,
    ) -> Result<View> {
        let payload = self.join_payload(session, static_token, url);
        self.join(&format!("lv:{view_id}"), payload).await
    }

    /// The payload of a first join, as `phoenix_live_view` 1.2.12 builds it:
    /// `{"url", "params": {<connect params>, "_mounts": 0, "_mount_attempts": 0},
    /// "session", "static", "sticky": false}`; a missing static token is `null`.
    pub fn join_payload(&self, session: &str, static_token: Option<&str>, url: &str) -> Value {
        let mut params: Map<String, Value> = self
            .inner
            .params
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        params.insert("_mounts".into(), json!(0));
        params.insert("_mount_attempts".into(), json!(0));
        json!({
            "url": url,
            "params": params,
            "session": session,
            "static": static_token.filter(|token| !token.is_empty()),
            "sticky": false,
        })
    }

    /// Closes the socket with code 1000. The server's answer is awaited with
    /// [`Client::wait_closed`].
    pub async fn close(&self) -> Result<()> {
        self.send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        })))
        .await
    }

    /// How the socket ended, if it has.
    pub fn closed(&self) -> Option<Closed> {
        self.inner.shared.closed.borrow().clone()
    }

    /// Waits up to [`WAIT_TIMEOUT`] for the socket to end, and says how.
    pub async fn wait_closed(&self) -> Result<Closed> {
        self.wait_closed_within(WAIT_TIMEOUT).await
    }

    /// [`Client::wait_closed`] with a timeout.
    pub async fn wait_closed_within(&self, timeout: Duration) -> Result<Closed> {
        let mut closed = self.inner.shared.closed.subscribe();
        let wait = closed.wait_for(Option::is_some);
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(closed)) => Ok(closed.clone().unwrap_or_else(|| Closed {
                code: None,
                reason: String::new(),
            })),
            Ok(Err(_)) => Err(Error::Closed(None)),
            Err(_) => Err(timeout_error("the socket to close", timeout)),
        }
    }

    /// Sends a push with a fresh ref and waits for its reply, handled by the reader as
    /// `target` says.
    pub(crate) async fn call(
        &self,
        join_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
        timeout: Duration,
        target: Target,
    ) -> Result<Answer> {
        let msg_ref = self.next_ref();
        let payload = Outgoing::Json(payload);
        self.send_and_wait(&msg_ref, join_ref, topic, event, payload, timeout, target)
            .await
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one frame's fields plus how to wait"
    )]
    async fn send_and_wait(
        &self,
        msg_ref: &str,
        join_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Outgoing,
        timeout: Duration,
        target: Target,
    ) -> Result<Answer> {
        let (tx, rx) = oneshot::channel();
        {
            let mut routes = self.inner.shared.routes();
            if !routes.open {
                drop(routes);
                return Err(Error::Closed(self.closed()));
            }
            routes
                .pending
                .insert(msg_ref.to_owned(), Pending { tx, target });
        }
        let sent = match payload {
            Outgoing::Json(payload) => {
                let frame = Frame::new(join_ref, Some(msg_ref), topic, event, payload);
                self.send_frame(&frame).await
            }
            Outgoing::Binary(bytes) => self.send_binary(&bytes).await,
        };
        if let Err(e) = sent {
            self.inner.shared.routes().pending.remove(msg_ref);
            return Err(e);
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(Error::Closed(self.closed())),
            Err(_) => {
                self.inner.shared.routes().pending.remove(msg_ref);
                Err(timeout_error(
                    &format!("the reply to {event} on {topic}"),
                    timeout,
                ))
            }
        }
    }

    /// Forgets a view (after `phx_leave`).
    pub(crate) fn forget(&self, view: &Arc<ViewShared>) {
        self.inner.shared.remove_view(view);
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("origin", &self.inner.origin)
            .field("closed", &self.closed())
            .finish_non_exhaustive()
    }
}

// === impl Shared ===

impl Shared {
    fn routes(&self) -> MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn remove_view(&self, view: &Arc<ViewShared>) {
        let mut routes = self.routes();
        if routes
            .views
            .get(&view.topic)
            .is_some_and(|current| Arc::ptr_eq(current, view))
        {
            routes.views.remove(&view.topic);
        }
    }

    /// Routes one incoming frame.
    fn route(&self, frame: Frame) {
        if frame.event == "phx_reply" {
            let pending = frame
                .msg_ref
                .as_ref()
                .and_then(|msg_ref| self.routes().pending.remove(msg_ref));
            match pending {
                Some(pending) => self.answer(pending, frame),
                None => self.raw.push(Ok(frame)),
            }
            return;
        }
        let view = self.routes().views.get(&frame.topic).cloned();
        let Some(view) = view else {
            self.raw.push(Ok(frame));
            return;
        };
        // The browser drops a message whose join_ref is not its channel's current one.
        if frame
            .join_ref
            .as_deref()
            .is_some_and(|join_ref| join_ref != view.join_ref)
        {
            tracing::debug!(topic = %frame.topic, event = %frame.event, "dropping a frame for a stale join");
            return;
        }
        if view.on_push(frame) {
            self.remove_view(&view);
        }
    }

    fn answer(&self, pending: Pending, frame: Frame) {
        let extras = match &pending.target {
            Target::Plain => Ok(Extras::default()),
            Target::Join(view) => {
                let extras = view.on_join_reply(&frame.payload);
                if status(&frame) != "ok" {
                    self.remove_view(view);
                }
                extras
            }
            Target::Push(view) => view.on_reply(&frame.payload),
        };
        // The waiter may have timed out; then the reply is dropped.
        let _ = pending.tx.send(Answer { frame, extras });
    }

    /// The socket ended: nothing more will be answered.
    fn disconnect(&self, closed: Closed) {
        tracing::debug!(code = ?closed.code, reason = %closed.reason, "socket closed");
        self.closed.send_replace(Some(closed));
        let (pending, views) = {
            let mut routes = self.routes();
            routes.open = false;
            (
                std::mem::take(&mut routes.pending),
                std::mem::take(&mut routes.views),
            )
        };
        // Dropping the senders fails every waiting push with `Closed`.
        drop(pending);
        for view in views.values() {
            view.on_disconnect();
        }
        self.raw.close();
    }
}

/// The reader task: decodes and routes frames until the socket ends.
async fn read(mut stream: SplitStream<Socket>, shared: Arc<Shared>) {
    let mut closed = Closed {
        code: None,
        reason: String::new(),
    };
    while let Some(message) = stream.next().await {
        match message {
            Ok(Message::Text(text)) => match Frame::decode(&text) {
                Ok(frame) => shared.route(frame),
                Err(e) => shared.raw.push(Err(e)),
            },
            Ok(Message::Binary(bytes)) => match Frame::decode_binary(&bytes) {
                Ok(frame) => shared.route(frame),
                Err(e) => shared.raw.push(Err(e)),
            },
            Ok(Message::Close(frame)) => {
                if let Some(frame) = frame {
                    closed = Closed {
                        code: Some(u16::from(frame.code)),
                        reason: frame.reason.to_string(),
                    };
                }
            }
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
            Err(error) => {
                tracing::debug!(%error, "socket read failed");
                break;
            }
        }
    }
    shared.disconnect(closed);
}

fn status(frame: &Frame) -> &str {
    frame
        .payload
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn response(frame: Frame) -> Value {
    match frame.payload {
        Value::Object(mut map) => map.remove("response").unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

pub(crate) fn timeout_error(what: &str, timeout: Duration) -> Error {
    Error::Timeout {
        what: what.to_owned(),
        millis: timeout.as_millis(),
    }
}
