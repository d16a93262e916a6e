//! The errors of the `cinder` crate, and how each reaches the client.

/// What went wrong while serving a live session.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A view received an event it has no handler for.
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    /// A client frame could not be decoded.
    #[error("malformed frame: {0}")]
    MalformedFrame(String),
    /// An event payload did not have the shape the handler expected.
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    /// The app refused something, with a message for the logs.
    #[error("{0}")]
    App(String),
}

impl Error {
    /// An application error with a message.
    pub fn app(message: impl Into<String>) -> Self {
        Error::App(message.into())
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::InvalidPayload(err.to_string())
    }
}

impl From<crate::form::DecodeError> for Error {
    fn from(err: crate::form::DecodeError) -> Self {
        Error::InvalidPayload(err.to_string())
    }
}

/// The result type of view callbacks.
pub type Result<T = (), E = Error> = std::result::Result<T, E>;
