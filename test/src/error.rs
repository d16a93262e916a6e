//! The crate's one error type: what a test step could not do.

/// What can go wrong driving a view in a test.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Starting the in-process view-node or gateway failed.
    #[error("starting the app: {0}")]
    Start(String),
    /// The protocol client failed: the socket, a refused join or push, a diff that did
    /// not merge.
    #[error(transparent)]
    Client(#[from] cinder_protocol_client::Error),
    /// An HTTP request for a page failed below HTTP (connect, read).
    #[error("GET {url}: {reason}")]
    Http {
        /// The URL requested.
        url: String,
        /// What failed.
        reason: String,
    },
    /// A page load answered something other than a LiveView page.
    #[error("GET {url}: HTTP {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status it answered.
        status: u16,
    },
    /// More redirects in a row than a browser would follow.
    #[error("more than {0} redirects in a row")]
    TooManyRedirects(usize),
    /// A selector this crate does not understand (see [`crate::Selector`]).
    #[error("unsupported selector {selector:?}: {reason}")]
    Selector {
        /// The selector as given.
        selector: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No element of the view matches the selector.
    #[error("no element matches {0:?}")]
    NoElement(String),
    /// The element lacks what the step needs (`phx-click`, `phx-submit`, `href`…).
    #[error("{selector:?} has no {attribute}")]
    MissingAttribute {
        /// The element's selector.
        selector: String,
        /// The attribute looked for.
        attribute: String,
    },
    /// The view redirected; [`crate::Live::follow`] goes there.
    #[error("the view redirected to {0}; follow() it first")]
    Redirected(String),
    /// [`crate::Live::follow`] with no redirect to follow.
    #[error("no redirect to follow")]
    NoRedirect,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
