//! What can fail: the crate's one error type.

/// Why a publish, a wait on the broker, or a backend start failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The broker is unreachable: the message reached this node's subscribers only.
    #[error("the broker is unreachable")]
    Unavailable,
    /// The queue towards the broker is full: the message reached this node's subscribers
    /// only.
    #[error("the publish queue is full")]
    QueueFull,
    /// The broker did not answer within the configured time.
    #[error("the broker did not answer in time")]
    Timeout,
    /// The broker answered with an error.
    #[error("the broker refused the command: {0}")]
    Rejected(String),
    /// The message's envelope is over the broker's size limit (`max_message_bytes`):
    /// nobody received it, on this node or another, since every node would drop it.
    #[error("the message is {bytes} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// The encoded envelope's size.
        bytes: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The backend has shut down.
    #[error("the pubsub has shut down")]
    Closed,
    /// The backend's configuration is unusable (for example an invalid Redis URL).
    #[error("invalid pubsub configuration: {0}")]
    InvalidConfig(String),
    /// The backend was started outside a tokio runtime.
    #[error("the Redis backend must be started inside a tokio runtime")]
    NoRuntime,
    /// The member set holds more names than a watcher reads
    /// (`membership::MAX_MEMBERS`); the last set read is kept.
    #[error("the member set holds {count} names, over the limit of {limit}")]
    TooManyMembers {
        /// Names in the set.
        count: usize,
        /// The most a watcher reads.
        limit: usize,
    },
}
