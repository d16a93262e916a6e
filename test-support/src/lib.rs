//! What Cinder's tests and benches share, so that no test includes another crate's file.
//! A dev-only crate: nothing here runs in a server.
//!
//! - `redis` (feature `redis`): real `redis-server` processes on loopback ports, a raw
//!   RESP client to drive them, and an `Inbox` that records what a subscriber got.
//! - [`proxy`]: a TCP proxy that can be cut, to partition one process from another (the
//!   cluster tests, and `cinder-loadtest converge` at run time).
//! - [`heap`]: a counting global allocator and the process's resident memory, for the
//!   memory benches.
//! - [`oracle`]: the official `phoenix_live_view` client's `Rendered` class, driven as a
//!   child process (`node client/dist/oracle.cjs`).
//! - `views` (feature `views`): the generated views, value strategies and mutations
//!   that the two oracle tests (server diffs, and the Rust client's merge) share.
//! - `fake_node` (feature `fake-node`): a fake view-node over real gRPC, which the
//!   gateway's tests and memory benches link to.
//!
//! What a single crate's tests share stays in that crate (`tests/support/mod.rs`): the
//! gateway's gateway and clients, the demo's process cluster, the client's gateway
//! double.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support: a failure here is a failed test"
)]

#[cfg(feature = "fake-node")]
pub mod fake_node;
pub mod heap;
pub mod oracle;
pub mod proxy;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "redis")]
pub mod redis_cluster;
#[cfg(feature = "views")]
pub mod views;
