//! The demo app: its live views and their routes. `cinder-runtime` turns them into the
//! `cinder-demo` binary (embedded by default, or `cinder-demo view-node`).
//!
//! - `views` — the demo's live views (`/`, `/counter`, `/form`, `/chat/:room`, `/clock`,
//!   `/feed/:name`, `/todos`, `/upload`).
//! - `layout` — the page around them: `client/app.css`, a header with a nav to every
//!   demo, the connection state.
//! - [`routes`] — the routes, the same for every way of running.

pub mod layout;
pub mod views;

use std::path::PathBuf;

use cinder::router::Router;

/// The demo's routes, in the demo's layout.
pub fn routes(router: Router) -> Router {
    // The layout is read at each dead render, so it may be set before or after `live`.
    router
        .layout(layout::page)
        .live::<views::home::Home>("/")
        .live::<views::counter::Counter>("/counter")
        .live::<views::form::Form>("/form")
        .live::<views::chat::Chat>("/chat/:room")
        .live::<views::clock::Clock>("/clock")
        .live::<views::feed::Feed>("/feed/:name")
        .live::<views::todos::Todos>("/todos")
        .live::<views::upload::Upload>("/upload")
}

/// The repository's `client/` folder: `app.js`, `app.css` and the pinned client bundles.
pub fn assets_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../client"))
}
