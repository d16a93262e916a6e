//! What can go wrong in the presence tier.

use thiserror::Error;

/// Every failure the presence crate reports.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// `track` found the `(topic, session, key)` row already present; Phoenix answers
    /// `{:error, {:already_tracked, …}}` here.
    #[error("already tracked: topic {topic:?}, key {key:?}")]
    AlreadyTracked {
        /// The topic of the existing row.
        topic: String,
        /// The presence key of the existing row.
        key: String,
    },
    /// `update` found no row to update; Phoenix answers `{:error, :nopresence}`.
    #[error("not tracked: topic {topic:?}, key {key:?}")]
    NotTracked {
        /// The topic that was asked for.
        topic: String,
        /// The presence key that was asked for.
        key: String,
    },
    /// A configuration value breaks a rule the tracker depends on.
    #[error("invalid presence config: {0}")]
    InvalidConfig(&'static str),
    /// A message from a peer could not be decoded; the reason says what was wrong.
    #[error("malformed presence message: {0}")]
    Malformed(String),
    /// [`crate::Tracker::start`] was called outside a tokio runtime.
    #[error("the presence tracker must start inside a tokio runtime")]
    NoRuntime,
}
