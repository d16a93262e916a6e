//! A Rust client for Cinder gateways that speaks the LiveView protocol exactly like the
//! official `phoenix_live_view` 1.2.12 browser client: it fetches a page, opens the
//! socket with V2 framing, joins views, pushes events, and merges every diff into its
//! own copy of each view with a port of the client's `Rendered`, so the HTML it shows
//! is the HTML a browser would hold. Integration tests and load testers drive it.
//!
//! ```no_run
//! # async fn demo() -> cinder_protocol_client::Result<()> {
//! use cinder_protocol_client::Page;
//! use serde_json::json;
//!
//! let page = Page::fetch("http://127.0.0.1:4000/counter").await?;
//! let client = page.connect().await?;
//! let view = page.join(&client).await?;
//! view.click("inc", json!({})).await?;
//! assert!(view.html().contains("1"));
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - [`mod@socket`] — [`Client`]: the WebSocket, refs, heartbeats, raw frames, and the
//!   reader task that routes replies and pushes.
//! - [`mod@view`] — [`View`]: one joined channel, its tree, events, title and pushes.
//! - [`mod@rendered`] — [`Rendered`]: the port of the client's diff merge and HTML render.
//! - [`mod@diff`] — [`Diff`]: a parsed diff with title, events and reply taken off.
//! - [`mod@frame`] — [`Frame`]: V2 text frames and the binary push layout.
//! - [`mod@reply`] — [`Reply`]: a `phx_reply` after its diff was merged.
//! - [`mod@page`] — [`Page`]: the HTTP page and the tokens a join needs.
//! - [`mod@html`] — start tags and attributes of a server-rendered page.
//! - `endpoint` — the socket URL and `Origin`; `inbox` — bounded queues for frames and
//!   pushes; `error` — [`Error`].
//!
//! # What it does not do
//!
//! No DOM: it does not run hooks or JS commands, apply `phx-update` (streams, ignore),
//! recover forms, or keep focus. It never reconnects, rejoins or follows redirects on
//! its own — it records them for the caller. No long-poll, no TLS (`ws://` only),
//! no uploads beyond sending binary frames by hand.

pub mod diff;
mod endpoint;
mod error;
pub mod frame;
pub mod html;
mod inbox;
pub mod page;
pub mod rendered;
pub mod reply;
pub mod socket;
pub mod view;

pub use diff::{Diff, Extras, PushedEvent};
pub use endpoint::VSN;
pub use error::{Error, Result};
pub use frame::Frame;
pub use page::Page;
pub use rendered::Rendered;
pub use reply::Reply;
pub use socket::{Client, Closed, JOIN_TIMEOUT, PUSH_TIMEOUT, WAIT_TIMEOUT};
pub use view::{Push, Status, StreamPatch, View};

#[cfg(test)]
mod tests {
    /// A load tester moves clients and views across tasks.
    #[test]
    fn handles_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<crate::Client>();
        send_sync::<crate::View>();
        send_sync::<crate::Rendered>();
        send_sync::<crate::Error>();
    }
}
