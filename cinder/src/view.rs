//! The `LiveView` trait: what an app author implements.
//!
//! It mirrors Phoenix LiveView's callbacks. `mount` builds the state from the request,
//! `handle_params` reacts to the URL (after mount and on every patch), `handle_event` to
//! client events, `handle_info` to messages (timers, pubsub, other sessions), and
//! `render` turns the state into a template. State changes go through the setters that
//! `#[derive(Assigns)]` generates, so `render` re-evaluates only what changed.

use serde_json::Value;

use crate::assigns::{Assigns, Tracked};
use crate::error::{Error, Result};
use crate::flash::Flash;
use crate::rendered::Rendered;
use crate::snapshot::Snapshots;
use crate::socket::{Mount, Socket};
use crate::upload::{UploadEntry, Uploads};

/// A live view: state on the server, HTML in the browser, diffs in between.
///
/// ```
/// use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
///
/// #[derive(Assigns)]
/// pub struct Counter {
///     count: i64,
/// }
///
/// impl LiveView for Counter {
///     type Info = ();
///
///     fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
///         Ok(Counter { count: 0 })
///     }
///
///     fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
///         html!(r#"<h1 id="count">{@count}</h1><button id="inc" phx-click="inc">+</button>"#)
///     }
///
///     fn handle_event(socket: &mut Socket<Self>, event: &str, _value: serde_json::Value) -> Result {
///         match event {
///             "inc" => socket.update_count(|c| *c += 1),
///             _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait LiveView: Assigns + Sized + Send + 'static {
    /// Messages `handle_info` receives: timers from `send_after`, and messages sent to
    /// the session. Use `()` when the view takes none.
    type Info: Send + 'static;

    /// Whether a session of this view outlives its client's connection for a while.
    /// When the socket goes away (a network blip, a sleeping laptop, a gateway
    /// restart), the session is parked on its node with its state for the node's grace
    /// period (30 s by default), keeps taking messages, and the client's rejoin from the
    /// same page (same view id, session token and CSRF token) adopts it: no mount, the
    /// join reply renders the state as it is. Past the grace, or past the node's cap on
    /// parked sessions, it ends as today. Off by default: the client's rejoin mounts
    /// afresh, as in Phoenix.
    const PARK: bool = false;

    /// How a session of this view keeps its state when it moves to another view-node
    /// (its node drains): `Some(Snapshots::serde(1))` for a view that derives
    /// `Serialize` and `Deserialize` (fields it cannot carry marked `#[serde(skip)]`).
    /// The draining node writes the state into a snapshot, the gateway hands it to the
    /// node placement picks now, which restores it and runs [`LiveView::resume`]: the
    /// client keeps its socket and its page, and gets one re-render of the whole page
    /// (see [`crate::snapshot`] for what travels and what a deploy may change). The
    /// default (`None`): the session ends with the node and the client's rejoin mounts
    /// afresh, as in Phoenix.
    fn snapshot() -> Option<Snapshots<Self>> {
        None
    }

    /// How long a session of this view may sit idle (no input, no message) before it is
    /// reduced to its snapshot ([`LiveView::snapshot`], required): its state, its prints
    /// of what the client holds and its components are dropped for the snapshot's bytes,
    /// and its next input wakes it, pushing the whole page once (the client patches only
    /// what differs) before handling that input. For views whose state or page is large
    /// and mostly idle. Not while it holds live components or uploads (they would not
    /// survive), nor while parked. `None` (the default): never.
    const HIBERNATE_AFTER: Option<std::time::Duration> = None;

    /// Runs on the node that restored a session from its snapshot, before its first
    /// render there: the place to subscribe, track presence and set timers again (none
    /// of them travel). `node` is the new node's name. The default does nothing.
    fn resume(socket: &mut Socket<Self>, node: &str) -> Result {
        let _ = (socket, node);
        Ok(())
    }

    /// Whether the socket's join takes over the state the dead (HTTP) render mounted,
    /// instead of mounting again: one `mount` per page. The node that rendered the page
    /// keeps that state for a while (10 s, at most 10,000 pages, the oldest dropped
    /// first), for the join from the same page and browser session (same view id,
    /// session token and CSRF token); placement sends that join to the same node. A join
    /// that finds nothing (too late, another node) mounts as usual.
    ///
    /// Then `mount` runs with `connected == false` for the session's whole life, so the
    /// work that needs a connection (subscribing, tracking presence, timers) belongs in
    /// [`LiveView::connected`], which runs at every join, adopted or mounted. Fit for
    /// views whose mount reads only the request (URL, params, session) and is worth
    /// saving (a database read): not for one whose state must be fresh at the join.
    const ADOPT_DEAD_RENDER: bool = false;

    /// Runs at the join of a view with [`LiveView::ADOPT_DEAD_RENDER`], after its state
    /// was adopted or mounted, before the join's render: subscribe, track presence, set
    /// timers. The default does nothing.
    fn connected(socket: &mut Socket<Self>) -> Result {
        let _ = socket;
        Ok(())
    }

    /// Builds the initial state. Runs for the dead (HTTP) render and again when the
    /// socket joins; [`Mount::connected`] tells them apart.
    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self>;

    /// Renders the state. `@field` in the template reads `assigns.field`.
    fn render(assigns: &Tracked<Self>) -> Rendered<'_>;

    /// Handles a client event (`phx-click`, `phx-change`, a hook's `pushEvent`…).
    /// The default refuses every event.
    fn handle_event(socket: &mut Socket<Self>, event: &str, value: Value) -> Result {
        let _ = (socket, value);
        Err(Error::UnknownEvent(event.to_owned()))
    }

    /// Handles a message: a timer set with `send_after`, or one sent to the session.
    fn handle_info(socket: &mut Socket<Self>, info: Self::Info) -> Result {
        let _ = (socket, info);
        Ok(())
    }

    /// Reacts to the URL: after `mount`, and on every live patch. `params` holds the
    /// query string's parameters; `uri` is the full URL.
    fn handle_params(socket: &mut Socket<Self>, params: &Params, uri: &str) -> Result {
        let _ = (socket, params, uri);
        Ok(())
    }

    /// The view's [`Flash`] field, for the session to apply `put_flash`,
    /// `clear_flash` and `lv:clear-flash` to, marked changed. The default (`None`)
    /// renders no flash: the effects still travel across a navigation.
    ///
    /// ```
    /// use cinder::{Assigns, Flash, LiveView, Mount, Rendered, Result, Tracked, html};
    ///
    /// #[derive(Assigns)]
    /// pub struct Notes {
    ///     flash: Flash,
    /// }
    ///
    /// impl LiveView for Notes {
    ///     type Info = ();
    ///
    ///     fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
    ///         Ok(Notes { flash: Flash::new() })
    ///     }
    ///
    ///     fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
    ///         html!(r#"<p id="flash-info" phx-click="lv:clear-flash" phx-value-key="info">{@flash.get("info").unwrap_or_default()}</p>"#)
    ///     }
    ///
    ///     fn flash(assigns: &mut Tracked<Self>) -> Option<&mut Flash> {
    ///         Some(assigns.flash_mut()) // generated by `#[derive(Assigns)]`; marks `flash`
    ///     }
    /// }
    /// ```
    fn flash(assigns: &mut Tracked<Self>) -> Option<&mut Flash> {
        let _ = assigns;
        None
    }

    /// The view's [`Uploads`] field, for the session to record chosen files, answer
    /// `allow_upload`, receive chunks and apply progress to (see [`crate::upload`]).
    /// Return `Some(assigns.uploads_mut())`; the default (`None`) allows no upload.
    fn uploads(assigns: &mut Tracked<Self>) -> Option<&mut Uploads> {
        let _ = assigns;
        None
    }

    /// Runs after the client reports progress on an entry of the upload `name`
    /// (`entry.done` once it arrived whole): the place to consume files of an
    /// `auto_upload` as they finish. The default does nothing.
    fn handle_progress(socket: &mut Socket<Self>, name: &str, entry: UploadEntry) -> Result {
        let _ = (socket, name, entry);
        Ok(())
    }
}

/// Request parameters: the query string (and, later, route segments), as JSON values.
pub type Params = serde_json::Map<String, Value>;
