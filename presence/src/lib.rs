//! Presence for Cinder: who is on a topic, replicated across nodes without a central
//! store. A port of Phoenix.Tracker's delta-CRDT, with the `presence_state` and
//! `presence_diff` payloads phoenix.js's `Presence` accepts.
//!
//! # Layout
//!
//! - [`crdt`] — the CRDT ([`State`]): track, untrack, update, merge, extract, replica
//!   up/down/permdown, `list`. Its module doc is the design essay.
//! - `shard` — [`Shard`]: one tracker shard, the CRDT plus heartbeats, catch-up
//!   transfers, the peer lifecycle and the Redis-outage rules, driven by the caller's
//!   clock; [`shard_for`] maps a topic to a shard.
//! - `clock`, `context` — dots, version vectors ([`Clock`]) and the causal context.
//! - `delta` — what replicas ship: [`Delta`] and the full-state [`Extract`].
//! - `generation` — recent deltas kept to answer catch-up requests cheaply.
//! - `peer` — the replica lifecycle table ([`PeerStatus`]).
//! - `message` — [`Message`], [`Payload`], [`Outbound`].
//! - `entry` — [`Entry`] (one presence) and `phx_ref` minting.
//! - `diff`, `presence_state` — the wire shapes ([`Diff`], [`Diffs`], [`PresenceState`])
//!   and coalescing of diffs.
//! - `client` — [`ClientPresence`], phoenix.js `syncState`/`syncDiff` in Rust.
//! - `config`, `error` — [`Config`] (Phoenix's defaults) and [`Error`].
//! - `tracker` — [`Tracker`]: the running tracker of one node. Its shards behind locks,
//!   one task that ticks them and feeds them what arrives over any
//!   [`cinder_pubsub::PubSub`] (in process or Redis), the link state, local
//!   `presence_diff` subscribers.
//! - [`codec`] — a [`Message`] as versioned JSON on the wire, and the refusal of
//!   anything else.
//!
//! Everything but `tracker` is pure: no tasks, sockets or timers, driven by the
//! caller's clock and messages, which is what the simulator under `tests/` relies on.
//!
//! # Not here
//!
//! The pubsub itself (connections, reconnects, gaps) is the pubsub crate's. Session
//! wiring (a handle that untracks on drop), `fetch` enrichment and per-topic frame
//! batching with back-pressure live with the view-node. Large transfers are not chunked:
//! a full state travels as one pubsub message.

mod client;
mod clock;
pub mod codec;
mod config;
mod context;
pub mod crdt;
mod delta;
mod diff;
mod entry;
mod error;
mod generation;
mod message;
mod peer;
mod presence_state;
mod replica;
mod shard;
mod tracker;

pub use client::ClientPresence;
pub use clock::{Clock, Dot};
pub use config::Config;
pub use crdt::State;
pub use delta::{Delta, Extract, Span};
pub use diff::{Diff, Diffs};
pub use entry::{Entry, SessionId};
pub use error::Error;
pub use message::{Message, Outbound, Payload};
pub use peer::PeerStatus;
pub use presence_state::PresenceState;
pub use replica::ReplicaRef;
pub use shard::{Effects, Shard, shard_for};
pub use tracker::{DELIVERY_BATCH, TOPIC_PREFIX, Tracker, TrackerOptions};
