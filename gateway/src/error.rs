//! The gateway's one error type: what failed, named after the thing that failed.
//!
//! Errors that reach a client are mapped to an answer in one place each: HTTP statuses in
//! [`crate::response`], WebSocket close codes in [`crate::socket`].

use std::io;
use std::net::SocketAddr;

/// Everything that can fail in the gateway.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why the OS refused.
        source: io::Error,
    },
    /// A configured view-node address is not `host:port`.
    #[error("invalid view-node address {addr:?}: {reason}")]
    InvalidViewNode {
        /// The address as configured.
        addr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The view-node registry cannot be read: an invalid Redis URL or poll interval.
    #[error("cannot follow the view-node registry: {0}")]
    InvalidMembership(#[source] cinder_pubsub::Error),
    /// The cluster secret is shorter than `cinder_proto::credential::MIN_SECRET_BYTES`:
    /// CSRF tokens, link tokens and member signatures would be guessable.
    #[error(transparent)]
    WeakSecret(cinder_proto::credential::WeakSecret),
    /// No view-node link is up to place a session or a render on.
    #[error("no view-node is reachable")]
    UpstreamUnavailable,
    /// The view-node answered a dead render with a gRPC error.
    #[error("dead render failed on {node}: {status}")]
    Render {
        /// The view-node that was asked.
        node: String,
        /// What it answered.
        status: Box<tonic::Status>,
    },
    /// The view-node's topics API refused or failed a publish.
    #[error("publish failed on {node}: {status}")]
    Publish {
        /// The view-node that was asked.
        node: String,
        /// What it answered.
        status: Box<tonic::Status>,
    },
    /// The view-node's render answer cannot be turned into an HTTP response.
    #[error("invalid render response from {node}: {reason}")]
    InvalidRender {
        /// The view-node that answered.
        node: String,
        /// What is wrong with the answer.
        reason: String,
    },
    /// Accepting or serving a connection failed at the socket level.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// `Result` with the gateway's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
