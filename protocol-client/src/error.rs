//! The crate's one error type: what failed, from the socket up to the diff merge.

use serde_json::Value;
use tokio_tungstenite::tungstenite;

use crate::socket::Closed;

/// What can go wrong talking to a gateway.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL given to connect or fetch cannot be used.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The WebSocket handshake or the connection failed.
    #[error("WebSocket: {0}")]
    WebSocket(Box<tungstenite::Error>),
    /// Reading or writing a plain TCP stream failed (the HTTP page fetch).
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP page could not be fetched or lacks what a LiveView page must hold.
    #[error("page: {0}")]
    Page(String),
    /// A frame is not a V2 frame `[join_ref, ref, topic, event, payload]`.
    #[error("malformed frame: {0}")]
    MalformedFrame(String),
    /// Nothing arrived in time.
    #[error("timed out after {millis} ms waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long it was awaited.
        millis: u128,
    },
    /// The socket is closed; `Some` holds the close frame when the server sent one.
    #[error("the socket is closed ({0:?})")]
    Closed(Option<Closed>),
    /// The server answered `phx_join` with `status: error`; holds the response
    /// (`{"reason":"stale"}`, `{"reason":"unmatched topic"}`, `{"redirect":…}`…).
    #[error("join refused: {0}")]
    JoinRefused(Value),
    /// The server answered a push with `status: error`.
    #[error("{event} refused: {response}")]
    PushRefused {
        /// The pushed event (`event`, `live_patch`…).
        event: String,
        /// The error response.
        response: Value,
    },
    /// The view's channel is gone: left, closed by the server (`phx_close`), crashed
    /// (`phx_error`) or its socket closed.
    #[error("the view {topic} is {state}")]
    ViewGone {
        /// The view's topic.
        topic: String,
        /// What happened to it.
        state: String,
    },
    /// A diff is not in the 1.2.12 wire format (wrong JSON types).
    #[error("invalid diff: {0}")]
    InvalidDiff(String),
    /// Merging or rendering a diff failed where the official client throws: missing
    /// statics, an unknown template or component, a move without `km`, a root that is
    /// not a tag…
    #[error("render: {0}")]
    Render(String),
    /// An earlier diff for this view failed to merge, so its tree is no longer what
    /// the server assumes.
    #[error("the view {topic} is broken: {reason}")]
    ViewBroken {
        /// The view's topic.
        topic: String,
        /// The first merge or render failure.
        reason: String,
    },
}

impl From<tungstenite::Error> for Error {
    fn from(e: tungstenite::Error) -> Self {
        Error::WebSocket(Box::new(e))
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
