//! `<.link>`: anchors the official client follows without a page load, like Phoenix's
//! `Phoenix.Component.link/1`.
//!
//! ```
//! use cinder::link::{Link, link};
//! use cinder::{Rendered, Tracked, html};
//!
//! fn nav(assigns: &Tracked<()>) -> Rendered<'_> {
//!     let _ = assigns;
//!     html!(r#"<nav><.link navigate="/counter" id="to-counter">Counter</.link></nav>"#)
//! }
//! assert_eq!(
//!     nav(&Tracked::new(())).to_html(),
//!     r#"<nav><a href="/counter" data-phx-link="redirect" data-phx-link-state="push" id="to-counter">Counter</a></nav>"#
//! );
//! ```
//!
//! - `navigate="/path"`: mounts the view at `/path` over the same socket (a live
//!   redirect: `data-phx-link="redirect"`).
//! - `patch="/path?x=1"`: changes the current view's URL and runs its `handle_params`
//!   (`data-phx-link="patch"`).
//! - `href="…"`: a plain link, a full page load.
//! - `replace`: replace the browser history entry instead of pushing one.
//! - `id`, `class`: passed through; the inner block is the link's content.

use crate::{Assigns, Rendered, Slot, html, render_slot};

/// The props of [`link`]; empty strings mean "not given".
#[derive(Assigns, Default)]
pub struct Link<'a> {
    /// A view of the same app to mount over the same socket.
    pub navigate: &'a str,
    /// A URL of the current view: `handle_params` runs, nothing is remounted.
    pub patch: &'a str,
    /// Any URL, loaded in full.
    pub href: &'a str,
    /// Replace the history entry instead of pushing one.
    pub replace: bool,
    /// The anchor's `id`.
    pub id: &'a str,
    /// The anchor's `class`.
    pub class: &'a str,
    /// The link's content.
    pub inner_block: Slot<'a>,
}

/// Renders `<a>` with the `href` and the `data-phx-link` / `data-phx-link-state`
/// attributes the client reads.
pub fn link<'p>(assigns: &'p Link<'_>) -> Rendered<'p> {
    let (href, kind) = if !assigns.navigate.is_empty() {
        (assigns.navigate, Some("redirect"))
    } else if !assigns.patch.is_empty() {
        (assigns.patch, Some("patch"))
    } else {
        (assigns.href, None)
    };
    let state = kind.map(|_| if assigns.replace { "replace" } else { "push" });
    let given = |value: &'p str| (!value.is_empty()).then_some(value);
    html!(
        r#"<a href={href} data-phx-link={kind} data-phx-link-state={state} id={given(@id)} class={given(@class)}>{render_slot(&@inner_block)}</a>"#
    )
}
