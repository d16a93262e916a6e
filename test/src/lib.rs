//! View tests for Cinder apps, as `Phoenix.LiveViewTest` is for Phoenix: mount a
//! LiveView in a test, click, change and submit forms, patch and follow links, and read
//! the rendered HTML and the diffs — with no browser. The app runs in the test process
//! (a view-node and a gateway on loopback ports) and is driven over the real wire
//! protocol by [`cinder_protocol_client`], which merges every diff as the browser's client does.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use cinder_test::TestApp;
//! use serde_json::json;
//!
//! let app = TestApp::start(cinder_demo::routes).await?;
//!
//! // The dead render: what a plain GET answers.
//! let dead = app.get("/counter").await?;
//! assert_eq!(dead.status, 200);
//! assert_eq!(dead.element("#count")?.text(), "0");
//!
//! // Mounted and joined, then driven.
//! let mut live = app.live("/counter?step=5").await?;
//! assert_eq!(live.title().as_deref(), Some("Counter"));
//! live.click_element("#inc").await?;
//! assert_eq!(live.element("#count")?.text(), "5");
//! assert_eq!(live.last_diff(), Some(&json!({"0": "5"})));
//! live.click("dec", json!({})).await?;
//! assert_eq!(live.element("#count")?.text(), "0");
//!
//! // Links: a patch stays on the view, a live link navigates over the same socket.
//! live.follow_link("#step-1").await?;
//! assert_eq!(live.path(), "/counter");
//! live.follow_link("#home").await?;
//! assert!(live.has_element("#to-form"));
//!
//! // Forms: phx-change with its `_target`, phx-submit.
//! live.follow_link("#to-form").await?;
//! live.change_form("#signup", "user[name]=A&user[_unused_email]=&user[email]=", "user[name]")
//!     .await?;
//! assert!(live.has_element("#name-error") && !live.has_element("#email-error"));
//! live.submit_form("#signup", "user[name]=Ada&user[email]=ada@example.com").await?;
//! assert_eq!(live.element("#signup-ok")?.text(), "Welcome, Ada!");
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! - `app` — [`TestApp`]: the app's view-node and gateway in the test process, and the
//!   requests a test starts from ([`TestApp::get`], [`TestApp::live`]).
//! - `live` — [`Live`]: one mounted view and the steps a user takes on it; where
//!   navigation goes ([`Redirect`]).
//! - `upload` — [`UploadFile`], [`Uploaded`]: files chosen and uploaded through a live
//!   file input ([`Live::choose_files`], [`Live::upload`]).
//! - `dead` — [`DeadRender`]: a page as a plain `GET` answers it.
//! - `element` — [`Element`] and [`Selector`]: finding and reading an element in HTML.
//! - `error` — [`Error`].
//!
//! # What it does not do
//!
//! It runs no JavaScript: hooks, JS commands other than `push`, `phx-update`, focus and
//! form recovery are not simulated. Forms are sent as the urlencoded string the test
//! gives — inputs are not read from the HTML, and the `_unused_` keys the browser adds
//! for untouched inputs are the test's to write. Selectors are one compound selector
//! (`tag#id.class[attr=value]`), no combinators. No nested LiveViews, no file assets
//! (the gateway's `/assets` folder is not set up).
//!
//! Uploads go as the browser sends them: [`Live::choose_files`] (the `phx-change` with
//! the files' descriptions), then [`Live::upload`] (`allow_upload`, each file's `lvu:`
//! channel, binary chunks and `progress`), then the form's submit.

mod app;
mod dead;
mod element;
mod error;
mod live;
mod upload;

pub use app::TestApp;
pub use dead::DeadRender;
pub use element::{Element, Selector};
pub use error::{Error, Result};
pub use live::{Live, Redirect};
pub use upload::{UploadFile, Uploaded};
