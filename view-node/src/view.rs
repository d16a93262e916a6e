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
use crate::rendered::Rendered;
use crate::socket::{Mount, Socket};

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
}

/// Request parameters: the query string (and, later, route segments), as JSON values.
pub type Params = serde_json::Map<String, Value>;
