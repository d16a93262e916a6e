//! Routes to live views: dead renders for HTTP GETs and session starts for socket joins.
//!
//! A page's dead render and its socket join meet on the same node (the gateway places
//! both by the view id). The render signs a session token bound to that id and route;
//! the join checks it (and the socket's CSRF flag) before mounting, and answers `stale`
//! otherwise, so the client reloads and gets fresh tokens. A live navigation (`redirect`
//! in the join) may mount any route of the router, as one `live_session` in Phoenix.

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;

use cinder_presence::Tracker;
use cinder_proto::credential::LinkKey;
use cinder_pubsub::PubSub;
use serde_json::Value;
use tracing::{debug, warn};

use crate::dead_renders::DeadRenders;
use crate::flash::Flash;
use crate::frame::ClientFrame;
use crate::page::{self, Layout, Page};
use crate::params::ParamsError;
use crate::parking::{ParkKey, Parking};
use crate::route::{Pattern, path_of};
use crate::session::{
    self, Adoption, Env, ErrorReason, Input, Outbox, SessionConfig, SessionHandle, UploadChannel,
};
use crate::snapshot::{Envelope, RestoreError};
use crate::socket::{Navigation, Socket};
use crate::token::{SessionClaims, Signer};
use crate::view::{LiveView, Params};

/// An HTTP response for a dead render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Response {
    fn html(status: u16, body: String) -> Self {
        Response {
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body,
        }
    }

    fn redirect(to: &str) -> Self {
        Response {
            status: 302,
            headers: vec![("location".into(), to.to_owned())],
            body: String::new(),
        }
    }
}

/// Why a join was refused; the `response` of the error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// Any [`Outbox`], behind one type: whoever serves the router (the view-node's link, a
/// test) picks the transport, and the app's code names none.
pub struct BoxedOutbox(Box<dyn DynOutbox>);

impl BoxedOutbox {
    /// Wraps `outbox`.
    pub fn new(outbox: impl Outbox) -> Self {
        BoxedOutbox(Box::new(outbox))
    }
}

impl std::fmt::Debug for BoxedOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoxedOutbox")
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Outbox`] made object-safe: its futures boxed.
trait DynOutbox: Send + 'static {
    fn send(&mut self, frame: String) -> BoxFuture<'_, bool>;
    fn close(&mut self) -> BoxFuture<'_, ()>;
    fn max_frame_bytes(&self) -> usize;
    fn upload_channel(&mut self, change: UploadChannel) -> BoxFuture<'_, bool>;
    fn moving(&mut self) -> BoxFuture<'_, bool>;
    fn moved(&mut self, snapshot: Vec<u8>) -> BoxFuture<'_, bool>;
}

impl<O: Outbox> DynOutbox for O {
    fn send(&mut self, frame: String) -> BoxFuture<'_, bool> {
        Box::pin(Outbox::send(self, frame))
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(Outbox::close(self))
    }

    fn max_frame_bytes(&self) -> usize {
        Outbox::max_frame_bytes(self)
    }

    fn upload_channel(&mut self, change: UploadChannel) -> BoxFuture<'_, bool> {
        Box::pin(Outbox::upload_channel(self, change))
    }

    fn moving(&mut self) -> BoxFuture<'_, bool> {
        Box::pin(Outbox::moving(self))
    }

    fn moved(&mut self, snapshot: Vec<u8>) -> BoxFuture<'_, bool> {
        Box::pin(Outbox::moved(self, snapshot))
    }
}

impl Outbox for BoxedOutbox {
    fn send(&mut self, frame: String) -> impl Future<Output = bool> + Send {
        self.0.send(frame)
    }

    fn close(&mut self) -> impl Future<Output = ()> + Send {
        self.0.close()
    }

    fn max_frame_bytes(&self) -> usize {
        self.0.max_frame_bytes()
    }

    fn upload_channel(&mut self, change: UploadChannel) -> impl Future<Output = bool> + Send {
        self.0.upload_channel(change)
    }

    fn moving(&mut self) -> impl Future<Output = bool> + Send {
        self.0.moving()
    }

    fn moved(&mut self, snapshot: Vec<u8>) -> impl Future<Output = bool> + Send {
        self.0.moved(snapshot)
    }
}

/// One route's view type, erased.
trait Kind: Send + Sync {
    /// Starts a session for `join`, taking over `adopted` (the state its dead render
    /// mounted) when given.
    fn spawn(
        &self,
        join: ClientFrame,
        outbox: BoxedOutbox,
        config: SessionConfig,
        env: Arc<Env>,
        adopted: Option<Box<dyn Any + Send>>,
    ) -> SessionHandle;
    fn restore(
        &self,
        envelope: Envelope,
        outbox: BoxedOutbox,
        config: SessionConfig,
        env: Arc<Env>,
    ) -> Result<SessionHandle, RestoreError>;
    fn dead_render(&self, params: &Params, url: &str, flash: &Flash, node: &str) -> DeadRender;
    /// The view's [`LiveView::PARK`].
    fn parks(&self) -> bool;
    /// The view's [`LiveView::ADOPT_DEAD_RENDER`].
    fn adopts(&self) -> bool;
}

enum DeadRender {
    Page {
        title: Option<String>,
        html: String,
        /// The mounted state, for the join to take over ([`LiveView::ADOPT_DEAD_RENDER`]).
        state: Option<Box<dyn Any + Send>>,
    },
    Redirect(String),
    Failed(String),
}

struct ViewKind<V>(PhantomData<fn() -> V>);

/// What a dead render of a view with [`LiveView::ADOPT_DEAD_RENDER`] leaves its join.
struct DeadState<V: LiveView> {
    socket: Socket<V>,
    title: Option<String>,
}

impl<V: LiveView> Kind for ViewKind<V> {
    fn spawn(
        &self,
        join: ClientFrame,
        outbox: BoxedOutbox,
        config: SessionConfig,
        env: Arc<Env>,
        adopted: Option<Box<dyn Any + Send>>,
    ) -> SessionHandle {
        match adopted.and_then(|state| state.downcast::<DeadState<V>>().ok()) {
            Some(dead) => {
                let DeadState { socket, title } = *dead;
                session::spawn_adopting::<V, BoxedOutbox>(
                    join,
                    socket,
                    title,
                    outbox,
                    config,
                    Some(env),
                )
            }
            None => session::spawn_in::<V, BoxedOutbox>(join, outbox, config, Some(env)),
        }
    }

    fn adopts(&self) -> bool {
        V::ADOPT_DEAD_RENDER
    }

    fn restore(
        &self,
        envelope: Envelope,
        outbox: BoxedOutbox,
        config: SessionConfig,
        env: Arc<Env>,
    ) -> Result<SessionHandle, RestoreError> {
        session::restore_in::<V, BoxedOutbox>(envelope, outbox, config, Some(env))
    }

    fn parks(&self) -> bool {
        V::PARK
    }

    fn dead_render(&self, params: &Params, url: &str, flash: &Flash, node: &str) -> DeadRender {
        let rendered = catch_unwind(AssertUnwindSafe(|| -> Result<DeadRender, crate::Error> {
            let (socket, pending) = crate::socket::mount::<V>(params, url, false, flash, node, 0)?;
            let navigation = pending.as_ref().and_then(|p| p.navigation.clone());
            if let Some(Navigation::Navigate { to, .. } | Navigation::Redirect { to }) = navigation
            {
                return Ok(DeadRender::Redirect(to));
            }
            let html = V::render(&socket.assigns).to_html();
            let title = pending.and_then(|p| p.title);
            // The join's reply carries the title mount set, as a mounting join's does.
            let state: Option<Box<dyn Any + Send>> = match V::ADOPT_DEAD_RENDER {
                true => Some(Box::new(DeadState {
                    socket,
                    title: title.clone(),
                })),
                false => None,
            };
            Ok(DeadRender::Page { title, html, state })
        }));
        match rendered {
            Ok(Ok(render)) => render,
            Ok(Err(err)) => DeadRender::Failed(err.to_string()),
            Err(_) => DeadRender::Failed("mount or render panicked".into()),
        }
    }
}

struct Entry {
    env: Arc<Env>,
    kind: Box<dyn Kind>,
}

/// The app's live routes.
pub struct Router {
    entries: Vec<Entry>,
    signer: Signer,
    /// What gateways present on the link, derived from the same secret.
    link_key: LinkKey,
    pubsub: Arc<dyn PubSub>,
    presence: Option<Tracker>,
    layout: Layout,
    config: SessionConfig,
    parking: Parking,
    /// What dead renders mounted, for their joins ([`LiveView::ADOPT_DEAD_RENDER`]).
    dead: DeadRenders,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let routes: Vec<_> = self
            .entries
            .iter()
            .filter_map(|e| e.env.route.as_ref().map(Pattern::as_str))
            .collect();
        f.debug_struct("Router")
            .field("routes", &routes)
            .finish_non_exhaustive()
    }
}

impl Router {
    /// A router signing tokens with the cluster `secret`, with an in-process pubsub.
    pub fn new(secret: &[u8]) -> Self {
        Router {
            entries: Vec::new(),
            signer: Signer::new(secret),
            link_key: LinkKey::derive(secret),
            pubsub: Arc::new(cinder_pubsub::Local::new()),
            presence: None,
            layout: page::default_layout,
            config: SessionConfig::default(),
            parking: Parking::default(),
            dead: DeadRenders::default(),
        }
    }

    /// Keeps the sessions of views with [`LiveView::PARK`] for `grace` after their
    /// client's connection goes away, at most `max` of them at once (the oldest ends
    /// first). `max` 0 parks none. Defaults: 30 s and 10,000.
    #[must_use]
    pub fn park(mut self, grace: std::time::Duration, max: usize) -> Self {
        self.parking.grace = grace;
        self.parking.max = max;
        self
    }

    /// The client of `handle`'s session went away (its socket closed, or the link that
    /// carried it): a session of a view with [`LiveView::PARK`] is parked until its
    /// client rejoins or the grace ends; any other stops.
    pub fn disconnected(&self, handle: SessionHandle) {
        if let Err(handle) = self.parking.park(handle) {
            let _ = handle.try_send(Input::Shutdown);
        }
    }

    /// Ends every parked session (the node drains: their clients' rejoins land on
    /// other nodes).
    pub fn end_parked(&self) {
        self.parking.end_all();
    }

    /// Uses `pubsub` for the views' `subscribe` and `broadcast`. Call before `live`.
    #[must_use]
    pub fn pubsub(mut self, pubsub: Arc<dyn PubSub>) -> Self {
        self.pubsub = pubsub;
        self
    }

    /// Uses `tracker` for the views' `track` and `subscribe_presence`. Call before
    /// `live`. Without one, presence calls are ignored (and logged).
    #[must_use]
    pub fn presence(mut self, tracker: Tracker) -> Self {
        self.presence = Some(tracker);
        self
    }

    /// The pubsub the views use.
    pub fn pubsub_handle(&self) -> Arc<dyn PubSub> {
        self.pubsub.clone()
    }

    /// The key gateways must present on the link (`cinder_proto::credential`), derived
    /// from the secret this router signs with.
    pub fn link_key(&self) -> &LinkKey {
        &self.link_key
    }

    /// Renders pages with `layout` instead of the default.
    #[must_use]
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Mounts view `V` at `pattern` (`/chat/:room`).
    #[must_use]
    pub fn live<V: LiveView>(mut self, pattern: &str) -> Self {
        let env = Env {
            route: Some(Pattern::new(pattern)),
            pubsub: Some(self.pubsub.clone()),
            presence: self.presence.clone(),
            signer: Some(self.signer.clone()),
        };
        self.entries.push(Entry {
            env: Arc::new(env),
            kind: Box::new(ViewKind::<V>(PhantomData)),
        });
        self
    }

    fn find(&self, url: &str) -> Option<&Entry> {
        let path = path_of(url);
        self.entries.iter().find(|e| {
            e.env
                .route
                .as_ref()
                .is_some_and(|r| r.matches(path).is_some())
        })
    }

    /// The dead render of `url` for the page whose view id is `view_id`.
    ///
    /// `flash_cookie` is the `__phoenix_flash__` cookie a `redirect` with flash left in
    /// the browser: the page is rendered with that flash, the first connected mount gets
    /// it too (through the session token), and the response deletes the cookie.
    pub fn render(
        &self,
        url: &str,
        view_id: &str,
        csrf_token: &str,
        flash_cookie: Option<&str>,
    ) -> Response {
        let Some(entry) = self.find(url) else {
            return Response::html(
                404,
                "<!DOCTYPE html><title>Not found</title><h1>Not found</h1>".into(),
            );
        };
        let params = match entry.env.params(url) {
            Ok(params) => params,
            Err(err) => {
                debug!(%err, "dead render with refused params");
                let status = if err == ParamsError::UrlTooLong {
                    414
                } else {
                    400
                };
                let body = format!(
                    "<!DOCTYPE html><title>Bad request</title><h1>Bad request</h1><p>{}</p>",
                    crate::html::escape(&err.to_string())
                );
                return Response::html(status, body);
            }
        };
        let flash = flash_cookie.map_or_else(Flash::new, |t| Flash::verify(&self.signer, t));
        let flash_token = if flash.is_empty() {
            ""
        } else {
            flash_cookie.unwrap_or_default()
        };
        let mut response = match entry
            .kind
            .dead_render(&params, url, &flash, entry.env.node())
        {
            DeadRender::Redirect(to) => Response::redirect(&to),
            DeadRender::Failed(reason) => {
                warn!(url, reason, "dead render failed");
                Response::html(
                    500,
                    "<!DOCTYPE html><title>Error</title><h1>Internal error</h1>".into(),
                )
            }
            DeadRender::Page { title, html, state } => {
                let route = entry.env.route.as_ref().map_or("", Pattern::as_str);
                let session = self.signer.session_token(view_id, route, flash_token);
                if let Some(state) = state {
                    let key = ParkKey::of(&self.signer, view_id, &session, csrf_token);
                    self.dead.keep(&key, state);
                }
                let static_token = self.signer.sign(
                    "static",
                    &serde_json::json!({"id": view_id, "exp": u64::MAX}),
                );
                let container = page::container(view_id, &session, &static_token, &html);
                let page = Page {
                    title: title.as_deref(),
                    csrf_token,
                    container: &container,
                };
                Response::html(200, (self.layout)(&page))
            }
        };
        if flash_cookie.is_some() {
            let expired = format!("{}=; max-age=0; path=/", crate::flash::COOKIE);
            response.headers.push(("set-cookie".into(), expired));
        }
        response
    }

    /// Starts the session a `phx_join` asks for, or says why not (the error reply's
    /// response).
    pub fn join(
        &self,
        frame: ClientFrame,
        csrf_ok: bool,
        outbox: impl Outbox,
    ) -> Result<SessionHandle, Refusal> {
        let stale = || {
            ErrorReason::Stale.count();
            Refusal(r#"{"reason":"stale"}"#.to_owned())
        };
        let Some(id) = frame.topic.strip_prefix("lv:") else {
            return Err(Refusal(r#"{"reason":"unmatched topic"}"#.to_owned()));
        };
        if !csrf_ok {
            debug!(topic = %frame.topic, "join without a valid CSRF token");
            return Err(stale());
        }
        let token = frame
            .payload
            .get("session")
            .and_then(Value::as_str)
            .unwrap_or("");
        let claims: SessionClaims = match self.signer.verify("session", token) {
            Ok(claims) => claims,
            Err(err) => {
                debug!(topic = %frame.topic, %err, "join with a bad session token");
                return Err(stale());
            }
        };
        if claims.id != id {
            return Err(stale());
        }
        let (url, navigated) = match (frame.payload.get("url"), frame.payload.get("redirect")) {
            (Some(Value::String(url)), _) => (url.as_str(), false),
            (_, Some(Value::String(url))) => (url.as_str(), true),
            _ => return Err(stale()),
        };
        let Some(entry) = self.find(url) else {
            ErrorReason::Unauthorized.count();
            return Err(Refusal(r#"{"reason":"unauthorized"}"#.to_owned()));
        };
        let route = entry.env.route.as_ref().map_or("", Pattern::as_str);
        if !navigated && route != claims.route {
            return Err(stale());
        }
        let (parks, adopts) = (entry.kind.parks(), entry.kind.adopts());
        let csrf = frame.payload["params"]["_csrf_token"]
            .as_str()
            .unwrap_or_default();
        let identity = (parks || adopts).then(|| ParkKey::of(&self.signer, id, token, csrf));
        let key = identity.clone().filter(|_| parks).map(Box::new);
        let outbox = BoxedOutbox::new(outbox);
        let (frame, outbox) = match key.as_deref().and_then(|key| self.parking.adopt(key)) {
            Some(mut handle) => {
                let adoption: Box<dyn std::any::Any + Send> = Box::new(Adoption { frame, outbox });
                match handle.offer(Input::Adopt(adoption)) {
                    Ok(()) => {
                        debug!("a rejoin adopted a parked session");
                        handle.park = key;
                        return Ok(handle);
                    }
                    // It ended meanwhile: mount afresh.
                    Err((_, Input::Adopt(adoption))) => {
                        match adoption.downcast::<Adoption<BoxedOutbox>>() {
                            Ok(adoption) => (adoption.frame, adoption.outbox),
                            Err(_) => return Err(stale()),
                        }
                    }
                    Err(_) => return Err(stale()),
                }
            }
            None => (frame, outbox),
        };
        let mut frame = frame;
        // The flash the page was rendered with goes to the first mount, unless a live
        // navigation brings its own.
        let first_mount = frame.payload["params"]["_mounts"].as_u64() == Some(0);
        if first_mount
            && !claims.flash.is_empty()
            && let Value::Object(payload) = &mut frame.payload
        {
            payload
                .entry("flash")
                .or_insert(Value::String(claims.flash));
        }
        // The page's first join takes over what its dead render mounted, if it is here.
        let adopted = identity
            .filter(|_| adopts && first_mount && !navigated)
            .and_then(|identity| self.dead.take(&identity));
        if adopted.is_some() {
            metrics::counter!("cinder_dead_renders_adopted_total").increment(1);
        }
        let mut handle = entry
            .kind
            .spawn(frame, outbox, self.config, entry.env.clone(), adopted);
        handle.park = key;
        Ok(handle)
    }

    /// Starts the session a draining node handed over as `snapshot` (see
    /// [`crate::snapshot`]), sending to `outbox`; refused when the snapshot does not
    /// restore here (then the caller fails the client's channel, and its rejoin mounts
    /// afresh from the URL).
    pub fn resume(
        &self,
        snapshot: &[u8],
        outbox: impl Outbox,
    ) -> Result<SessionHandle, RestoreError> {
        let envelope = Envelope::decode(snapshot)?;
        let entry = self
            .find(&envelope.url)
            .filter(|e| e.env.route.as_ref().map_or("", Pattern::as_str) == envelope.route)
            .ok_or_else(|| RestoreError::NoRoute(envelope.route.clone()))?;
        let key = envelope
            .topic
            .strip_prefix("lv:")
            .zip(envelope.identity)
            .filter(|_| entry.kind.parks())
            .map(|(id, identity)| Box::new(ParkKey::new(id, identity)));
        let outbox = BoxedOutbox::new(outbox);
        let mut handle = entry
            .kind
            .restore(envelope, outbox, self.config, entry.env.clone())?;
        handle.park = key;
        Ok(handle)
    }
}
