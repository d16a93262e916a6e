//! The replica lifecycle across shards, after phoenix_pubsub's
//! `shard_replication_test.exs`: an unseen node is caught up, a restart with a new
//! `vsn` leaves no zombies (#55 / PR #80), a temporary down with the same `vsn`
//! restores the exact set, a long silence forgets a node until it heals, a graceful
//! permdown forgets at once, and identical clocks cost one transfer request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

mod support;

use cinder_presence::{Message, PeerStatus, ReplicaRef};
use serde_json::json;
use support::Net;

fn transfer_requests(sent: &[Message]) -> usize {
    sent.iter()
        .filter(|m| matches!(m, Message::TransferReq { .. }))
        .count()
}

#[test]
fn a_node_that_joins_late_is_caught_up_by_a_transfer() {
    let mut net = Net::new(2);
    net.stopped.insert(1);
    net.cut.insert(1);
    net.track(0, "lobby", 1, "alice", json!({}));
    net.rounds(3);
    assert!(net.keys(1, "lobby").is_empty());

    // b starts after a's delta went out: only a transfer can bring alice.
    net.stopped.clear();
    net.cut.clear();
    net.rounds(8);
    assert_eq!(net.keys(1, "lobby"), ["alice"]);
    assert_eq!(net.list(0, "lobby"), net.list(1, "lobby"));
}

#[test]
fn a_restart_with_a_new_vsn_leaves_no_zombies() {
    let mut net = Net::new(2);
    net.track(0, "lobby", 1, "alice", json!({"life": 1}));
    net.rounds(2);
    assert_eq!(net.keys(1, "lobby"), ["alice"]);
    let old_life = net.shards[0].me().clone();
    let _ = net.take_diffs(1, "lobby");

    net.restart(0, 2);
    net.track(0, "lobby", 1, "alice", json!({"life": 2}));
    net.rounds(2);
    let metas = net.list(1, "lobby")["alice"]["metas"].clone();
    assert_eq!(
        metas.as_array().unwrap().len(),
        1,
        "the old life's alice is gone"
    );
    assert_eq!(metas[0]["life"], 2);
    let diff = net.take_diffs(1, "lobby");
    assert_eq!(diff["leaves"]["alice"]["metas"][0]["life"], 1);
    assert_eq!(diff["joins"]["alice"]["metas"][0]["life"], 2);

    // A late heartbeat of the old life changes nothing.
    let late = Message::Heartbeat {
        from: old_life,
        clocks: cinder_presence::Clock::new(),
        delta: None,
    };
    let effects = net.shards[1].receive(late, net.now);
    assert!(effects.diffs.is_empty());
    assert!(
        net.shards[1]
            .peers()
            .all(|(r, _)| r.vsn() == 2 || r.name() != "a")
    );
}

#[test]
fn a_temporary_down_with_the_same_vsn_restores_the_exact_set() {
    let mut net = Net::new(2);
    net.track(0, "lobby", 1, "alice", json!({"n": 1}));
    net.track(0, "lobby", 2, "alice", json!({"n": 2}));
    net.track(0, "kitchen", 1, "alice", json!({}));
    net.rounds(2);
    let before = (net.list(1, "lobby"), net.list(1, "kitchen"));
    let _ = net.take_diffs(1, "lobby");

    net.cut.insert(0);
    net.rounds(8); // past the 600 ms down period
    assert!(net.keys(1, "lobby").is_empty());
    assert!(net.shards[1].peers().any(|(_, s)| s == PeerStatus::Down));
    let down = net.take_diffs(1, "lobby");
    assert_eq!(
        down["leaves"]["alice"]["metas"].as_array().unwrap().len(),
        2
    );

    net.cut.clear();
    net.rounds(5);
    assert_eq!((net.list(1, "lobby"), net.list(1, "kitchen")), before);
    let up = net.take_diffs(1, "lobby");
    assert_eq!(up["joins"]["alice"]["metas"].as_array().unwrap().len(), 2);
    assert_eq!(up["leaves"], json!({}));
}

#[test]
fn a_silence_past_the_permdown_period_forgets_a_node_until_it_heals() {
    let mut net = Net::new(2);
    net.track(0, "lobby", 1, "alice", json!({}));
    net.rounds(2);
    net.cut.insert(0);
    net.rounds(25); // past the 2 s permdown period
    assert!(net.shards[1].peers().any(|(_, s)| s == PeerStatus::Gone));
    assert!(!net.shards[1].state().knows(&ReplicaRef::new("a", 1)));
    assert_eq!(net.shards[1].state().entries().count(), 0);

    // Heal after permdown: an unknown replica again, restored by a full transfer.
    net.cut.clear();
    net.rounds(8);
    assert_eq!(net.keys(1, "lobby"), ["alice"]);
}

#[test]
fn a_graceful_permdown_forgets_at_once() {
    let mut net = Net::new(3);
    net.track(0, "lobby", 1, "alice", json!({}));
    net.rounds(2);
    let _ = net.take_diffs(1, "lobby");
    let effects = net.shards[0].leave_cluster();
    net.effects(0, effects);
    net.stopped.insert(0);
    net.deliver_all();
    for node in [1, 2] {
        assert!(net.keys(node, "lobby").is_empty());
        assert!(
            net.shards[node]
                .peers()
                .any(|(r, s)| r.name() == "a" && s == PeerStatus::Gone)
        );
    }
    assert!(net.take_diffs(1, "lobby")["leaves"]["alice"].is_object());
}

#[test]
fn identical_clocks_cost_one_transfer_request() {
    let mut net = Net::new(4);
    net.cut.insert(3);
    net.stopped.insert(3);
    net.track(0, "lobby", 1, "alice", json!({}));
    net.rounds(3);
    // d arrives late: a, b and c all show it the same clock.
    net.cut.clear();
    net.stopped.clear();
    let _ = net.take_sent(3);
    net.rounds(6);
    assert_eq!(transfer_requests(&net.take_sent(3)), 1);
    assert_eq!(net.keys(3, "lobby"), ["alice"]);
}
