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
//!
//! This file is the mailbox API ([`spawn_in`], [`SessionHandle`], [`Input`], [`Outbox`]);
//! the actor is split by what it does: `actor` (the loop and the cluster it is part of),
//! `join` (mount and first render), `events` (client input, as a click takes it from the
//! frame to the reply), `park` (kept through a reconnect), `migrate` (moved to another
//! node when its own drains), `hibernate` (reduced to its snapshot while idle),
//! `uploads`, `subscriptions`,
//! `presence` and `instruments`.

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
use crate::snapshot::{Envelope, RestoreError};
use crate::socket::{Mounted, Navigation, PresenceChange, Socket, Subscription, SubscriptionKind};
use crate::token::Signer;
use crate::view::{LiveView, Params};
use crate::{Error, LIVEVIEW_VERSION};

mod actor;
mod events;
mod hibernate;
mod instruments;
mod join;
mod migrate;
mod park;
mod presence;
mod subscriptions;
mod uploads;

use events::{apply_flash, redirect};
use hibernate::Resident;
pub use instruments::ErrorReason;
use instruments::{Kind, Live, Timer};
pub(crate) use park::Adoption;
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

    /// The node drains and this session can move to another: the transport asks whoever
    /// carries the client's frames to hold them and answer with [`Input::Migrate`].
    /// `false` (the default: a transport that carries no session between nodes) ends the
    /// session with `phx_error` instead, as for a view that takes no snapshots.
    fn moving(&mut self) -> impl Future<Output = bool> + Send {
        async { false }
    }

    /// The session's snapshot ([`crate::snapshot::Envelope`], encoded), for the node
    /// that takes it over; the session ends after it. `false` when it could not be
    /// handed on.
    fn moved(&mut self, snapshot: Vec<u8>) -> impl Future<Output = bool> + Send {
        let _ = snapshot;
        async { false }
    }

    /// One of the session's upload channels was allowed or ended. A transport that
    /// routes channels by topic (the gateway's link) passes it on; `false` stops the
    /// session, as from [`Outbox::send`].
    fn upload_channel(&mut self, change: UploadChannel) -> impl Future<Output = bool> + Send {
        let _ = change;
        async { true }
    }
}

/// A change to one of a session's upload channels (`lvu:<entry ref>`), in the order
/// the session's frames tell the client: an entry is allowed before the reply that gives
/// the client its token, and a channel ends after the frame that closes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadChannel {
    /// A join on `topic` is this session's to answer.
    Allowed {
        /// `lvu:<entry ref>`.
        topic: String,
    },
    /// The channel `topic`, joined with `join_ref`, ended: its entry was consumed,
    /// cancelled or timed out, or its join was refused.
    Closed {
        /// `lvu:<entry ref>`.
        topic: String,
        /// The `join_ref` of the channel's join.
        join_ref: String,
    },
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
    /// The connection went away: a view with [`LiveView::PARK`] keeps its state,
    /// sending nothing, until a rejoin adopts it ([`Input::Adopt`]) or the node's parking
    /// ends it ([`Input::Shutdown`]); any other view stops, as on [`Input::Shutdown`].
    Park,
    /// A rejoin from the same page adopts this parked session: the join frame and the
    /// new connection's outbox (the session's outbox type), boxed so that the mailbox
    /// names no transport.
    Adopt(Box<dyn Any + Send>),
    /// The node drains: a session whose view takes snapshots asks to move
    /// ([`Outbox::moving`]); any other ends with `phx_error`, and its client rejoins on
    /// a node that stays.
    Drain,
    /// The client's frames are held for the move: write the snapshot, hand it on
    /// ([`Outbox::moved`]) and end. Carries who may adopt the session after a reconnect
    /// (its parking identity), if its view parks.
    Migrate(Option<u64>),
}

impl Input {
    /// The channel and refs client input came with, to reply to it.
    pub fn origin(&self) -> Option<(Option<&str>, Option<&str>, &str)> {
        match self {
            Input::Frame(f) => Some((f.join_ref.as_deref(), f.msg_ref.as_deref(), &f.topic)),
            Input::Chunk(c) => Some((c.join_ref.as_deref(), c.msg_ref.as_deref(), &c.topic)),
            Input::Info(_)
            | Input::Shutdown
            | Input::UploadTimeout
            | Input::Park
            | Input::Adopt(_)
            | Input::Drain
            | Input::Migrate(_) => None,
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
    /// Set for a session of a view with [`LiveView::PARK`] started by a router: what a
    /// rejoin must show to adopt it once parked.
    pub(crate) park: Option<Box<crate::parking::ParkKey>>,
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

    /// Queues one of the node's own control messages ([`Input::Drain`],
    /// [`Input::Migrate`]) even into a full mailbox: one per session at a time, so the
    /// mailbox's bound grows by one at most, and a busy session still moves.
    pub fn control(&self, input: Input) -> Result<(), SendError> {
        self.tx.force(input)
    }

    /// The parking identity of the session, if its view parks.
    pub fn identity(&self) -> Option<u64> {
        self.park.as_ref().map(|key| key.identity)
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

/// Starts the session for a `phx_join` frame on the current tokio runtime, inside an
/// [`Env`] shared by the sessions of one route (`None`: no route, pubsub or presence).
pub fn spawn_in<V: LiveView, O: Outbox>(
    join: ClientFrame,
    outbox: O,
    config: SessionConfig,
    env: Option<Arc<Env>>,
) -> SessionHandle {
    let topic = join.topic.clone().into_boxed_str();
    start::<V, O>(
        Start::Join(Box::new(join), None),
        topic,
        outbox,
        config,
        env,
    )
}

/// Starts the session for a `phx_join` frame whose page's dead render mounted `socket`
/// on this node ([`LiveView::ADOPT_DEAD_RENDER`]): it takes that state over instead of
/// mounting.
/// `title` is the one mount set, for the join's reply.
pub fn spawn_adopting<V: LiveView, O: Outbox>(
    join: ClientFrame,
    socket: Socket<V>,
    title: Option<String>,
    outbox: O,
    config: SessionConfig,
    env: Option<Arc<Env>>,
) -> SessionHandle {
    let topic = join.topic.clone().into_boxed_str();
    let adopting = Start::Join(Box::new(join), Some(Box::new((socket, title))));
    start::<V, O>(adopting, topic, outbox, config, env)
}

/// Starts a session restored from `envelope` (a node that drains handed it over), or
/// says why it cannot be: the snapshot does not load into `V` here.
pub fn restore_in<V: LiveView, O: Outbox>(
    envelope: Envelope,
    outbox: O,
    config: SessionConfig,
    env: Option<Arc<Env>>,
) -> Result<SessionHandle, RestoreError> {
    let snapshots = V::snapshot().ok_or(RestoreError::NotSnapshotted)?;
    let topic = envelope.topic.clone().into_boxed_str();
    let join_ref = envelope.join_ref.clone();
    let url = envelope.url.clone();
    let loaded = catch_unwind(AssertUnwindSafe(|| envelope.load(&snapshots)))
        .unwrap_or_else(|_| Err(RestoreError::State("loading panicked".into())))?;
    let restored = Restored {
        socket: Socket::new(loaded),
        join_ref,
        url,
    };
    Ok(start::<V, O>(
        Start::Restore(Box::new(restored)),
        topic,
        outbox,
        config,
        env,
    ))
}

/// How a session starts: mounted from a join (or taking over its dead render's
/// state), or restored from a snapshot.
enum Start<V: LiveView> {
    Join(Box<ClientFrame>, Option<Adopted<V>>),
    Restore(Box<Restored<V>>),
}

/// The state a dead render mounted, and the title mount set.
type Adopted<V> = Box<(Socket<V>, Option<String>)>;

/// A view read back from its snapshot, with its channel and URL.
struct Restored<V: LiveView> {
    socket: Socket<V>,
    join_ref: Option<String>,
    url: String,
}

fn start<V: LiveView, O: Outbox>(
    start: Start<V>,
    topic: Box<str>,
    outbox: O,
    config: SessionConfig,
    env: Option<Arc<Env>>,
) -> SessionHandle {
    let (tx, rx) = mailbox::channel(config.mailbox);
    let span = tracing::debug_span!("session", topic = %topic);
    let actor = Actor::<V, O> {
        topic,
        join_ref: None,
        uri: Box::from(""),
        prints: Prints::new(),
        components: Registry::default(),
        rerender: Vec::new(),
        outbox,
        me: tx.downgrade(),
        env,
        held: None,
        allow_answer: None,
        live: None,
        parked: false,
        _view: std::marker::PhantomData,
    };
    tokio::spawn(Box::new(actor).run(start, rx).instrument(span));
    SessionHandle { tx, park: None }
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
    /// What the next reply carries besides its diff: an `allow_upload` answer.
    allow_answer: Option<Box<uploads::AllowAnswer>>,
    /// Set once mounted: counts the session in the metrics until the actor is dropped.
    live: Option<Live>,
    /// Parked (see `park`): its outbox is closed, it sends nothing.
    parked: bool,
    _view: std::marker::PhantomData<fn() -> V>,
}

/// What a callback run ended with.
enum Outcome {
    Continue,
    Stop,
}

fn to_json(value: &Value) -> String {
    let mut out = String::new();
    json::value(&mut out, value);
    out
}
