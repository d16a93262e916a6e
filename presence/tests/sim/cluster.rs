//! A cluster of simulated nodes, each one tracker shard, wired through [`Network`] and
//! checked after every call into a shard.

use std::collections::{BTreeMap, BTreeSet};

use cinder_presence::{Config, Dot, Effects, Message, Payload, ReplicaRef, SessionId, Shard};
use serde_json::{Map, Value, json};

use crate::network::{Envelope, Network};
use crate::observer::{Observer, normalize};
use crate::op::{Op, key, topic};

/// Ticks are 100 ms apart; idle nodes heartbeat every 4 ticks, peers go down after 6
/// silent ticks and are forgotten after 20. Small generation caps make transfers fall
/// back to the full state often.
pub(crate) fn config() -> Config {
    Config {
        broadcast_period_ms: 100,
        max_silent_periods: 3,
        down_period_ms: 600,
        permdown_period_ms: 2_000,
        clock_sample_periods: 2,
        max_delta_sizes: vec![4, 16, 64],
    }
}

/// Rounds of tick-and-deliver-everything after healing; each is one broadcast period.
const SETTLE_ROUNDS: usize = 40;
/// How many delivered messages are kept for the re-merge check.
const DELIVERED_LOG: usize = 4_000;

struct Node {
    /// `None` while crashed.
    shard: Option<Shard>,
    /// The last life's version; a restart takes the next one.
    vsn: u64,
    observer: Observer,
}

/// The whole simulated cluster.
pub(crate) struct Cluster {
    now: u64,
    nodes: Vec<Node>,
    net: Network,
    /// Entries their owners untracked or replaced, `phx_ref → tag`: the ground truth of
    /// removals.
    removed: BTreeMap<String, Dot>,
    /// Heartbeats and transfer answers delivered, with their recipient.
    delivered: Vec<(usize, Message)>,
    /// Observers of lives that ended, kept for the coalescing check.
    retired: Vec<Observer>,
}

fn name(index: usize) -> String {
    format!("n{index}")
}

fn index_of(replica: &ReplicaRef) -> usize {
    replica.name()[1..]
        .parse()
        .expect("simulated node names are n<index>")
}

/// The `phx_ref` and tag of an own row, if tracked.
fn own_tag(shard: &Shard, topic: &str, session: u64, key: &str) -> Option<(String, Dot)> {
    let tag = shard.state().tag_of(topic, SessionId(session), key)?;
    Some((shard.state().get(tag)?.phx_ref.clone(), tag.clone()))
}

fn meta(value: u8) -> Map<String, Value> {
    json!({ "v": value })
        .as_object()
        .cloned()
        .unwrap_or_default()
}

impl Cluster {
    pub(crate) fn new(size: usize) -> Self {
        let nodes = (0..size)
            .map(|i| Node {
                shard: Some(
                    Shard::new(ReplicaRef::new(name(i), 1), config()).expect("valid config"),
                ),
                vsn: 1,
                observer: Observer::default(),
            })
            .collect();
        Self {
            now: 0,
            nodes,
            net: Network::default(),
            removed: BTreeMap::new(),
            delivered: Vec::new(),
            retired: Vec::new(),
        }
    }

    fn shard(&mut self, node: usize) -> Option<&mut Shard> {
        self.nodes.get_mut(node).and_then(|n| n.shard.as_mut())
    }

    pub(crate) fn apply(&mut self, op: &Op) {
        let now = self.now;
        match *op {
            Op::Track {
                node,
                session,
                topic: t,
                key: k,
                meta: m,
            } => {
                if let Some(shard) = self.shard(node)
                    && let Ok(diffs) = shard.track(&topic(t), SessionId(session), &key(k), meta(m))
                {
                    self.emit(
                        node,
                        Effects {
                            diffs,
                            outbound: vec![],
                        },
                    );
                }
            }
            Op::Untrack {
                node,
                session,
                topic: t,
                key: k,
            } => {
                if let Some(shard) = self.shard(node) {
                    let tag = own_tag(shard, &topic(t), session, &key(k));
                    let diffs = shard.untrack(&topic(t), SessionId(session), &key(k));
                    self.removed.extend(tag);
                    self.emit(
                        node,
                        Effects {
                            diffs,
                            outbound: vec![],
                        },
                    );
                }
            }
            Op::Update {
                node,
                session,
                topic: t,
                key: k,
                meta: m,
            } => {
                if let Some(shard) = self.shard(node) {
                    let tag = own_tag(shard, &topic(t), session, &key(k));
                    if let Ok(diffs) = shard.update(&topic(t), SessionId(session), &key(k), meta(m))
                    {
                        self.removed.extend(tag);
                        self.emit(
                            node,
                            Effects {
                                diffs,
                                outbound: vec![],
                            },
                        );
                    }
                }
            }
            Op::UntrackSession { node, session } => {
                if let Some(shard) = self.shard(node) {
                    let me = shard.me().clone();
                    let tags: Vec<(String, Dot)> = shard
                        .state()
                        .entries()
                        .filter(|(dot, entry)| {
                            dot.replica == me && entry.session == SessionId(session)
                        })
                        .map(|(dot, entry)| (entry.phx_ref.clone(), dot.clone()))
                        .collect();
                    let diffs = shard.untrack_session(SessionId(session));
                    self.removed.extend(tags);
                    self.emit(
                        node,
                        Effects {
                            diffs,
                            outbound: vec![],
                        },
                    );
                }
            }
            Op::Tick { node } => {
                if let Some(shard) = self.shard(node) {
                    let effects = shard.tick(now);
                    self.emit(node, effects);
                }
            }
            Op::Deliver { index } => {
                if let Some(envelope) = self.net.take(index) {
                    self.deliver(envelope);
                }
            }
            Op::Duplicate { index } => self.net.duplicate(index),
            Op::Drop { index } => self.net.drop_message(index),
            Op::Partition { mask } => {
                let side = (0..self.nodes.len())
                    .filter(|i| mask & (1 << i) != 0)
                    .collect();
                self.net.partition(side);
            }
            Op::Heal => self.net.heal(),
            Op::Advance { ms } => self.now += ms,
            Op::Crash { node } => {
                if let Some(n) = self.nodes.get_mut(node)
                    && n.shard.take().is_some()
                {
                    self.retired.push(std::mem::take(&mut n.observer));
                }
            }
            Op::Restart { node, graceful } => {
                if graceful && let Some(effects) = self.shard(node).map(|s| s.leave_cluster()) {
                    self.emit(node, effects);
                }
                if let Some(n) = self.nodes.get_mut(node) {
                    n.vsn += 1;
                    n.shard = Some(
                        Shard::new(ReplicaRef::new(name(node), n.vsn), config())
                            .expect("valid config"),
                    );
                    self.retired.push(std::mem::take(&mut n.observer));
                }
            }
            Op::LinkDown { node } => {
                if let Some(shard) = self.shard(node) {
                    shard.link_down();
                }
            }
            Op::LinkUp { node } => {
                if let Some(effects) = self.shard(node).map(|s| s.link_up(now)) {
                    self.emit(node, effects);
                }
            }
        }
    }

    /// Hands a call's diffs to the node's subscribers (checking them), and its messages to
    /// the network, unless the node's link is down.
    fn emit(&mut self, node: usize, effects: Effects) {
        let size = self.nodes.len();
        let Some(n) = self.nodes.get_mut(node) else {
            return;
        };
        let Some(shard) = n.shard.as_ref() else {
            return;
        };
        n.observer
            .observe(&effects.diffs, shard.state(), &self.removed);
        if !shard.is_link_up() {
            return;
        }
        for outbound in effects.outbound {
            match outbound.to {
                Some(to) => self.net.send(Envelope {
                    from: node,
                    to: index_of(&to),
                    message: outbound.message,
                }),
                None => {
                    for to in (0..size).filter(|to| *to != node) {
                        self.net.send(Envelope {
                            from: node,
                            to,
                            message: outbound.message.clone(),
                        });
                    }
                }
            }
        }
    }

    fn deliver(&mut self, envelope: Envelope) {
        let Envelope { from, to, message } = envelope;
        if self.net.separates(from, to) {
            return;
        }
        let now = self.now;
        if !self.shard(to).is_some_and(|shard| shard.is_link_up()) {
            return;
        }
        let removals = self.removal_records(to, &message);
        let Some(shard) = self.shard(to) else { return };
        let effects = shard.receive(message.clone(), now);
        let node = &mut self.nodes[to];
        if let Some(shard) = node.shard.as_ref() {
            node.observer.removals_merged(removals, shard.state());
        }
        if let Message::TransferReq {
            from: requester,
            clocks,
            ..
        } = &message
        {
            self.check_generation_agrees_with_full_state(to, requester, clocks, &effects);
        }
        if matches!(
            message,
            Message::Heartbeat { .. } | Message::TransferAck { .. }
        ) && self.delivered.len() < DELIVERED_LOG
        {
            self.delivered.push((to, message));
        }
        self.emit(to, effects);
    }

    /// The removed tags whose removal `message` carries, if node `to` will merge it (not
    /// stale, addressed to this life).
    fn removal_records(&self, to: usize, message: &Message) -> Vec<Dot> {
        let Some(shard) = self.nodes[to].shard.as_ref() else {
            return vec![];
        };
        let from = message.from();
        let stale = from.same_node(shard.me())
            || shard
                .peers()
                .any(|(peer, _)| peer.same_node(from) && from.vsn() < peer.vsn());
        let removed = self.removed.values();
        match message {
            _ if stale => vec![],
            Message::Heartbeat {
                delta: Some(delta), ..
            }
            | Message::TransferAck {
                payload: Payload::Delta(delta),
                ..
            } => {
                if matches!(message, Message::TransferAck { to, .. } if to != shard.me()) {
                    return vec![];
                }
                removed
                    .filter(|dot| delta.dots().contains(dot) && !delta.values().contains_key(dot))
                    .cloned()
                    .collect()
            }
            Message::TransferAck {
                to,
                payload: Payload::Full(extract),
                ..
            } if to == shard.me() => removed
                .filter(|dot| {
                    let observed = extract.clock().get(&dot.replica) >= dot.counter
                        || extract.clouds().contains(dot);
                    observed && !extract.values().contains_key(dot)
                })
                .cloned()
                .collect(),
            _ => vec![],
        }
    }

    /// When a transfer is answered with a generation, merging it and then the full state
    /// gives the requester exactly what merging the full state alone gives: the
    /// generation never contradicts the holder's state.
    fn check_generation_agrees_with_full_state(
        &self,
        holder: usize,
        requester: &ReplicaRef,
        clocks: &cinder_presence::Clock,
        effects: &Effects,
    ) {
        let Some(holder) = self.nodes[holder].shard.as_ref() else {
            return;
        };
        let Some(asker) = self
            .nodes
            .get(index_of(requester))
            .and_then(|n| n.shard.as_ref())
        else {
            return;
        };
        if asker.me() != requester {
            return;
        }
        for outbound in &effects.outbound {
            if let Message::TransferAck {
                payload: Payload::Delta(delta),
                ..
            } = &outbound.message
            {
                let full = holder.state().extract(clocks);
                let mut with_delta = asker.state().clone();
                with_delta.merge_delta(delta);
                with_delta.merge_extract(&full);
                let mut full_only = asker.state().clone();
                full_only.merge_extract(&full);
                assert_eq!(
                    with_delta,
                    full_only,
                    "generation from {} contradicts its full state",
                    holder.me()
                );
            }
        }
    }

    /// Heals the network and every link, then ticks every node and delivers every message,
    /// in order, for [`SETTLE_ROUNDS`] periods.
    pub(crate) fn settle(&mut self) {
        self.net.heal();
        for node in 0..self.nodes.len() {
            let now = self.now;
            if let Some(effects) = self.shard(node).map(|s| s.link_up(now)) {
                self.emit(node, effects);
            }
        }
        for _ in 0..SETTLE_ROUNDS {
            self.now += config().broadcast_period_ms;
            for node in 0..self.nodes.len() {
                let now = self.now;
                if let Some(effects) = self.shard(node).map(|s| s.tick(now)) {
                    self.emit(node, effects);
                }
            }
            while let Some(envelope) = self.net.take_oldest() {
                self.deliver(envelope);
            }
        }
    }

    fn live(&self) -> impl Iterator<Item = &Shard> {
        self.nodes.iter().filter_map(|n| n.shard.as_ref())
    }

    /// Every live node lists, for every topic, exactly the union of the live owners' own
    /// entries: nothing of an old life, a crashed node or a removed entry.
    pub(crate) fn check_converged(&self) {
        let mut expected: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        for shard in self.live() {
            for entry in shard.state().own_entries() {
                let by_key = expected.entry(entry.topic.clone()).or_default();
                let presence = by_key
                    .entry(entry.key.clone())
                    .or_insert_with(|| json!({"metas": []}));
                if let Some(metas) = presence.get_mut("metas").and_then(Value::as_array_mut) {
                    metas.push(entry.client_meta());
                }
            }
        }
        let topics: BTreeSet<String> = expected
            .keys()
            .cloned()
            .chain(
                self.live()
                    .flat_map(|s| s.state().topics().map(str::to_owned).collect::<Vec<_>>()),
            )
            .collect();
        for shard in self.live() {
            for topic in &topics {
                let want = expected.get(topic).cloned().unwrap_or_default();
                assert_eq!(
                    normalize(&shard.list(topic).to_json()),
                    normalize(&Value::Object(want)),
                    "{} has not converged on {topic}",
                    shard.me()
                );
            }
        }
    }

    /// Delivering any heartbeat or transfer answer again, once converged, emits nothing.
    /// Only messages from lives still running count: a late heartbeat of a forgotten life
    /// is indistinguishable from a partition healing after the permdown period.
    pub(crate) fn check_remerge_is_silent(&mut self) {
        let now = self.now;
        let delivered = std::mem::take(&mut self.delivered);
        for (to, message) in delivered {
            let sender = message.from().clone();
            let sender_live = self.nodes[index_of(&sender)]
                .shard
                .as_ref()
                .is_some_and(|s| *s.me() == sender);
            let Some(shard) = self.nodes[to].shard.as_mut() else {
                continue;
            };
            let addressed = match &message {
                Message::TransferAck { to, .. } => to == shard.me(),
                _ => true,
            };
            if sender_live && addressed {
                let effects = shard.receive(message, now);
                assert!(
                    effects.diffs.is_empty(),
                    "{}: re-merging from {sender} emitted {:?}",
                    shard.me(),
                    effects.diffs
                );
            }
        }
    }

    /// Coalesced replays match raw replays, for every life.
    pub(crate) fn check_coalescing(&self) {
        for observer in self
            .retired
            .iter()
            .chain(self.nodes.iter().map(|n| &n.observer))
        {
            observer.check_coalescing();
        }
    }
}
