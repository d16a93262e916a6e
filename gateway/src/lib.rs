//! Cinder's gateway: the stateless tier between browsers and view-nodes.
//!
//! It terminates the browser's WebSocket (`/live/websocket`, Phoenix V2 framing),
//! answers heartbeats itself, places every `lv:<id>` session on a view-node by
//! rendezvous hashing of `<id>`, and forwards frames both ways as bytes over one
//! multiplexed gRPC stream per view-node. Page GETs are forwarded to a view-node as
//! dead renders. It also serves the client bundles, `/healthz`, `/readyz` and
//! `/metrics`.
//!
//! ```no_run
//! # async fn start() -> Result<(), cinder_gateway::Error> {
//! use cinder_gateway::{Config, bind};
//!
//! let config = Config::new(
//!     "127.0.0.1:4000".parse().expect("an address"),
//!     vec!["127.0.0.1:7100".to_owned()],
//!     b"cluster secret".to_vec(),
//! );
//! let gateway = bind(config).await?;
//! println!("gateway listening on http://{}", gateway.local_addr());
//! gateway.serve(std::future::pending()).await
//! # }
//! ```
//!
//! # Layout
//!
//! - [`config`]: what a gateway is told at start.
//! - [`cli`]: the binary's flags and variables, turned into a [`Config`].
//! - `server`: binding and the accept loop.
//! - `drain`: the drain on a signal to stop: not ready, still serving, sockets closed
//!   spread over a window, exit.
//! - `admission`: connections counted per client address, dead renders rate-limited.
//! - `http`: which HTTP request goes where.
//! - `response`: the body type, plain-text answers, errors to responses (one place).
//! - `shared`: what every connection shares, and a socket's slot under the cap.
//! - `origins`: which origins may open a socket.
//! - `upgrade`: the checks before a WebSocket's 101 (vsn, origin, cap, CSRF verdict).
//! - `socket`: one WebSocket's life: reader, writer, limits, close codes.
//! - `frame_reader`: reading one frame at a time with no buffer held while idle.
//! - `frame`: the V2 header the gateway routes on, and the frames it writes itself.
//! - `channel`: what happens to each client message (heartbeat, join, forward).
//! - `conn`: a socket's outbox and routes, shared with the link readers.
//! - `link`: the gRPC link to each view-node, dispatch and reconnection.
//! - `membership`: view-nodes found in the Redis registry, followed as they come and go.
//! - [`placement`]: rendezvous hashing of view ids over view-nodes.
//! - [`csrf`]: the CSRF token scheme.
//! - `render`: dead renders forwarded to a view-node.
//! - `publish`: `POST /api/topics/<topic>` forwarded to a view-node's topics API.
//! - `beat`: the gateway's figures, handed to a view-node for the cluster dashboard.
//! - `assets`: the client bundles, app.js and app.css.
//! - `rate`: the per-socket token bucket.
//! - `telemetry`: the gateway's metrics (the recorder is `cinder_telemetry`'s).
//!
//! # What it does not do
//!
//! It never parses a payload it forwards, keeps no session state beyond a route per
//! joined topic (a reconnecting client rebuilds it), runs no app code and knows no app
//! routes. It reads the view-node registry but never writes it (view-nodes register
//! themselves). TLS is expected to end in front of it.

mod admission;
mod assets;
mod beat;
mod channel;
pub mod cli;
pub mod config;
mod conn;
pub mod csrf;
mod drain;
mod error;
mod frame;
mod frame_reader;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod link;
mod membership;
mod moving;
mod origins;
pub mod placement;
mod publish;
mod rate;
mod render;
mod response;
mod server;
mod shared;
pub mod signals;
mod socket;
mod telemetry;
mod upgrade;

/// The process's Prometheus recorder, which `/metrics` renders (see
/// [`cinder_telemetry::prometheus`]).
pub use cinder_telemetry::prometheus;
pub use config::{Config, Membership};
pub use drain::Drain;
pub use error::{Error, Result};
pub use render::{CSRF_HEADER, new_view_id};
pub use server::{Gateway, Links, bind};
