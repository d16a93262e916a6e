//! The operations a simulated run is made of, and their proptest strategy.

use proptest::prelude::*;

/// One step of a run. Node, session, topic and key numbers are small so that
/// operations collide often.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    Track {
        node: usize,
        session: u64,
        topic: u8,
        key: u8,
        meta: u8,
    },
    Untrack {
        node: usize,
        session: u64,
        topic: u8,
        key: u8,
    },
    Update {
        node: usize,
        session: u64,
        topic: u8,
        key: u8,
        meta: u8,
    },
    UntrackSession {
        node: usize,
        session: u64,
    },
    Tick {
        node: usize,
    },
    Deliver {
        index: usize,
    },
    Duplicate {
        index: usize,
    },
    Drop {
        index: usize,
    },
    Partition {
        mask: u8,
    },
    Heal,
    Advance {
        ms: u64,
    },
    Crash {
        node: usize,
    },
    Restart {
        node: usize,
        graceful: bool,
    },
    LinkDown {
        node: usize,
    },
    LinkUp {
        node: usize,
    },
}

pub(crate) fn topic(n: u8) -> String {
    format!("room:{n}")
}

pub(crate) fn key(n: u8) -> String {
    format!("user{n}")
}

/// Weighted towards tracking, ticking and delivering, so that most runs build up state
/// and move it around before something breaks.
pub(crate) fn op(nodes: usize) -> impl Strategy<Value = Op> {
    let node = 0..nodes;
    let session = 0u64..3;
    let topic = 0u8..2;
    let key = 0u8..3;
    prop_oneof![
        12 => (node.clone(), session.clone(), topic.clone(), key.clone(), any::<u8>())
            .prop_map(|(node, session, topic, key, meta)| Op::Track { node, session, topic, key, meta }),
        5 => (node.clone(), session.clone(), topic.clone(), key.clone())
            .prop_map(|(node, session, topic, key)| Op::Untrack { node, session, topic, key }),
        5 => (node.clone(), session.clone(), topic, key, any::<u8>())
            .prop_map(|(node, session, topic, key, meta)| Op::Update { node, session, topic, key, meta }),
        2 => (node.clone(), session).prop_map(|(node, session)| Op::UntrackSession { node, session }),
        14 => node.clone().prop_map(|node| Op::Tick { node }),
        18 => any::<usize>().prop_map(|index| Op::Deliver { index }),
        3 => any::<usize>().prop_map(|index| Op::Duplicate { index }),
        5 => any::<usize>().prop_map(|index| Op::Drop { index }),
        3 => any::<u8>().prop_map(|mask| Op::Partition { mask }),
        2 => Just(Op::Heal),
        5 => (20u64..800).prop_map(|ms| Op::Advance { ms }),
        1 => node.clone().prop_map(|node| Op::Crash { node }),
        2 => (node.clone(), any::<bool>()).prop_map(|(node, graceful)| Op::Restart { node, graceful }),
        1 => node.clone().prop_map(|node| Op::LinkDown { node }),
        1 => node.prop_map(|node| Op::LinkUp { node }),
    ]
}

/// A cluster size and a run on it.
pub(crate) fn run(max_ops: usize) -> impl Strategy<Value = (usize, Vec<Op>)> {
    (2usize..=5).prop_flat_map(move |nodes| {
        (
            Just(nodes),
            proptest::collection::vec(op(nodes), 1..max_ops),
        )
    })
}
