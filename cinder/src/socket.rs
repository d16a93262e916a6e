//! The handles a view's callbacks act through: [`Socket`] after mount, [`Mount`] during it.
//!
//! Both collect *effects* — a new title, pushed events, a hook reply, navigation, timers, flash —
//! that the session turns into wire frames after the callback returns. Effects are kept
//! behind one `Option<Box<_>>`, so an idle session pays a single pointer for them.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use serde_json::{Map, Value};

use cinder_pubsub::Message;

use crate::assigns::Tracked;
use crate::diff::PushedEvent;
use crate::flash::{Flash, FlashOp};
use crate::view::{LiveView, Params};

/// Where the client should go after this callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Navigation {
    /// Change the URL of the current view and re-run `handle_params` (`live_patch`).
    Patch {
        /// The new path and query.
        to: String,
        /// Replace the history entry instead of pushing one.
        replace: bool,
    },
    /// Mount another view of the app over the same connection (`live_redirect`).
    Navigate {
        /// The path of the view to mount.
        to: String,
        /// Replace the history entry instead of pushing one.
        replace: bool,
    },
    /// A full page load of any URL (`redirect`).
    Redirect {
        /// The URL to load.
        to: String,
    },
}

/// A topic to subscribe to, and how its messages become the view's `Info`.
pub(crate) struct Subscription<I> {
    pub(crate) topic: String,
    pub(crate) convert: fn(&Message) -> I,
    pub(crate) kind: SubscriptionKind,
}

/// What a [`Subscription`] delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubscriptionKind {
    /// The topic's messages.
    Messages,
    /// The topic's messages, and a `gap` message when some may have been lost.
    MessagesAndGaps,
    /// The topic's presence: a `presence_state`, then `presence_diff`s.
    Presence,
}

impl<I> std::fmt::Debug for Subscription<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &self.topic)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A change to this session's presences.
#[derive(Debug)]
pub(crate) enum PresenceChange {
    Track {
        topic: String,
        key: String,
        meta: Map<String, Value>,
    },
    Untrack {
        topic: String,
        key: String,
    },
}

/// Effects collected during one callback.
#[derive(Debug)]
pub struct Pending<I> {
    pub(crate) title: Option<String>,
    pub(crate) events: Vec<PushedEvent>,
    pub(crate) reply: Option<Value>,
    pub(crate) navigation: Option<Navigation>,
    pub(crate) timers: Vec<(Duration, I)>,
    pub(crate) subscriptions: Vec<Subscription<I>>,
    pub(crate) broadcasts: Vec<(String, Value)>,
    pub(crate) presences: Vec<PresenceChange>,
    pub(crate) flash: Vec<FlashOp>,
}

impl<I> Default for Pending<I> {
    fn default() -> Self {
        Pending {
            title: None,
            events: Vec::new(),
            reply: None,
            navigation: None,
            timers: Vec::new(),
            subscriptions: Vec::new(),
            broadcasts: Vec::new(),
            presences: Vec::new(),
            flash: Vec::new(),
        }
    }
}

impl<I> Pending<I> {
    /// Adds the effects of a later callback: lists extend, a later title, reply or
    /// navigation wins.
    pub(crate) fn absorb(&mut self, later: Pending<I>) {
        let Pending {
            title,
            events,
            reply,
            navigation,
            timers,
            subscriptions,
            broadcasts,
            presences,
            flash,
        } = later;
        self.title = title.or(self.title.take());
        self.reply = reply.or(self.reply.take());
        self.navigation = navigation.or(self.navigation.take());
        self.events.extend(events);
        self.timers.extend(timers);
        self.subscriptions.extend(subscriptions);
        self.broadcasts.extend(broadcasts);
        self.presences.extend(presences);
        self.flash.extend(flash);
    }
}

/// The effect methods shared by [`Socket`] and [`Mount`].
#[derive(Debug)]
pub struct Effects<I> {
    pending: Option<Box<Pending<I>>>,
}

impl<I> Default for Effects<I> {
    fn default() -> Self {
        Effects { pending: None }
    }
}

impl<I> Effects<I> {
    fn pending(&mut self) -> &mut Pending<I> {
        self.pending.get_or_insert_with(Box::default)
    }

    pub(crate) fn take(&mut self) -> Option<Box<Pending<I>>> {
        self.pending.take()
    }

    /// Sets the page title (`<title>`), sent as `"t"`.
    pub fn put_title(&mut self, title: impl Into<String>) {
        self.pending().title = Some(title.into());
    }

    /// Pushes an event to the client; it fires `phx:<name>` on `window` and reaches
    /// hooks' `handleEvent`.
    pub fn push_event(&mut self, name: impl Into<String>, payload: Value) {
        let event = PushedEvent {
            name: name.into(),
            payload,
            before_patch: false,
        };
        self.pending().events.push(event);
    }

    /// Like [`Effects::push_event`], dispatched before the DOM is patched.
    pub fn push_event_before_patch(&mut self, name: impl Into<String>, payload: Value) {
        let event = PushedEvent {
            name: name.into(),
            payload,
            before_patch: true,
        };
        self.pending().events.push(event);
    }

    /// Replies to the hook `pushEvent` being handled; the client's callback receives it.
    pub fn reply(&mut self, reply: Value) {
        self.pending().reply = Some(reply);
    }

    /// Sends `info` to this session's `handle_info` after `delay`.
    pub fn send_after(&mut self, delay: Duration, info: I) {
        self.pending().timers.push((delay, info));
    }

    /// Patches the URL of this view (`push_patch`): `handle_params` runs again.
    pub fn push_patch(&mut self, to: impl Into<String>) {
        self.pending().navigation = Some(Navigation::Patch {
            to: to.into(),
            replace: false,
        });
    }

    /// Mounts the view at `to` over the same connection (`push_navigate`).
    pub fn push_navigate(&mut self, to: impl Into<String>) {
        self.pending().navigation = Some(Navigation::Navigate {
            to: to.into(),
            replace: false,
        });
    }

    /// Sends the browser to `to` with a full page load.
    pub fn redirect(&mut self, to: impl Into<String>) {
        self.pending().navigation = Some(Navigation::Redirect { to: to.into() });
    }

    /// Publishes `payload` on `topic` to every subscriber (this session included).
    pub fn broadcast(&mut self, topic: impl Into<String>, payload: Value) {
        self.pending().broadcasts.push((topic.into(), payload));
    }

    /// Tracks this session's presence as `key` on `topic`, with `meta` (a JSON object;
    /// anything else counts as `{}`), until [`Effects::untrack`] or the session's end.
    /// Tracking the same key again updates its meta. Only a connected session tracks.
    pub fn track(&mut self, topic: impl Into<String>, key: impl Into<String>, meta: Value) {
        let meta = match meta {
            Value::Object(meta) => meta,
            _ => Map::new(),
        };
        self.pending().presences.push(PresenceChange::Track {
            topic: topic.into(),
            key: key.into(),
            meta,
        });
    }

    /// Stops tracking `key` on `topic` for this session.
    pub fn untrack(&mut self, topic: impl Into<String>, key: impl Into<String>) {
        self.pending().presences.push(PresenceChange::Untrack {
            topic: topic.into(),
            key: key.into(),
        });
    }

    /// Shows `message` as the flash of `kind` (`"info"`, `"error"`…), replacing the
    /// previous one. The view's [`Flash`] field (see [`LiveView::flash`]) changes after
    /// the callback returns; a `push_navigate` or `redirect` in the same callback takes
    /// the flash along to the next view.
    pub fn put_flash(&mut self, kind: impl Into<String>, message: impl Into<String>) {
        self.pending().flash.push(FlashOp::Put {
            kind: kind.into(),
            message: message.into(),
        });
    }

    /// Removes every flash message.
    pub fn clear_flash(&mut self) {
        self.pending().flash.push(FlashOp::Clear);
    }

    /// Queues a flash operation (a component's, applied to its view).
    pub(crate) fn flash(&mut self, op: FlashOp) {
        self.pending().flash.push(op);
    }

    /// Removes the flash message of `kind`.
    pub fn clear_flash_kind(&mut self, kind: impl Into<String>) {
        self.pending().flash.push(FlashOp::ClearKind(kind.into()));
    }

    /// Sets a navigation effect directly (for `replace` variants).
    pub fn navigate(&mut self, navigation: Navigation) {
        self.pending().navigation = Some(navigation);
    }
}

impl<I: From<Message>> Effects<I> {
    /// Delivers `topic`'s messages to this session's `handle_info` (as `I::from(message)`),
    /// for as long as the session lives. Only a connected mount subscribes; the dead
    /// render ignores it.
    pub fn subscribe(&mut self, topic: impl Into<String>) {
        self.subscribe_to(topic.into(), SubscriptionKind::Messages);
    }

    /// Like [`Effects::subscribe`], and also tells the view when messages on `topic` may
    /// have been lost (the node's link to Redis broke and came back, or a queue
    /// overflowed), with a message whose payload is `{"event": "gap", "cause":
    /// "reconnected" | "overflow"}`: the time to refetch whatever the view derived from
    /// the topic.
    pub fn subscribe_with_gaps(&mut self, topic: impl Into<String>) {
        self.subscribe_to(topic.into(), SubscriptionKind::MessagesAndGaps);
    }

    /// Delivers who is on `topic` to `handle_info`: first one message whose payload is
    /// `{"event": "presence_state", "payload": {key: {"metas": [...]}}}`, then one
    /// `{"event": "presence_diff", "payload": {"joins": ..., "leaves": ...}}` per change —
    /// phoenix.js's shapes, which [`crate::presence::ClientPresence`] folds into a list.
    /// If diffs are lost to a full mailbox, a fresh `presence_state` follows as soon as
    /// there is room; `sync_state` turns it into the joins and leaves that were missed.
    pub fn subscribe_presence(&mut self, topic: impl Into<String>) {
        self.subscribe_to(topic.into(), SubscriptionKind::Presence);
    }

    fn subscribe_to(&mut self, topic: String, kind: SubscriptionKind) {
        let convert: fn(&Message) -> I = |message| I::from(message.clone());
        self.pending().subscriptions.push(Subscription {
            topic,
            convert,
            kind,
        });
    }
}

/// What `mount` sees: the request and the effect methods.
#[derive(Debug)]
pub struct Mount<'a, V: LiveView> {
    /// The query parameters of the URL.
    pub params: &'a Params,
    /// The full URL being mounted.
    pub uri: &'a str,
    /// Whether this is the socket join (true) or the dead HTTP render (false).
    pub connected: bool,
    /// The name of the node the view runs on, as the cluster knows it (`--name`); empty
    /// when the app runs without presence.
    pub node: &'a str,
    /// The flash the previous view sent along a live navigation (empty otherwise). The
    /// session also puts it into the view's own [`Flash`] field after `mount`.
    pub flash: &'a Flash,
    /// How many times the client's page mounted this view before (the join's
    /// `_mounts`): 0 on the first connected mount, and in the dead render. A session
    /// adopted after a reconnect ([`LiveView::PARK`]) is not mounted again.
    pub mounts: u64,
    pub(crate) effects: Effects<V::Info>,
}

impl<'a, V: LiveView> Mount<'a, V> {
    /// A mount context for `uri` with its query `params`.
    pub fn new(params: &'a Params, uri: &'a str, connected: bool) -> Self {
        Mount {
            params,
            uri,
            connected,
            node: "",
            flash: &NO_FLASH,
            mounts: 0,
            effects: Effects::default(),
        }
    }
}

/// The flash of a mount that was sent none.
static NO_FLASH: Flash = Flash::new();

impl<V: LiveView> Deref for Mount<'_, V> {
    type Target = Effects<V::Info>;
    fn deref(&self) -> &Self::Target {
        &self.effects
    }
}

impl<V: LiveView> DerefMut for Mount<'_, V> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.effects
    }
}

/// A mounted view's state and effects, handed to `handle_*` callbacks.
///
/// It dereferences to the view's [`Tracked`] state: read fields as `socket.count`, change
/// them with the generated `socket.set_count(v)` / `socket.update_count(|c| …)`, which
/// mark the field changed. Effects (`put_title`, `push_event`, `send_after`…) are methods
/// of [`Effects`], reached through [`Socket::effects`] or the shortcuts below.
#[derive(Debug)]
pub struct Socket<V: LiveView> {
    /// The view's state and its change bits.
    pub assigns: Tracked<V>,
    pub(crate) effects: Effects<V::Info>,
}

impl<V: LiveView> Socket<V> {
    /// A socket around freshly mounted state.
    pub fn new(view: V) -> Self {
        Socket {
            assigns: Tracked::new(view),
            effects: Effects::default(),
        }
    }

    /// The effect methods.
    pub fn effects(&mut self) -> &mut Effects<V::Info> {
        &mut self.effects
    }

    /// See [`Effects::put_title`].
    pub fn put_title(&mut self, title: impl Into<String>) {
        self.effects.put_title(title);
    }

    /// See [`Effects::push_event`].
    pub fn push_event(&mut self, name: impl Into<String>, payload: Value) {
        self.effects.push_event(name, payload);
    }

    /// See [`Effects::reply`].
    pub fn reply(&mut self, reply: Value) {
        self.effects.reply(reply);
    }

    /// See [`Effects::send_after`].
    pub fn send_after(&mut self, delay: Duration, info: V::Info) {
        self.effects.send_after(delay, info);
    }

    /// See [`Effects::push_patch`].
    pub fn push_patch(&mut self, to: impl Into<String>) {
        self.effects.push_patch(to);
    }

    /// See [`Effects::push_navigate`].
    pub fn push_navigate(&mut self, to: impl Into<String>) {
        self.effects.push_navigate(to);
    }

    /// See [`Effects::broadcast`].
    pub fn broadcast(&mut self, topic: impl Into<String>, payload: Value) {
        self.effects.broadcast(topic, payload);
    }

    /// See [`Effects::redirect`].
    pub fn redirect(&mut self, to: impl Into<String>) {
        self.effects.redirect(to);
    }

    /// See [`Effects::put_flash`].
    pub fn put_flash(&mut self, kind: impl Into<String>, message: impl Into<String>) {
        self.effects.put_flash(kind, message);
    }

    /// See [`Effects::clear_flash`].
    pub fn clear_flash(&mut self) {
        self.effects.clear_flash();
    }

    /// See [`Effects::clear_flash_kind`].
    pub fn clear_flash_kind(&mut self, kind: impl Into<String>) {
        self.effects.clear_flash_kind(kind);
    }
}

/// A mounted socket and the effects its mount left.
pub(crate) type Mounted<V> = (Socket<V>, Option<Box<Pending<<V as LiveView>::Info>>>);

/// Mounts `V` for `url`: `mount`, then `handle_params`, as LiveView does for a root view.
/// The `flash` a navigation brought is in [`Mount::flash`] and, after `mount`, in the
/// view's [`Flash`] field. Returns the socket and the effects both callbacks left.
pub(crate) fn mount<V: LiveView>(
    params: &Params,
    url: &str,
    connected: bool,
    flash: &Flash,
    node: &str,
    mounts: u64,
) -> Result<Mounted<V>, crate::Error> {
    let mut cx = Mount::<V>::new(params, url, connected);
    cx.flash = flash;
    cx.node = node;
    cx.mounts = mounts;
    let view = V::mount(&mut cx)?;
    let mut socket = Socket::new(view);
    if let Some(own) = V::flash(&mut socket.assigns) {
        for (kind, message) in flash.iter() {
            own.put(kind, message);
        }
    }
    socket.effects = cx.effects;
    V::handle_params(&mut socket, params, url)?;
    let pending = socket.effects.take();
    Ok((socket, pending))
}

impl<V: LiveView> Deref for Socket<V> {
    type Target = Tracked<V>;
    fn deref(&self) -> &Self::Target {
        &self.assigns
    }
}

impl<V: LiveView> DerefMut for Socket<V> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.assigns
    }
}
