//! Cinder: Phoenix LiveView's programming model in Rust.
//!
//! App authors implement [`LiveView`] on a struct that derives [`Assigns`], write
//! templates with [`html!`], and Cinder keeps each client's state on the server and sends
//! the official `phoenix_live_view` 1.2.12 client only minimal diffs.
//!
//! # Layout
//!
//! - [`view`] — the `LiveView` trait app authors implement.
//! - [`assigns`] — state with one change bit per field (`#[derive(Assigns)]`).
//! - [`component`] — live components: stateful parts of a view with their own events.
//! - [`socket`] — what callbacks act through: state, title, events, timers, navigation.
//! - [`rendered`] — what `html!` produces: statics plus lazily evaluated dynamics.
//! - [`mod@html`] — escaping and the values a template may interpolate.
//! - [`js`] — JS commands (`JS::new().push("inc").show("#help")`) for `phx-*` attributes.
//! - [`diff`] — the diff engine producing the 1.2.12 wire format.
//! - [`stream`] — collections rendered once and forgotten (`phx-update="stream"`).
//! - [`link`] — `<.link navigate/patch/href>`, the anchors the client follows live.
//! - [`slot`] — content handed to function components.
//! - [`flash`] — flash messages (`put_flash`), and their signed tokens across navigation.
//! - [`session`] — the actor running one live session.
//! - [`frame`] — Phoenix channel V2 frames.
//! - [`params`] — URL-encoded parameters into nested JSON.
//! - [`form`] — form events read as forms: touched inputs, serde decoding, per-field errors.
//! - [`route`] — path patterns (`/chat/:room`).
//! - [`router`] — the app's routes: dead renders and checked joins.
//! - [`token`] — signed session and static tokens.
//! - [`page`] — the layout and container around a dead render.
//! - [`topics`] — the payloads only the framework may put on a topic.
//!
//! This crate does not terminate WebSockets or know the CSRF scheme: that is the
//! gateway's (`cinder-gateway`); it does not serve the gateway's link either: that is the
//! view-node's (`cinder-view-node`), and `cinder-runtime` turns a router into a binary. Topics come from `cinder-pubsub`, presence from
//! `cinder-presence`.

// `html!` and `#[derive(Assigns)]` name `::cinder`, also inside this crate (`link`).
extern crate self as cinder;

pub mod assigns;
pub mod component;
mod dead_renders;
pub mod diff;
mod error;
pub mod flash;
pub mod form;
pub mod frame;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod html;
pub mod js;
mod json;
pub mod link;
mod mailbox;
pub mod page;
pub mod params;
pub mod parking;
pub mod rendered;
pub mod route;
pub mod router;
pub mod session;
pub mod slot;
pub mod snapshot;
pub mod socket;
pub mod stream;
pub mod token;
pub mod topics;
pub mod upload;
pub mod view;

pub use assigns::{Assigns, Tracked};
pub use cinder_macros::{Assigns, html, html_file};
/// Presence: who is on a topic, across the cluster (`cinder-presence`).
pub use cinder_presence as presence;
pub use cinder_pubsub as pubsub;
pub use error::{Error, Result};
pub use flash::Flash;
pub use html::{AttrValue, IntoDynamic, Raw, Text};
pub use rendered::{Comprehension, Dynamic, Rendered, Template};
pub use slot::{Slot, render_slot};
pub use socket::{Effects, Mount, Navigation, Socket};
pub use stream::Stream;
pub use upload::{UploadConfig, UploadEntry, UploadError, UploadOptions, Uploads};
pub use view::{LiveView, Params};

/// The client version Cinder speaks, sent as `liveview_version` in join replies.
pub const LIVEVIEW_VERSION: &str = "1.2.12";

/// Items the generated code refers to; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::html::attr;
    pub use crate::rendered::dynamic;

    /// Renders a function component now: its props live only for the call.
    pub fn component<'b>(rendered: crate::Rendered<'_>) -> crate::Dynamic<'b> {
        crate::Dynamic::Rendered(rendered.into_owned())
    }
    pub use serde_json;
}
