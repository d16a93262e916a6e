//! The merge laws on bare states: every payload merged twice changes nothing the second
//! time (idempotence), and any order of merging the same payloads reaches the same state
//! (commutativity, with associativity folded in).

use cinder_presence::{Clock, Delta, Extract, ReplicaRef, SessionId, State};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::observer::normalize;

const OWNERS: usize = 3;

#[derive(Clone, Debug)]
enum OwnerOp {
    Track {
        owner: usize,
        session: u64,
        key: u8,
        meta: u8,
    },
    Untrack {
        owner: usize,
        session: u64,
        key: u8,
    },
    Update {
        owner: usize,
        session: u64,
        key: u8,
        meta: u8,
    },
    /// The owner ships its pending delta.
    Cut {
        owner: usize,
    },
    /// The owner ships its full state.
    Extract {
        owner: usize,
    },
    /// One owner catches up from another's full state, so later extracts carry other
    /// replicas' entries and removals too.
    Exchange {
        from: usize,
        to: usize,
    },
}

fn owner_op() -> impl Strategy<Value = OwnerOp> {
    let owner = 0..OWNERS;
    let session = 0u64..2;
    let key = 0u8..3;
    prop_oneof![
        6 => (owner.clone(), session.clone(), key.clone(), any::<u8>())
            .prop_map(|(owner, session, key, meta)| OwnerOp::Track { owner, session, key, meta }),
        3 => (owner.clone(), session.clone(), key.clone())
            .prop_map(|(owner, session, key)| OwnerOp::Untrack { owner, session, key }),
        3 => (owner.clone(), session, key, any::<u8>())
            .prop_map(|(owner, session, key, meta)| OwnerOp::Update { owner, session, key, meta }),
        4 => owner.clone().prop_map(|owner| OwnerOp::Cut { owner }),
        2 => owner.clone().prop_map(|owner| OwnerOp::Extract { owner }),
        2 => (owner.clone(), owner).prop_map(|(from, to)| OwnerOp::Exchange { from, to }),
    ]
}

#[derive(Clone, Debug)]
enum Shipped {
    Delta(Delta),
    Full(Extract),
}

fn replica(i: usize) -> ReplicaRef {
    ReplicaRef::new(format!("o{i}"), 1)
}

fn meta(value: u8) -> Map<String, Value> {
    json!({ "v": value })
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// A state that knows every owner.
fn knowing_all(me: ReplicaRef) -> State {
    let mut state = State::new(me);
    for i in 0..OWNERS {
        state.replica_up(&replica(i));
    }
    state
}

/// Runs the owners' operations; returns every payload they shipped, and the owners.
fn ship(ops: &[OwnerOp]) -> (Vec<Shipped>, Vec<State>) {
    let mut owners: Vec<State> = (0..OWNERS).map(|i| knowing_all(replica(i))).collect();
    let receiver_clock: Clock = (0..OWNERS).map(|i| (replica(i), 0)).collect();
    let mut shipped = Vec::new();
    for op in ops {
        match *op {
            OwnerOp::Track {
                owner,
                session,
                key,
                meta: m,
            } => {
                let _ =
                    owners[owner].track("room", SessionId(session), &format!("u{key}"), meta(m));
            }
            OwnerOp::Untrack {
                owner,
                session,
                key,
            } => {
                owners[owner].untrack("room", SessionId(session), &format!("u{key}"));
            }
            OwnerOp::Update {
                owner,
                session,
                key,
                meta: m,
            } => {
                let _ =
                    owners[owner].update("room", SessionId(session), &format!("u{key}"), meta(m));
            }
            OwnerOp::Cut { owner } => {
                shipped.extend(owners[owner].take_delta().map(Shipped::Delta));
            }
            OwnerOp::Extract { owner } => {
                shipped.push(Shipped::Full(owners[owner].extract(&receiver_clock)));
            }
            OwnerOp::Exchange { from, to } => {
                let extract = owners[from].extract(&owners[to].clocks());
                owners[to].merge_extract(&extract);
            }
        }
    }
    for owner in &mut owners {
        shipped.extend(owner.take_delta().map(Shipped::Delta));
    }
    (shipped, owners)
}

fn merge(state: &mut State, payload: &Shipped) -> bool {
    let diffs = match payload {
        Shipped::Delta(delta) => state.merge_delta(delta),
        Shipped::Full(extract) => state.merge_extract(extract),
    };
    !diffs.is_empty()
}

fn listing(state: &State) -> Value {
    normalize(&state.list("room").to_json())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn merges_are_idempotent_and_commutative(
        ops in proptest::collection::vec(owner_op(), 1..80),
        order in proptest::collection::vec(any::<u64>(), 64),
    ) {
        let (shipped, owners) = ship(&ops);
        let fresh = knowing_all(ReplicaRef::new("receiver", 1));

        let mut in_order = fresh.clone();
        for payload in &shipped {
            merge(&mut in_order, payload);
        }

        // Every own change went out in some delta, so the receiver holds exactly the
        // owners' entries.
        let mut truth = Map::new();
        for owner in &owners {
            for entry in owner.own_entries() {
                let presence = truth.entry(entry.key.clone()).or_insert_with(|| json!({"metas": []}));
                if let Some(metas) = presence.get_mut("metas").and_then(Value::as_array_mut) {
                    metas.push(entry.client_meta());
                }
            }
        }
        prop_assert_eq!(listing(&in_order), normalize(&Value::Object(truth)));

        for payload in &shipped {
            let before = in_order.clone();
            prop_assert!(!merge(&mut in_order, payload), "a second merge emitted diffs");
            prop_assert_eq!(&in_order, &before);
        }

        let mut indices: Vec<usize> = (0..shipped.len()).collect();
        indices.sort_by_key(|i| (order[i % order.len()], *i));
        let mut shuffled = fresh;
        for i in &indices {
            merge(&mut shuffled, &shipped[*i]);
            // Duplicates interleaved anywhere change nothing either.
            if order[*i % order.len()] % 3 == 0 {
                merge(&mut shuffled, &shipped[*i]);
            }
        }
        prop_assert_eq!(&shuffled, &in_order);
    }
}

/// A deterministic corner the generator reaches only rarely: the removal arrives before
/// the value it removes, through a full state of a third owner.
#[test]
fn removal_before_value_through_a_third_owner() {
    let mut owners: Vec<State> = (0..OWNERS).map(|i| knowing_all(replica(i))).collect();
    let _ = owners[0].track("room", SessionId(1), "u1", meta(1));
    let join = owners[0].take_delta().expect("tracked");
    owners[0].untrack("room", SessionId(1), "u1");
    let leave = owners[0].take_delta().expect("untracked");
    owners[1].merge_delta(&join);
    owners[1].merge_delta(&leave);
    let everything: Clock = (0..OWNERS).map(|i| (replica(i), 0)).collect();
    let third = owners[1].extract(&everything);

    let mut receiver = knowing_all(ReplicaRef::new("receiver", 1));
    assert!(receiver.merge_extract(&third).is_empty());
    assert!(receiver.merge_delta(&join).is_empty());
    assert!(receiver.list("room").is_empty());
}
