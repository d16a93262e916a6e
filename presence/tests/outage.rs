//! The Redis-outage rules: losing our own link must not look like every peer dying.
//! While the link is down nothing is declared down and nothing is broadcast; when it
//! comes back every peer counts as heard at that moment and is asked for a transfer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

mod support;

use cinder_presence::{Message, PeerStatus};
use serde_json::json;
use support::Net;

#[test]
fn an_outage_longer_than_the_down_period_causes_no_leave_storm() {
    let mut net = Net::new(3);
    net.track(0, "lobby", 1, "alice", json!({}));
    net.track(1, "lobby", 1, "bob", json!({}));
    net.rounds(3);
    let _ = net.take_diffs(2, "lobby");

    // Everyone's link to Redis goes away for 3 s, five times the down period.
    for shard in &mut net.shards {
        shard.link_down();
    }
    net.cut.extend([0, 1, 2]);
    net.rounds(30);
    for node in 0..3 {
        assert_eq!(net.keys(node, "lobby"), ["alice", "bob"]);
        assert!(net.shards[node].peers().all(|(_, s)| s == PeerStatus::Up));
    }
    assert_eq!(
        net.take_diffs(2, "lobby"),
        json!({"joins": {}, "leaves": {}})
    );

    // Reconnect: transfer requests to every peer, and still no leaves afterwards.
    net.cut.clear();
    let now = net.now;
    for node in 0..3 {
        let effects = net.shards[node].link_up(now);
        let asked = effects
            .outbound
            .iter()
            .filter(|o| matches!(o.message, Message::TransferReq { .. }))
            .count();
        assert_eq!(asked, 2);
        net.effects(node, effects);
    }
    net.deliver_all();
    net.rounds(10);
    assert_eq!(
        net.take_diffs(2, "lobby"),
        json!({"joins": {}, "leaves": {}})
    );
}

#[test]
fn changes_made_during_an_outage_go_out_after_it() {
    let mut net = Net::new(2);
    net.rounds(2);
    let _ = net.take_sent(0);
    net.shards[0].link_down();
    net.cut.insert(0);
    net.track(0, "lobby", 1, "alice", json!({}));
    net.rounds(10);
    assert!(net.keys(1, "lobby").is_empty());
    assert!(
        net.take_sent(0).is_empty(),
        "nothing is broadcast while the link is down"
    );

    net.cut.clear();
    let effects = net.shards[0].link_up(net.now);
    net.effects(0, effects);
    net.rounds(2);
    assert_eq!(net.keys(1, "lobby"), ["alice"]);
}

#[test]
fn a_peer_that_stays_silent_after_reconnect_goes_down_one_period_later() {
    let mut net = Net::new(2);
    net.rounds(2);
    net.shards[1].link_down();
    net.cut.insert(0);
    net.stopped.insert(0);
    net.rounds(20);
    let effects = net.shards[1].link_up(net.now);
    net.effects(1, effects);
    net.rounds(5);
    assert!(
        net.shards[1].peers().all(|(_, s)| s == PeerStatus::Up),
        "grace after reconnect"
    );
    net.rounds(3);
    assert!(net.shards[1].peers().all(|(_, s)| s == PeerStatus::Down));
}

#[test]
fn a_node_back_from_its_own_outage_heartbeats_at_the_next_tick() {
    let mut net = Net::new(2);
    net.track(0, "lobby", 1, "alice", json!({}));
    net.rounds(3);
    // Node 0 alone loses its link, long enough for node 1 to mark it down.
    net.shards[0].link_down();
    net.cut.insert(0);
    net.rounds(10);
    assert!(net.shards[1].peers().all(|(_, s)| s == PeerStatus::Down));
    assert_eq!(net.keys(1, "lobby"), Vec::<String>::new());

    net.cut.clear();
    let effects = net.shards[0].link_up(net.now);
    net.effects(0, effects);
    let _ = net.take_sent(0);
    net.round();
    // Without changes of its own, node 0 still heartbeats at once (not after
    // `max_silent_periods`), and node 1 sees alice again.
    assert!(
        net.take_sent(0)
            .iter()
            .any(|m| matches!(m, Message::Heartbeat { .. }))
    );
    net.deliver_all();
    assert_eq!(net.keys(1, "lobby"), ["alice"]);
}
