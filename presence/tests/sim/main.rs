//! The presence CRDT under a deterministic simulator.
//!
//! A run is 2–5 tracker shards and a network the test controls (reorder, duplicate,
//! drop, partition, heal, crash, restart with a new `vsn`, Redis link loss), driven by a
//! proptest-generated list of operations and a logical clock. The checks:
//!
//! - after **every** call into a shard: the diffs it emitted are coherent (joins of
//!   absent refs, leaves of present ones) and, replayed through a port of phoenix.js
//!   `syncDiff`, equal that shard's `list()` for every topic; no entry a shard has seen
//!   removed is held again (no resurrection);
//! - whenever a transfer is answered with a delta generation: the generation never
//!   contradicts the holder's full state;
//! - after healing everything and letting heartbeats and transfers run: every live node
//!   lists exactly the union of the live owners' own entries (convergence; nothing of
//!   an old life or a crashed node); re-merging any delivered message emits nothing;
//!   coalescing the emitted diffs in windows of any size leaves a client where the raw
//!   diffs did.
//!
//! `laws` checks idempotence and commutativity of merges on bare states.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

mod cluster;
mod laws;
mod network;
mod observer;
mod op;

use proptest::prelude::*;

use crate::cluster::Cluster;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn cluster_converges_without_ghosts((size, ops) in op::run(200)) {
        let mut cluster = Cluster::new(size);
        for op in &ops {
            cluster.apply(op);
        }
        cluster.settle();
        cluster.check_converged();
        cluster.check_remerge_is_silent();
        cluster.check_coalescing();
    }
}
