//! A small in-memory cluster for the example tests: shards named `a`, `b`, `c`…, a
//! queue that delivers in order, nodes that can be cut off or stopped.
#![allow(dead_code, reason = "each test crate uses part of it")]

use std::collections::{BTreeSet, VecDeque};

use cinder_presence::{Config, Diffs, Effects, Message, ReplicaRef, SessionId, Shard};
use serde_json::{Map, Value, json};

/// Ticks 100 ms apart; down after 600 ms of silence, forgotten after 2 s.
pub(crate) fn config() -> Config {
    Config {
        broadcast_period_ms: 100,
        max_silent_periods: 3,
        down_period_ms: 600,
        permdown_period_ms: 2_000,
        clock_sample_periods: 2,
        max_delta_sizes: vec![10, 100],
    }
}

pub(crate) fn meta(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub(crate) struct Net {
    pub(crate) shards: Vec<Shard>,
    pub(crate) now: u64,
    queue: VecDeque<(usize, usize, Message)>,
    /// Diffs emitted per node since the last [`Net::take_diffs`].
    diffs: Vec<Diffs>,
    /// Every message sent, per sender, since the last [`Net::take_sent`].
    sent: Vec<Vec<Message>>,
    /// Nodes whose messages in both directions are lost.
    pub(crate) cut: BTreeSet<usize>,
    /// Nodes that are not ticked.
    pub(crate) stopped: BTreeSet<usize>,
}

impl Net {
    pub(crate) fn new(size: usize) -> Self {
        let shards = (0..size)
            .map(|i| Shard::new(ReplicaRef::new(name(i), 1), config()).unwrap())
            .collect();
        Self {
            shards,
            now: 0,
            queue: VecDeque::new(),
            diffs: vec![Diffs::new(); size],
            sent: vec![Vec::new(); size],
            cut: BTreeSet::new(),
            stopped: BTreeSet::new(),
        }
    }

    /// Replaces node `i` by a new life with version `vsn` (a restart).
    pub(crate) fn restart(&mut self, i: usize, vsn: u64) {
        self.shards[i] = Shard::new(ReplicaRef::new(name(i), vsn), config()).unwrap();
        self.diffs[i] = Diffs::new();
    }

    pub(crate) fn track(&mut self, i: usize, topic: &str, session: u64, key: &str, value: Value) {
        let diffs = self.shards[i]
            .track(topic, SessionId(session), key, meta(value))
            .unwrap();
        self.diffs[i].append(diffs);
    }

    /// Records a call's diffs and queues its messages.
    pub(crate) fn effects(&mut self, from: usize, effects: Effects) {
        self.diffs[from].append(effects.diffs);
        for outbound in effects.outbound {
            self.sent[from].push(outbound.message.clone());
            match outbound.to {
                Some(to) => {
                    let to = index(&to);
                    self.queue.push_back((from, to, outbound.message));
                }
                None => {
                    for to in (0..self.shards.len()).filter(|to| *to != from) {
                        self.queue.push_back((from, to, outbound.message.clone()));
                    }
                }
            }
        }
    }

    pub(crate) fn deliver_all(&mut self) {
        while let Some((from, to, message)) = self.queue.pop_front() {
            if self.cut.contains(&from) || self.cut.contains(&to) || self.stopped.contains(&to) {
                continue;
            }
            let effects = self.shards[to].receive(message, self.now);
            self.effects(to, effects);
        }
    }

    /// One broadcast period: every running node ticks, then everything is delivered.
    pub(crate) fn round(&mut self) {
        self.now += config().broadcast_period_ms;
        for i in 0..self.shards.len() {
            if !self.stopped.contains(&i) {
                let effects = self.shards[i].tick(self.now);
                self.effects(i, effects);
            }
        }
        self.deliver_all();
    }

    pub(crate) fn rounds(&mut self, n: usize) {
        for _ in 0..n {
            self.round();
        }
    }

    /// `list(topic)` on node `i`, as JSON.
    pub(crate) fn list(&self, i: usize, topic: &str) -> Value {
        self.shards[i].list(topic).to_json()
    }

    /// The keys listed on node `i`.
    pub(crate) fn keys(&self, i: usize, topic: &str) -> Vec<String> {
        self.shards[i]
            .list(topic)
            .iter()
            .map(|(k, _)| k.to_owned())
            .collect()
    }

    /// Node `i`'s diffs since the last call, coalesced, as `presence_diff` JSON.
    pub(crate) fn take_diffs(&mut self, i: usize, topic: &str) -> Value {
        let diffs = std::mem::take(&mut self.diffs[i]);
        diffs
            .get(topic)
            .map_or_else(|| json!({"joins": {}, "leaves": {}}), |d| d.to_json())
    }

    /// Messages node `i` sent since the last call.
    pub(crate) fn take_sent(&mut self, i: usize) -> Vec<Message> {
        std::mem::take(&mut self.sent[i])
    }
}

pub(crate) fn name(i: usize) -> String {
    char::from(b'a' + u8::try_from(i).unwrap()).to_string()
}

fn index(replica: &ReplicaRef) -> usize {
    usize::from(replica.name().as_bytes()[0] - b'a')
}
