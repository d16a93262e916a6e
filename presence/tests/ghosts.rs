//! No ghosts: the two counterexamples distributed-owls/breaking-pp found in
//! Phoenix.Tracker (phoenix_pubsub PR #111), pinned.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use cinder_presence::{ReplicaRef, SessionId, State};
use serde_json::Map;

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

fn keys(state: &State) -> Vec<String> {
    state
        .list("lobby")
        .iter()
        .map(|(k, _)| k.to_owned())
        .collect()
}

/// "Join via a third node without its leave." `b` misses `a`'s first two deltas, so its
/// context for `a` has a hole, then merges the removal of alice. Phoenix drops the
/// removed dot from the cloud; the stale copy of alice that `c` still holds is then
/// accepted as a join. Here the removed dot stays observed and the copy is refused.
/// Merges `from`'s full state, as `to` would request it, into `to`.
fn catch_up(s: &mut [State], from: usize, to: usize) -> cinder_presence::Diffs {
    let extract = s[from].extract(&s[to].clocks());
    s[to].merge_extract(&extract)
}

#[test]
fn a_stale_copy_held_by_a_third_node_does_not_revive_a_removed_entry() {
    let mut s = states(3);
    s[0].track("lobby", SessionId(1), "carol", Map::new())
        .unwrap();
    let carol = s[0].take_delta().unwrap();
    s[0].track("lobby", SessionId(2), "alice", Map::new())
        .unwrap();
    let alice = s[0].take_delta().unwrap();
    s[0].untrack("lobby", SessionId(2), "alice");
    let alice_left = s[0].take_delta().unwrap();

    // c saw carol and alice join, but not alice leave.
    s[2].merge_delta(&carol);
    s[2].merge_delta(&alice);
    // b saw only the leave: a hole below it in b's context for a.
    assert!(s[1].merge_delta(&alice_left).is_empty());
    assert_eq!(s[1].context().get(s[0].me()), 0);

    let from_c = s[2].extract(&s[1].clocks());
    let diffs = s[1].merge_extract(&from_c);
    let joined: Vec<&String> = diffs.get("lobby").unwrap().joins().keys().collect();
    assert_eq!(joined, ["carol"], "only carol joins; alice stays gone");
    assert_eq!(keys(&s[1]), ["carol"]);
    // The hole is closed now: b has seen all of a's history up to the removal.
    assert_eq!(s[1].context().get(s[0].me()), 3);
    assert_eq!(keys(&s[0]), keys(&s[1]));
}

/// A delta that arrives after a lost one is merged, but must not pretend the hole is
/// filled: the context stays below the gap until a transfer closes it.
#[test]
fn a_delta_after_a_gap_does_not_close_the_gap() {
    let mut s = states(2);
    s[0].track("lobby", SessionId(1), "alice", Map::new())
        .unwrap();
    let _lost = s[0].take_delta().unwrap();
    s[0].track("lobby", SessionId(2), "bob", Map::new())
        .unwrap();
    let second = s[0].take_delta().unwrap();

    s[1].merge_delta(&second);
    assert_eq!(keys(&s[1]), ["bob"]);
    assert_eq!(s[1].context().get(s[0].me()), 0, "dot 2 sits in the cloud");
    assert!(
        !s[1].clocks().covers(&s[0].clocks()),
        "so the clocks ask for a transfer"
    );

    catch_up(&mut s, 0, 1);
    assert_eq!(keys(&s[1]), ["alice", "bob"]);
    assert_eq!(s[1].context().get(s[0].me()), 2);
}
