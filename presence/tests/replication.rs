//! Replication between bare states, after phoenix_pubsub's `state_test.exs`: merges in
//! both directions, updates, netsplits as replica down/up, joins and removes through a
//! third node, and what an extract may contain. Diffs are asserted as exact JSON.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use cinder_presence::{ReplicaRef, SessionId, State};
use serde_json::{Map, Value, json};

fn meta(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// States named `a`, `b`, … that all know each other.
fn states(n: usize) -> Vec<State> {
    let refs: Vec<ReplicaRef> = (0..n)
        .map(|i| ReplicaRef::new(char::from(b'a' + u8::try_from(i).unwrap()).to_string(), 1))
        .collect();
    refs.iter()
        .map(|me| {
            let mut state = State::new(me.clone());
            for other in &refs {
                state.replica_up(other);
            }
            state
        })
        .collect()
}

fn phx_ref(state: &State, topic: &str, key: &str) -> String {
    state.list(topic).get(key).unwrap()[0].phx_ref.clone()
}

fn diff_json(diffs: &cinder_presence::Diffs, topic: &str) -> Value {
    diffs
        .get(topic)
        .map_or_else(|| json!({"joins": {}, "leaves": {}}), |d| d.to_json())
}

/// Takes `from`'s pending delta and merges it into `to`.
fn ship(s: &mut [State], from: usize, to: usize) -> cinder_presence::Diffs {
    let delta = s[from].take_delta().expect("pending changes");
    s[to].merge_delta(&delta)
}

/// Merges `from`'s full state, as `to` would request it, into `to`.
fn catch_up(s: &mut [State], from: usize, to: usize) -> cinder_presence::Diffs {
    let extract = s[from].extract(&s[to].clocks());
    s[to].merge_extract(&extract)
}

#[test]
fn merges_both_ways_and_a_second_merge_emits_nothing() {
    let mut s = states(2);
    s[0].track(
        "lobby",
        SessionId(1),
        "alice",
        meta(json!({"name": "Alice"})),
    )
    .unwrap();
    s[1].track("lobby", SessionId(1), "bob", meta(json!({"name": "Bob"})))
        .unwrap();
    let (from_a, from_b) = (s[0].take_delta().unwrap(), s[1].take_delta().unwrap());

    let at_a = s[0].merge_delta(&from_b);
    let bob = phx_ref(&s[1], "lobby", "bob");
    assert_eq!(
        diff_json(&at_a, "lobby"),
        json!({"joins": {"bob": {"metas": [{"name": "Bob", "phx_ref": bob}]}}, "leaves": {}})
    );
    s[1].merge_delta(&from_a);
    assert_eq!(s[0].list("lobby"), s[1].list("lobby"));
    assert_eq!(s[0].list("lobby").len(), 2);

    assert!(s[0].merge_delta(&from_b).is_empty());
    assert!(s[1].merge_delta(&from_a).is_empty());
}

#[test]
fn an_update_reaches_peers_as_a_join_with_prev_and_a_leave() {
    let mut s = states(2);
    s[0].track(
        "lobby",
        SessionId(1),
        "alice",
        meta(json!({"status": "online"})),
    )
    .unwrap();
    ship(&mut s, 0, 1);
    let old = phx_ref(&s[0], "lobby", "alice");

    s[0].update(
        "lobby",
        SessionId(1),
        "alice",
        meta(json!({"status": "away"})),
    )
    .unwrap();
    let new = phx_ref(&s[0], "lobby", "alice");
    let at_b = ship(&mut s, 0, 1);
    assert_eq!(
        diff_json(&at_b, "lobby"),
        json!({
            "joins": {"alice": {"metas": [{"status": "away", "phx_ref": new, "phx_ref_prev": old}]}},
            "leaves": {"alice": {"metas": [{"status": "online", "phx_ref": old}]}}
        })
    );
    assert_eq!(
        s[1].list("lobby").to_json(),
        json!({"alice": {"metas": [{"status": "away", "phx_ref": new, "phx_ref_prev": old}]}})
    );
}

/// phoenix_pubsub#175 (2.1.2): updates leaked rows. However many updates, one row.
#[test]
fn repeated_updates_leave_one_row_everywhere() {
    let mut s = states(2);
    s[0].track("lobby", SessionId(1), "alice", meta(json!({"n": 0})))
        .unwrap();
    for n in 1..=100 {
        s[0].update("lobby", SessionId(1), "alice", meta(json!({"n": n})))
            .unwrap();
        if n % 7 == 0 {
            ship(&mut s, 0, 1);
        }
    }
    ship(&mut s, 0, 1);
    for state in &s {
        assert_eq!(state.entries().count(), 1);
        assert_eq!(state.list("lobby").get("alice").unwrap().len(), 1);
    }
    assert_eq!(s[0].list("lobby"), s[1].list("lobby"));
}

#[test]
fn a_netsplit_hides_entries_and_healing_restores_them_exactly() {
    let mut s = states(2);
    s[0].track("lobby", SessionId(1), "alice", meta(json!({})))
        .unwrap();
    s[0].track("lobby", SessionId(2), "alice", meta(json!({})))
        .unwrap();
    ship(&mut s, 0, 1);
    let before = s[1].list("lobby");
    let a = s[0].me().clone();

    let down = s[1].replica_down(&a);
    assert_eq!(down.get("lobby").unwrap().leaves()["alice"].len(), 2);
    assert!(s[1].list("lobby").is_empty());
    assert!(
        !s[1].clocks().contains(&a),
        "clocks leave out replicas marked down"
    );

    let up = s[1].replica_up(&a);
    assert_eq!(up.get("lobby").unwrap().joins()["alice"].len(), 2);
    assert_eq!(s[1].list("lobby"), before);
}

#[test]
fn joins_and_removes_travel_through_a_third_node() {
    let mut s = states(3);
    s[0].track("lobby", SessionId(1), "alice", meta(json!({})))
        .unwrap();
    ship(&mut s, 0, 2);

    // b hears of alice only through c.
    let joined = catch_up(&mut s, 2, 1);
    assert!(joined.get("lobby").unwrap().joins().contains_key("alice"));

    s[0].untrack("lobby", SessionId(1), "alice");
    ship(&mut s, 0, 2);
    let left = catch_up(&mut s, 2, 1);
    assert!(left.get("lobby").unwrap().leaves().contains_key("alice"));
    assert!(s[1].list("lobby").is_empty());
}

#[test]
fn an_extract_holds_only_replicas_the_requester_knows() {
    let mut s = states(3);
    s[1].track("lobby", SessionId(1), "bob", meta(json!({})))
        .unwrap();
    s[2].track("lobby", SessionId(1), "carol", meta(json!({})))
        .unwrap();
    let (from_b, from_c) = (s[1].take_delta().unwrap(), s[2].take_delta().unwrap());
    s[0].merge_delta(&from_b);
    s[0].merge_delta(&from_c);

    let mut knows_a_and_b = State::new(ReplicaRef::new("z", 1));
    knows_a_and_b.replica_up(s[0].me());
    knows_a_and_b.replica_up(s[1].me());
    let extract = s[0].extract(&knows_a_and_b.clocks());
    assert!(!extract.clock().contains(s[2].me()));
    assert!(extract.values().keys().all(|dot| dot.replica != *s[2].me()));
    assert_eq!(extract.values().len(), 1);

    knows_a_and_b.merge_extract(&extract);
    assert_eq!(
        knows_a_and_b
            .list("lobby")
            .iter()
            .map(|(k, _)| k)
            .collect::<Vec<_>>(),
        ["bob"]
    );
}

/// phoenix_pubsub_redis#26: joins and leaves delivered N times. A delta delivered twice
/// (or a heartbeat relayed by several nodes) emits its joins once.
#[test]
fn a_duplicated_delta_emits_its_joins_once() {
    let mut s = states(2);
    s[0].track("lobby", SessionId(1), "alice", meta(json!({})))
        .unwrap();
    let delta = s[0].take_delta().unwrap();
    let first = s[1].merge_delta(&delta);
    assert_eq!(first.get("lobby").unwrap().joins().len(), 1);
    for _ in 0..3 {
        assert!(s[1].merge_delta(&delta).is_empty());
    }
}
