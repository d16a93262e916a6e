//! The session actor: one tokio task per live session.
//!
//! The task owns the view's state, the prints of what the client holds and a bounded
//! mailbox. It takes the join frame and then client frames and messages, runs the view's
//! callbacks, and hands complete V2 frames (already encoded) to its [`Outbox`].
//!
//! Failures stay inside the session: an unknown or malformed client event gets an error
//! reply and the session goes on; a panic in app code ends this session with
//! `phx_error` (the client rejoins and mounts afresh) and touches nothing else.
//!
//! Each session is counted in the process's metrics (module `instruments`: sessions,
//! joins and leaves by view, the time from an event to its reply, errors by
//! [`ErrorReason`], render and upload bytes).

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use cinder_presence::Tracker;
use cinder_pubsub::{Delivery, Gap, GapCause, Message, PubSub};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tracing::{Instrument, debug, warn};

use crate::component::{self, ComponentEffects, Instance, Registry};
use crate::diff::{Extras, Prints};
use crate::flash::{Flash, FlashOp};
use crate::frame::{self, Chunk, ClientFrame};
use crate::json;
use crate::mailbox;
pub use crate::mailbox::SendError;
use crate::params;
use crate::route::{Pattern, path_of};
use crate::socket::{Mounted, Navigation, PresenceChange, Socket, Subscription, SubscriptionKind};
use crate::token::Signer;
use crate::view::{LiveView, Params};
use crate::{Error, LIVEVIEW_VERSION};

mod instruments;
mod presence;
mod subscriptions;
mod uploads;

pub use instruments::ErrorReason;
use instruments::{Kind, Live, Timer};
use presence::PresenceResync;
use subscriptions::{Held, Subscribed};

/// Where a session sends its encoded frames.
pub trait Outbox: Send + 'static {
    /// Delivers one encoded frame; `false` means nobody listens any more and the session
    /// stops.
    fn send(&mut self, frame: String) -> impl Future<Output = bool> + Send;

    /// The session has ended; no frame follows.
    fn close(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// The largest frame this outbox carries, in bytes. A session whose next frame is
    /// larger fails with `phx_error` instead of sending it (see `Actor::send`).
    fn max_frame_bytes(&self) -> usize {
        usize::MAX
    }
}

impl Outbox for mpsc::Sender<String> {
    async fn send(&mut self, frame: String) -> bool {
        mpsc::Sender::send(self, frame).await.is_ok()
    }
}

impl Outbox for mpsc::UnboundedSender<String> {
    async fn send(&mut self, frame: String) -> bool {
        mpsc::UnboundedSender::send(self, frame).is_ok()
    }
}

/// What a session's mailbox carries.
pub enum Input {
    /// A client frame on the session's topic or one of its upload channels.
    Frame(Box<ClientFrame>),
    /// An upload chunk (a binary push on one of its `lvu:` channels).
    Chunk(Box<Chunk>),
    /// A message for `handle_info`; it must be the view's `Info` type.
    Info(Box<dyn Any + Send>),
    /// Stop without replying (the connection went away).
    Shutdown,
    /// An upload channel's chunk timeout may have passed: channels idle for longer are
    /// closed and their entries dropped. Queued by the session's own timer.
    UploadTimeout,
}

impl Input {
    /// The channel and refs client input came with, to reply to it.
    pub fn origin(&self) -> Option<(Option<&str>, Option<&str>, &str)> {
        match self {
            Input::Frame(f) => Some((f.join_ref.as_deref(), f.msg_ref.as_deref(), &f.topic)),
            Input::Chunk(c) => Some((c.join_ref.as_deref(), c.msg_ref.as_deref(), &c.topic)),
            Input::Info(_) | Input::Shutdown | Input::UploadTimeout => None,
        }
    }
}

/// A gap as the message a view subscribed with gaps receives.
fn gap_message(gap: &Gap) -> Message {
    let cause = match gap.cause {
        GapCause::Reconnected => "reconnected",
        GapCause::Overflow => "overflow",
        _ => "unknown",
    };
    Message {
        topic: gap.topic.clone(),
        payload: Arc::new(json!({"event": "gap", "cause": cause})),
    }
}

/// Sends input to a running session.
#[derive(Clone)]
pub struct SessionHandle {
    tx: mailbox::Sender<Input>,
}

impl std::fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionHandle").finish_non_exhaustive()
    }
}

impl SessionHandle {
    /// Queues input; a full mailbox or an ended session is reported, never waited on.
    pub fn try_send(&self, input: Input) -> Result<(), SendError> {
        self.tx.try_send(input)
    }

    /// Like [`SessionHandle::try_send`], handing refused input back.
    pub fn offer(&self, input: Input) -> Result<(), (SendError, Input)> {
        self.tx.offer(input)
    }

    /// Sends a message to the view's `handle_info`.
    pub fn try_info<I: Send + 'static>(&self, info: I) -> Result<(), SendError> {
        self.try_send(Input::Info(Box::new(info)))
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// Tunables of a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    /// How many inputs may wait in the mailbox.
    pub mailbox: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig { mailbox: 32 }
    }
}

/// Starts the session for a `phx_join` frame on the current tokio runtime.
pub fn spawn<V: LiveView, O: Outbox>(
    join: ClientFrame,
    outbox: O,
    config: SessionConfig,
) -> SessionHandle {
    spawn_in::<V, O>(join, outbox, config, None)
}

/// Where a session runs: its route (for path parameters), the node's pubsub and
/// presence tracker.
#[derive(Clone)]
pub struct Env {
    /// The route the view is mounted at; its `:params` join the query parameters.
    pub route: Option<Pattern>,
    /// Topics for `subscribe` and `broadcast`.
    pub pubsub: Option<Arc<dyn PubSub>>,
    /// Presence for `track` and `subscribe_presence`.
    pub presence: Option<Tracker>,
    /// Signs the flash a navigation takes along and checks the one a join brings.
    /// Without one, flash stays within its view.
    pub signer: Option<Signer>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

impl Env {
    /// The name of the node hosting the view's sessions: its presence replica's, empty
    /// without presence.
    pub fn node(&self) -> &str {
        self.presence.as_ref().map_or("", |p| p.replica().name())
    }

    /// The parameters of `url`: the route's path parameters plus the query; refused
    /// over the bounds of [`params`].
    pub fn params(&self, url: &str) -> Result<Params, params::ParamsError> {
        let mut query = params::from_url(url)?;
        if let Some(route) = &self.route
            && let Some(path_params) = route.matches(path_of(url))
        {
            query.extend(path_params);
        }
        Ok(query)
    }
}

/// Like [`spawn`], inside an [`Env`] shared by the sessions of one route.
pub fn spawn_in<V: LiveView, O: Outbox>(
    join: ClientFrame,
    outbox: O,
    config: SessionConfig,
    env: Option<Arc<Env>>,
) -> SessionHandle {
    let (tx, rx) = mailbox::channel(config.mailbox);
    let span = tracing::debug_span!("session", topic = %join.topic);
    let actor = Actor::<V, O> {
        topic: join.topic.clone().into_boxed_str(),
        join_ref: None,
        uri: Box::from(""),
        prints: Prints::new(),
        components: Registry::default(),
        rerender: Vec::new(),
        outbox,
        me: tx.downgrade(),
        env,
        held: None,
        reply_fields: None,
        live: None,
        _view: std::marker::PhantomData,
    };
    tokio::spawn(Box::new(actor).run(Box::new(join), rx).instrument(span));
    SessionHandle { tx }
}

struct Actor<V, O> {
    topic: Box<str>,
    join_ref: Option<Box<str>>,
    /// The current URL, for resolving patches.
    uri: Box<str>,
    prints: Prints,
    /// The live components' state, by `(type, id)`.
    components: Registry,
    /// Components to render after the next callback although the view may not render
    /// them (one of them handled an event).
    rerender: Vec<(&'static str, String)>,
    outbox: O,
    me: mailbox::WeakSender<Input>,
    env: Option<Arc<Env>>,
    /// What it holds in the cluster, released when it ends (see `subscriptions`).
    /// Boxed on first use: an idle session that subscribes to nothing pays a pointer.
    held: Option<Box<Held>>,
    /// Fields the next reply carries besides its diff (an `allow_upload` answer).
    reply_fields: Option<Box<str>>,
    /// Set once mounted: counts the session in the metrics until the actor is dropped.
    live: Option<Live>,
    _view: std::marker::PhantomData<fn() -> V>,
}

/// What a callback run ended with.
enum Outcome {
    Continue,
    Stop,
}

impl<V: LiveView, O: Outbox> Actor<V, O> {
    /// The join frame arrives boxed, and handler futures are boxed, so that an idle
    /// session's task holds only this loop's small state.
    async fn run(
        mut self: Box<Self>,
        mut join: Box<ClientFrame>,
        mut rx: mailbox::Receiver<Input>,
    ) {
        // Instrumented inside the box: the idle loop's state stays a pointer per arm.
        let joined = match join.span.take() {
            Some(span) => Box::pin(self.join(join).instrument(*span)).await,
            None => Box::pin(self.join(join)).await,
        };
        // A failed join skips the loop but still tells the outbox the session is over.
        if let Some(mut socket) = joined
            && let Outcome::Continue =
                Box::pin(self.after_updates(&mut socket, Outcome::Continue)).await
        {
            while let Some(input) = rx.recv().await {
                let outcome = match input {
                    Input::Frame(frame) if frame.topic != *self.topic => {
                        Box::pin(self.upload_frame(&mut socket, *frame)).await
                    }
                    Input::Frame(mut frame) => {
                        let timer = match frame.event.as_str() {
                            "event" => self.timer(Kind::Event),
                            _ => None,
                        };
                        match frame.span.take() {
                            Some(span) => {
                                let handling = timed(timer, self.frame(&mut socket, *frame));
                                Box::pin(handling.instrument(*span)).await
                            }
                            None => Box::pin(timed(timer, self.frame(&mut socket, *frame))).await,
                        }
                    }
                    Input::Chunk(chunk) => Box::pin(self.chunk(&mut socket, *chunk)).await,
                    Input::Info(info) => match info.downcast::<V::Info>() {
                        Ok(info) => {
                            let timer = self.timer(Kind::Info);
                            Box::pin(timed(timer, self.info(&mut socket, *info))).await
                        }
                        Err(other) => match other.downcast::<PresenceResync<V::Info>>() {
                            Ok(resync) => {
                                let timer = self.timer(Kind::Info);
                                let info = self.presence_resync(&resync);
                                Box::pin(timed(timer, self.info(&mut socket, info))).await
                            }
                            Err(_) => {
                                warn!("dropped a message of the wrong type for this view");
                                Outcome::Continue
                            }
                        },
                    },
                    Input::UploadTimeout => Box::pin(self.upload_timeout(&mut socket)).await,
                    Input::Shutdown => Outcome::Stop,
                };
                if let Outcome::Stop = outcome {
                    break;
                }
            }
        }
        // Out of `cinder_sessions` before the outbox closes, so whoever sees the close
        // sees the count without it.
        self.live = None;
        self.release();
        self.outbox.close().await;
        debug!("session ended");
    }

    /// Starts timing an input of `kind`, once mounted.
    fn timer(&self, kind: Kind) -> Option<Timer> {
        self.live.as_ref().map(|live| live.timer(kind))
    }

    fn params(&self, url: &str) -> Result<Params, params::ParamsError> {
        match &self.env {
            Some(env) => env.params(url),
            None => params::from_url(url),
        }
    }

    fn tracker(&self) -> Option<&Tracker> {
        self.env.as_ref().and_then(|env| env.presence.as_ref())
    }

    /// Subscribes this session to the topics a callback asked for, publishes its
    /// broadcasts and applies its presence changes, in that order (so a session that
    /// subscribes to a topic's presence and tracks itself there sees its own join).
    fn cluster(
        &mut self,
        subscriptions: Vec<Subscription<V::Info>>,
        broadcasts: Vec<(String, Value)>,
        presences: Vec<PresenceChange>,
    ) {
        let pubsub = self.env.as_ref().and_then(|env| env.pubsub.clone());
        for subscription in subscriptions {
            let convert = subscription.convert;
            let sink = self.sink(convert);
            if subscription.kind == SubscriptionKind::Presence {
                self.subscribe_presence(&subscription.topic, convert, sink);
                continue;
            }
            let Some(pubsub) = &pubsub else {
                warn!(topic = %subscription.topic, "subscribe without a pubsub: ignored");
                continue;
            };
            // Presence and gap events come only from their own subscriptions: an app
            // message dressed as one never reaches the view.
            let sink = Box::new(move |message: &Message| {
                if let Some(event) = crate::topics::framework_event(&message.payload) {
                    debug!(topic = %message.topic, %event, "app message naming a framework event dropped");
                    return Delivery::Delivered;
                }
                sink(message)
            });
            let id = if subscription.kind == SubscriptionKind::MessagesAndGaps {
                let gaps = self.sink(convert);
                let gaps = Box::new(move |gap: &Gap| gaps(&gap_message(gap)));
                pubsub.subscribe_with_gaps(&subscription.topic, sink, gaps)
            } else {
                pubsub.subscribe(&subscription.topic, sink)
            };
            self.held()
                .subscriptions
                .push(Subscribed::messages(&subscription.topic, id));
        }
        for (topic, payload) in broadcasts {
            match &pubsub {
                Some(pubsub) => {
                    pubsub.publish(&topic, payload);
                }
                None => warn!(%topic, "broadcast without a pubsub: ignored"),
            }
        }
        if !presences.is_empty() {
            self.presence(presences);
        }
    }

    /// Hands a topic's messages to this session's `handle_info`, without waiting.
    fn sink(
        &self,
        convert: fn(&Message) -> V::Info,
    ) -> Box<dyn Fn(&Message) -> Delivery + Send + Sync> {
        let me = self.me.clone();
        Box::new(move |message: &Message| {
            match me.try_send(Input::Info(Box::new(convert(message)))) {
                Ok(()) => Delivery::Delivered,
                Err(SendError::Full) => Delivery::Dropped,
                Err(SendError::Closed) => Delivery::Gone,
            }
        })
    }

    fn join_ref(&self) -> Option<&str> {
        self.join_ref.as_deref()
    }

    fn signer(&self) -> Option<&Signer> {
        self.env.as_ref().and_then(|env| env.signer.as_ref())
    }

    fn node(&self) -> &str {
        self.env.as_deref().map_or("", Env::node)
    }

    /// The event and payload that send the client away (`live_redirect` for
    /// `push_navigate`, `redirect`), with the `flash` the callback changed as a signed
    /// token; `None` when the view stays.
    fn leaving(
        &self,
        navigation: Option<&Navigation>,
        flash: Option<Flash>,
    ) -> Option<(&'static str, String)> {
        let (event, mut payload) = match navigation? {
            Navigation::Navigate { to, replace } => ("live_redirect", redirect(to, *replace)),
            Navigation::Redirect { to } => ("redirect", json!({ "to": to })),
            Navigation::Patch { .. } => return None,
        };
        let signer = self.signer();
        if let (Some(flash), Some(signer), Value::Object(payload)) = (flash, signer, &mut payload)
            && !flash.is_empty()
        {
            payload.insert("flash".into(), Value::String(flash.sign(signer)));
        }
        Some((event, to_json(&payload)))
    }

    /// Sends one frame. A frame larger than the outbox carries fails the session as a
    /// crash does (`phx_error`, then the end), so that it costs no other session
    /// anything: on the link, one message over the limit would break every session.
    async fn send(&mut self, frame: String) -> Outcome {
        let max = self.outbox.max_frame_bytes();
        if frame.len() > max {
            warn!(
                bytes = frame.len(),
                max, "a frame over the outbox's limit ends the session"
            );
            metrics::counter!("cinder_oversized_frames_total").increment(1);
            ErrorReason::FrameTooLarge.count();
            let jr = self.join_ref();
            let error = frame::encode(
                jr,
                jr,
                &self.topic,
                "phx_error",
                r#"{"reason":"frame_too_large"}"#,
            );
            self.outbox.send(error).await;
            return Outcome::Stop;
        }
        if self.outbox.send(frame).await {
            Outcome::Continue
        } else {
            Outcome::Stop
        }
    }

    async fn reply(&mut self, msg_ref: Option<&str>, status: &str, response: &str) -> Outcome {
        let frame = frame::reply(self.join_ref(), msg_ref, &self.topic, status, response);
        self.send(frame).await
    }

    /// Ends the session with `phx_error`, counted under `reason`.
    async fn crash(&mut self, reason: ErrorReason) -> Outcome {
        reason.count();
        let jr = self.join_ref();
        let frame = frame::encode(
            jr,
            jr,
            &self.topic,
            "phx_error",
            r#"{"reason":"channel_crash"}"#,
        );
        self.send(frame).await;
        Outcome::Stop
    }

    /// Mounts the view and sends the join reply; `None` when the join failed.
    async fn join(&mut self, join: Box<ClientFrame>) -> Option<Socket<V>> {
        let ClientFrame {
            join_ref,
            msg_ref,
            payload,
            ..
        } = *join;
        self.join_ref = join_ref.map(String::into_boxed_str);
        let msg_ref = msg_ref.as_deref();
        let url = payload
            .get("url")
            .or_else(|| payload.get("redirect"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let query = match self.params(url) {
            Ok(query) => query,
            Err(err) => {
                debug!(error = %err, "join with refused params");
                ErrorReason::InvalidParams.count();
                self.reply(msg_ref, "error", &frame::reason(&err.to_string()))
                    .await;
                return None;
            }
        };
        self.uri = url.into();
        let flash = match (payload.get("flash").and_then(Value::as_str), self.signer()) {
            (Some(token), Some(signer)) => Flash::verify(signer, token),
            _ => Flash::new(),
        };
        let mounted = catch_unwind(AssertUnwindSafe(|| -> Result<Mounted<V>, Error> {
            crate::socket::mount::<V>(&query, url, true, &flash, self.node())
        }));
        let (mut socket, pending) = match mounted {
            Ok(Ok(mounted)) => mounted,
            Ok(Err(err)) => {
                warn!(error = %err, "mount failed");
                ErrorReason::MountFailed.count();
                self.reply(msg_ref, "error", &frame::reason(&err.to_string()))
                    .await;
                return None;
            }
            Err(_) => {
                warn!("mount panicked");
                ErrorReason::Panic.count();
                self.reply(msg_ref, "error", &frame::reason("join crashed"))
                    .await;
                return None;
            }
        };
        let mut pending = pending.map(|p| *p).unwrap_or_default();
        let Ok(flash) = catch_unwind(AssertUnwindSafe(|| {
            apply_flash(&mut socket, std::mem::take(&mut pending.flash))
        })) else {
            warn!("flash hook panicked during join");
            ErrorReason::Panic.count();
            self.reply(msg_ref, "error", &frame::reason("join crashed"))
                .await;
            return None;
        };
        // A mount that navigates away answers the join with the navigation instead.
        if let Some((event, payload)) = self.leaving(pending.navigation.as_ref(), flash) {
            let response = format!("{{\"{event}\":{payload}}}");
            self.reply(msg_ref, "error", &response).await;
            return None;
        }
        let mut response = String::from("{\"rendered\":");
        let extras = Extras {
            title: pending.title.as_deref(),
            events: &pending.events,
            reply: None,
        };
        let (prints, components) = (&mut self.prints, &mut self.components);
        *components = Registry::default();
        let rendered = catch_unwind(AssertUnwindSafe(|| {
            prints.reset();
            components.with(|| {
                prints.render_into(&mut response, V::render(&socket.assigns), extras);
            });
        }));
        let failed = match rendered {
            Err(_) => Some(ErrorReason::Panic),
            Ok(()) => components
                .take_failure()
                .map(|_| ErrorReason::ComponentFailed),
        };
        if let Some(reason) = failed {
            warn!(reason = reason.as_str(), "render failed during join");
            reason.count();
            self.reply(msg_ref, "error", &frame::reason("join crashed"))
                .await;
            return None;
        }
        // Mounted: counted from here until the actor is dropped, whatever ends it.
        let live = Live::start(instruments::for_view::<V>());
        live.sent_diff(response.len());
        self.live = Some(live);
        socket.assigns.clear();
        response.push_str(",\"liveview_version\":");
        json::string(&mut response, LIVEVIEW_VERSION);
        if let Some(Navigation::Patch { to, replace }) = &pending.navigation {
            response.push_str(",\"live_patch\":");
            response.push_str(&to_json(&redirect(to, *replace)));
        }
        response.push('}');
        self.schedule(pending.timers);
        self.cluster(pending.subscriptions, pending.broadcasts, pending.presences);
        debug!("joined");
        match self.reply(msg_ref, "ok", &response).await {
            Outcome::Continue => Some(socket),
            Outcome::Stop => None,
        }
    }

    async fn frame(&mut self, socket: &mut Socket<V>, mut frame: ClientFrame) -> Outcome {
        let msg_ref = frame.msg_ref.as_deref();
        match frame.event.as_str() {
            "event" => {
                let cid = frame.payload.get("cid").map(|cid| cid.as_u64());
                let uploads = match frame.payload.as_object_mut().map(|p| p.remove("uploads")) {
                    Some(Some(Value::Object(uploads))) if !uploads.is_empty() => Some(uploads),
                    _ => None,
                };
                let (event, value) = match event_payload(frame.payload) {
                    Ok(parts) => parts,
                    Err(err) => {
                        ErrorReason::InvalidPayload.count();
                        return self
                            .reply(msg_ref, "error", &frame::reason(&err.to_string()))
                            .await;
                    }
                };
                if event == CLEAR_FLASH {
                    let key = value.get("key").and_then(Value::as_str).map(str::to_owned);
                    return self
                        .callback(socket, msg_ref, |socket| {
                            match key {
                                Some(kind) => socket.clear_flash_kind(kind),
                                None => socket.clear_flash(),
                            }
                            Ok(())
                        })
                        .await;
                }
                match cid {
                    None => {
                        self.callback(socket, msg_ref, |socket| {
                            if let (Some(uploads), Some(own)) =
                                (&uploads, V::uploads(&mut socket.assigns))
                            {
                                own.put_form_entries(uploads);
                            }
                            V::handle_event(socket, &event, value)
                        })
                        .await
                    }
                    Some(cid) => {
                        let cid = cid.and_then(|cid| u32::try_from(cid).ok());
                        self.component_call(socket, msg_ref, cid, |component| {
                            if let (Some(uploads), Some(own)) = (&uploads, component.uploads()) {
                                own.put_form_entries(uploads);
                            }
                            component.handle_event(&event, value).map(|()| None)
                        })
                        .await
                    }
                }
            }
            "live_patch" => {
                let Some(url) = frame
                    .payload
                    .get("url")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                else {
                    ErrorReason::InvalidPayload.count();
                    return self
                        .reply(msg_ref, "error", &frame::reason("live_patch needs a url"))
                        .await;
                };
                // Another view's URL: the client navigates there instead (a live
                // redirect), and this view stays as it is.
                let route = self.env.as_ref().and_then(|env| env.route.as_ref());
                if route.is_some_and(|route| route.matches(path_of(&url)).is_none()) {
                    return self.reply(msg_ref, "ok", r#"{"link_redirect":true}"#).await;
                }
                let query = match self.params(&url) {
                    Ok(query) => query,
                    Err(err) => {
                        ErrorReason::InvalidParams.count();
                        return self
                            .reply(msg_ref, "error", &frame::reason(&err.to_string()))
                            .await;
                    }
                };
                self.uri = url.as_str().into();
                self.callback(socket, msg_ref, |socket| {
                    V::handle_params(socket, &query, &url)
                })
                .await
            }
            "phx_leave" => {
                self.reply(msg_ref, "ok", "{}").await;
                Outcome::Stop
            }
            "allow_upload" => self.allow_upload(socket, msg_ref, &frame.payload).await,
            "progress" if frame.payload.get("cid").is_some_and(|cid| !cid.is_null()) => {
                let cid = frame.payload["cid"]
                    .as_u64()
                    .and_then(|cid| u32::try_from(cid).ok());
                let payload = frame.payload;
                self.component_call(socket, msg_ref, cid, |component| {
                    match component.uploads().and_then(|u| u.progress(&payload)) {
                        Some((name, entry)) => {
                            component.handle_progress(&name, entry).map(|()| None)
                        }
                        None => Ok(None),
                    }
                })
                .await
            }
            "progress" => {
                let payload = frame.payload;
                self.callback(socket, msg_ref, |socket| {
                    match V::uploads(&mut socket.assigns).and_then(|u| u.progress(&payload)) {
                        Some((name, entry)) => V::handle_progress(socket, &name, entry),
                        None => Ok(()),
                    }
                })
                .await
            }
            "cids_will_destroy" => {
                self.prints.will_destroy(&cids(&frame.payload));
                self.reply(msg_ref, "ok", "{}").await
            }
            "cids_destroyed" => {
                let cids = cids(&frame.payload);
                let keys: Vec<(u32, &'static str, String)> = cids
                    .iter()
                    .filter_map(|&cid| {
                        let (kind, id) = self.prints.component(cid)?;
                        Some((cid, kind, id.to_owned()))
                    })
                    .collect();
                let deleted = self.prints.destroy(&cids);
                for (cid, kind, id) in keys {
                    if deleted.contains(&cid) {
                        self.components.remove(kind, &id);
                    }
                }
                let response = to_json(&json!({ "cids": deleted }));
                self.reply(msg_ref, "ok", &response).await
            }
            "phx_join" => {
                ErrorReason::InvalidPayload.count();
                self.reply(msg_ref, "error", &frame::reason("already joined"))
                    .await
            }
            other => {
                debug!(event = other, "unmatched event");
                ErrorReason::UnmatchedEvent.count();
                self.reply(msg_ref, "error", &frame::reason("unmatched event"))
                    .await
            }
        }
    }

    /// Runs `f` on the component with `cid` (its `handle_event`, an upload step), then
    /// replies with its diff (and the view's, if the component's effects changed it),
    /// led by the fields `f` returned, if any.
    async fn component_call(
        &mut self,
        socket: &mut Socket<V>,
        msg_ref: Option<&str>,
        cid: Option<u32>,
        f: impl FnOnce(&mut dyn Instance) -> Result<Option<String>, Error>,
    ) -> Outcome {
        let Some((kind, id)) = cid
            .and_then(|cid| self.prints.component(cid))
            .map(|(kind, id)| (kind, id.to_owned()))
        else {
            debug!(?cid, "event for an unknown component");
            ErrorReason::UnknownComponent.count();
            return self
                .reply(msg_ref, "error", &frame::reason("unknown component"))
                .await;
        };
        let components = &mut self.components;
        let ran = catch_unwind(AssertUnwindSafe(|| components.run(kind, &id, f)));
        let (result, effects) = match ran {
            Err(_) => {
                warn!("component callback panicked");
                return self.crash(ErrorReason::Panic).await;
            }
            Ok(None) => {
                ErrorReason::UnknownComponent.count();
                return self
                    .reply(msg_ref, "error", &frame::reason("unknown component"))
                    .await;
            }
            Ok(Some(ran)) => ran,
        };
        let fields = match result {
            Ok(fields) => fields,
            Err(err) => {
                warn!(error = %err, "component callback failed");
                ErrorReason::CallbackFailed.count();
                return self
                    .reply(msg_ref, "error", &frame::reason(&err.to_string()))
                    .await;
            }
        };
        self.reply_fields = fields.map(String::into_boxed_str);
        self.absorb(socket, effects);
        self.rerender.push((kind, id));
        self.callback(socket, msg_ref, |_| Ok(())).await
    }

    /// Takes a component's effects into the view's: its events and navigation join the
    /// next diff, its flash the view's flash, its messages the view's mailbox.
    fn absorb(&self, socket: &mut Socket<V>, effects: ComponentEffects) {
        for event in effects.events {
            let effects = socket.effects();
            if event.before_patch {
                effects.push_event_before_patch(event.name, event.payload);
            } else {
                effects.push_event(event.name, event.payload);
            }
        }
        for op in effects.flash {
            socket.effects().flash(op);
        }
        if let Some(navigation) = effects.navigation {
            socket.effects().navigate(navigation);
        }
        for info in effects.to_parent {
            if self.me.try_send(Input::Info(info)).is_err() {
                warn!("a component's message to its view was dropped: mailbox full");
            }
        }
    }

    /// After a render was sent: the effects components' `update`s left in it, applied
    /// with one more render pushed as a `diff`. Effects that render leaves are dropped
    /// (an `update` that always has some would loop).
    async fn after_updates(&mut self, socket: &mut Socket<V>, outcome: Outcome) -> Outcome {
        let Outcome::Continue = outcome else {
            return outcome;
        };
        let Some(effects) = self.components.take_update_effects() else {
            return outcome;
        };
        self.absorb(socket, effects);
        let outcome = self.callback_once(socket, None, |_| Ok(())).await;
        if self.components.take_update_effects().is_some() {
            warn!("effects of component updates in a follow-up render were dropped");
        }
        outcome
    }

    async fn info(&mut self, socket: &mut Socket<V>, info: V::Info) -> Outcome {
        self.callback(socket, None, |socket| V::handle_info(socket, info))
            .await
    }

    /// Runs a callback, renders what changed and sends it: as the reply to `msg_ref`, or
    /// as a pushed `diff` when there is no ref (messages and timers). Then the effects
    /// of the components' updates, if any.
    async fn callback(
        &mut self,
        socket: &mut Socket<V>,
        msg_ref: Option<&str>,
        callback: impl FnOnce(&mut Socket<V>) -> Result<(), Error>,
    ) -> Outcome {
        let outcome = self.callback_once(socket, msg_ref, callback).await;
        self.after_updates(socket, outcome).await
    }

    /// [`Actor::callback`] without the components' update effects.
    async fn callback_once(
        &mut self,
        socket: &mut Socket<V>,
        msg_ref: Option<&str>,
        callback: impl FnOnce(&mut Socket<V>) -> Result<(), Error>,
    ) -> Outcome {
        let reply_fields = self.reply_fields.take();
        let ran = catch_unwind(AssertUnwindSafe(|| callback(socket)));
        let Ok(result) = ran else {
            warn!("callback panicked");
            return self.crash(ErrorReason::Panic).await;
        };
        let mut pending = socket.effects.take().map(|p| *p).unwrap_or_default();
        if let Err(err) = result {
            warn!(error = %err, "callback failed");
            ErrorReason::CallbackFailed.count();
            socket.assigns.clear();
            if msg_ref.is_some() {
                return self
                    .reply(msg_ref, "error", &frame::reason(&err.to_string()))
                    .await;
            }
            return Outcome::Continue;
        }
        let ops = std::mem::take(&mut pending.flash);
        let Ok(flash) = catch_unwind(AssertUnwindSafe(|| apply_flash(socket, ops))) else {
            warn!("flash hook panicked");
            return self.crash(ErrorReason::Panic).await;
        };
        let mut patched = None;
        if let Some(Navigation::Patch { to, replace }) = &pending.navigation {
            // Phoenix pushes `live_patch` first, runs handle_params, then replies with the diff.
            let jr = self.join_ref();
            let push = frame::encode(
                jr,
                None,
                &self.topic,
                "live_patch",
                &to_json(&redirect(to, *replace)),
            );
            if let Outcome::Stop = self.send(push).await {
                return Outcome::Stop;
            }
            let url = resolve(&self.uri, to);
            // The view built this URL, but it may carry what a client typed: over the
            // bounds, handle_params is skipped as if it had failed.
            let ran = self.params(&url).map(|query| {
                catch_unwind(AssertUnwindSafe(|| V::handle_params(socket, &query, &url)))
            });
            match ran {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(err))) => warn!(error = %err, "handle_params failed after push_patch"),
                Err(err) => warn!(error = %err, "push_patch to a URL with refused params"),
                Ok(Err(_)) => return self.crash(ErrorReason::Panic).await,
            }
            patched = Some(url);
        }
        if let Some(url) = patched {
            self.uri = url.into();
        }
        let extras = Extras {
            title: pending.title.as_deref(),
            events: &pending.events,
            reply: pending.reply.as_ref(),
        };
        let (prints, registry) = (&mut self.prints, &mut self.components);
        let rerender: Vec<_> = self
            .rerender
            .drain(..)
            .map(|(kind, id)| component::rerender(kind, id))
            .collect();
        let rendered = catch_unwind(AssertUnwindSafe(|| {
            registry.with(|| {
                if rerender.is_empty() {
                    prints.render(V::render(&socket.assigns), extras)
                } else {
                    prints.render_with(Some(V::render(&socket.assigns)), rerender, extras)
                }
            })
        }));
        socket.assigns.clear();
        let failed = registry.take_failure();
        let Ok(diff) = rendered else {
            warn!("render panicked");
            return self.crash(ErrorReason::Panic).await;
        };
        if let Some(err) = failed {
            warn!(error = %err, "a component failed during the render");
            return self.crash(ErrorReason::ComponentFailed).await;
        }
        if diff != "{}"
            && let Some(live) = &self.live
        {
            live.sent_diff(diff.len());
        }
        self.schedule(pending.timers);
        self.cluster(pending.subscriptions, pending.broadcasts, pending.presences);
        let leaving = self.leaving(pending.navigation.as_ref(), flash);
        let stops = leaving.is_some();
        let outcome = match msg_ref {
            Some(_) => {
                let mut response = String::from("{");
                if let Some(fields) = reply_fields {
                    response.push_str(&fields);
                }
                if diff != "{}" {
                    json::key(&mut response, "diff");
                    response.push_str(&diff);
                }
                if let Some((event, payload)) = &leaving {
                    json::key(&mut response, event);
                    response.push_str(payload);
                }
                response.push('}');
                self.reply(msg_ref, "ok", &response).await
            }
            None => {
                let jr = self.join_ref();
                let mut outcome = Outcome::Continue;
                if diff != "{}" {
                    let push = frame::encode(jr, None, &self.topic, "diff", &diff);
                    outcome = self.send(push).await;
                }
                if let (Outcome::Continue, Some((event, payload))) = (&outcome, leaving) {
                    let push = frame::encode(self.join_ref(), None, &self.topic, event, &payload);
                    outcome = self.send(push).await;
                }
                outcome
            }
        };
        match outcome {
            _ if stops => Outcome::Stop,
            Outcome::Continue => self.close_finished_uploads(socket).await,
            Outcome::Stop => Outcome::Stop,
        }
    }

    fn schedule(&self, timers: Vec<(std::time::Duration, V::Info)>) {
        for (delay, info) in timers {
            let tx = self.me.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if tx.try_send(Input::Info(Box::new(info))).is_err() {
                    warn!("a timer's message was dropped: mailbox full or session ended");
                }
            });
        }
    }
}

/// Runs an input's handler, then records its time if it is timed. The timer is part of
/// the boxed handler's state, not of the idle loop's: a task's allocation grows in steps
/// of 128 bytes and the loop's state leaves no room (a timer held there cost each idle
/// session 128 bytes in the `session_memory` bench).
async fn timed(timer: Option<Timer>, handling: impl Future<Output = Outcome>) -> Outcome {
    let outcome = handling.await;
    if let Some(timer) = timer {
        timer.stop();
    }
    outcome
}

/// Splits an `event` payload into the event name and its value. Form payloads arrive
/// urlencoded and are decoded into nested params, with `meta` (`_target`, `phx-value-*`)
/// merged in as Phoenix does.
fn event_payload(payload: Value) -> Result<(String, Value), Error> {
    let Value::Object(mut payload) = payload else {
        return Err(Error::InvalidPayload(
            "an event payload is an object".into(),
        ));
    };
    let Some(Value::String(event)) = payload.remove("event") else {
        return Err(Error::InvalidPayload(
            "an event payload names its event".into(),
        ));
    };
    if event.len() > frame::MAX_EVENT_BYTES {
        return Err(Error::InvalidPayload(format!(
            "an event name is at most {} bytes",
            frame::MAX_EVENT_BYTES
        )));
    }
    let is_form = payload.get("type").and_then(Value::as_str) == Some("form");
    let value = payload.remove("value").unwrap_or(Value::Null);
    let value = match (is_form, value) {
        (true, Value::String(encoded)) => {
            let mut form =
                params::decode(&encoded).map_err(|e| Error::InvalidPayload(e.to_string()))?;
            if let Some(Value::Object(meta)) = payload.remove("meta") {
                for (key, value) in meta {
                    form.insert(key, value);
                }
            }
            Value::Object(form)
        }
        (_, value) => value,
    };
    Ok((event, value))
}

/// The `cids` of a `cids_will_destroy` or `cids_destroyed` payload.
fn cids(payload: &Value) -> Vec<u32> {
    payload
        .get("cids")
        .and_then(Value::as_array)
        .map(|cids| {
            cids.iter()
                .filter_map(|cid| u32::try_from(cid.as_u64()?).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The reserved event the client sends to clear the flash (value `{key}`).
const CLEAR_FLASH: &str = "lv:clear-flash";

/// Applies a callback's flash effects to the view's [`Flash`] field (marking it
/// changed) and returns the flash a navigation takes along: the view's whole flash, or
/// for a view without one the effects alone. `None` when the callback left the flash
/// alone, which then stays behind, as Phoenix carries only a changed flash.
fn apply_flash<V: LiveView>(socket: &mut Socket<V>, ops: Vec<FlashOp>) -> Option<Flash> {
    if ops.is_empty() {
        return None;
    }
    let mut scratch = Flash::new();
    let flash = V::flash(&mut socket.assigns).unwrap_or(&mut scratch);
    for op in ops {
        flash.apply(op);
    }
    Some(flash.clone())
}

fn redirect(to: &str, replace: bool) -> Value {
    serde_json::json!({ "to": to, "kind": if replace { "replace" } else { "push" } })
}

fn to_json(value: &Value) -> String {
    let mut out = String::new();
    json::value(&mut out, value);
    out
}

/// Resolves a patch target (`/path?q`) against the current absolute URL.
fn resolve(base: &str, to: &str) -> String {
    if to.contains("://") {
        return to.to_owned();
    }
    let origin_end = base
        .find("://")
        .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(base.len());
    format!("{}{}", &base[..origin_end], to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_patch_targets() {
        assert_eq!(
            resolve("http://h:4000/counter?x=1", "/counter?step=5"),
            "http://h:4000/counter?step=5"
        );
        assert_eq!(resolve("http://h", "/a"), "http://h/a");
    }

    #[test]
    fn decodes_form_events() {
        let (event, value) = event_payload(serde_json::json!({
            "type": "form", "event": "validate",
            "value": "user%5Bname%5D=Jo", "meta": {"_target": "user[name]"}
        }))
        .unwrap();
        assert_eq!(event, "validate");
        assert_eq!(
            value,
            serde_json::json!({"user": {"name": "Jo"}, "_target": "user[name]"})
        );
    }
}
