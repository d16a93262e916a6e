//! What shards say to each other, and where it goes.

use crate::clock::Clock;
use crate::delta::{Delta, Extract};
use crate::replica::ReplicaRef;

/// One message between tracker shards of the same index on different nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Sent to every peer each broadcast period with the pending delta, or after
    /// `max_silent_periods` quiet periods without one.
    Heartbeat {
        /// The sender.
        from: ReplicaRef,
        /// The sender's context without the replicas it marks down.
        clocks: Clock,
        /// The sender's own changes since its last heartbeat.
        delta: Option<Delta>,
    },
    /// A catch-up request to one peer whose clock showed history we lack.
    TransferReq {
        /// The requester.
        from: ReplicaRef,
        /// The peer asked; other lives of that name drop the request.
        to: ReplicaRef,
        /// The requester's clock, which also names the replicas it wants.
        clocks: Clock,
    },
    /// The answer to a [`Message::TransferReq`].
    TransferAck {
        /// The peer that answers.
        from: ReplicaRef,
        /// The requester; other lives of that name drop the answer.
        to: ReplicaRef,
        /// A delta generation, or the full state.
        payload: Payload,
    },
    /// The sender is leaving for good: forget it now instead of after the permdown
    /// period.
    GracefulPermdown {
        /// The replica leaving.
        from: ReplicaRef,
    },
}

impl Message {
    /// The sender.
    pub fn from(&self) -> &ReplicaRef {
        match self {
            Message::Heartbeat { from, .. }
            | Message::TransferReq { from, .. }
            | Message::TransferAck { from, .. }
            | Message::GracefulPermdown { from } => from,
        }
    }
}

/// A transfer's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// A delta generation that starts no later than the requester's clock.
    Delta(Delta),
    /// The full state, pruned to the replicas the requester knows.
    Full(Extract),
}

/// A message to send: to every peer (`to == None`) or to one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    /// The one recipient of a direct message; `None` for a broadcast.
    pub to: Option<ReplicaRef>,
    /// The message.
    pub message: Message,
}
