//! One tracker shard: the CRDT plus the heartbeat loop, catch-up transfers and the
//! replica lifecycle, driven by the caller's clock and messages (no tasks, no I/O).
//!
//! The caller (the transport, or a test's simulator) calls [`Shard::tick`] every
//! `broadcast_period_ms`, hands every received message to [`Shard::receive`], and
//! sends what comes back in [`Effects::outbound`]: broadcasts to the shard of the same
//! index on every other node, direct messages to one node. [`Effects::diffs`] are the
//! presence diffs to push to this node's subscribers.
//!
//! **Redis outages.** With Redis as the hub, losing our own link looks like every peer
//! dying at once: a leave storm, then a join storm. So while [`Shard::link_down`] is in
//! effect the shard neither declares peers down nor broadcasts (its changes accumulate
//! in the pending delta); [`Shard::link_up`] counts every peer as heard at that moment
//! and asks every peer for a transfer.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;

use serde_json::{Map, Value};
use tracing::debug;
use xxhash_rust::xxh3::xxh3_64;

use crate::clock::{Clock, transfer_targets};
use crate::config::Config;
use crate::crdt::State;
use crate::delta::Delta;
use crate::diff::Diffs;
use crate::entry::SessionId;
use crate::error::Error;
use crate::generation::Generations;
use crate::message::{Message, Outbound, Payload};
use crate::peer::{Arrival, Expiry, PeerStatus, Peers};
use crate::presence_state::PresenceState;
use crate::replica::ReplicaRef;

/// The shard (of `pool_size`) that owns `topic`. Stable across processes and builds
/// (xxh3), so every node agrees; `pool_size` must be the same on every node.
pub fn shard_for(topic: &str, pool_size: NonZeroUsize) -> usize {
    let index = xxh3_64(topic.as_bytes()) % pool_size.get() as u64;
    // The remainder is below `pool_size`, which is a `usize`.
    usize::try_from(index).unwrap_or(0)
}

/// What a call into the shard produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Joins and leaves to push to local subscribers, per topic.
    pub diffs: Diffs,
    /// Messages to send to peers.
    pub outbound: Vec<Outbound>,
}

impl Effects {
    fn broadcast(&mut self, message: Message) {
        self.outbound.push(Outbound { to: None, message });
    }

    fn direct(&mut self, to: ReplicaRef, message: Message) {
        self.outbound.push(Outbound {
            to: Some(to),
            message,
        });
    }
}

/// One tracker shard on one node.
#[derive(Clone, Debug)]
pub struct Shard {
    config: Config,
    state: State,
    peers: Peers,
    generations: Generations,
    /// Clocks from heartbeats since the last transfer decision, by sender.
    heard: BTreeMap<ReplicaRef, Clock>,
    /// Ticks since the last heartbeat we sent.
    silent_periods: u32,
    /// Ticks since start, for the sampling cadence.
    ticks: u64,
    /// Whether our own link to the cluster is up.
    link_up: bool,
}

impl Shard {
    /// A shard for the replica `me` (a fresh `vsn` at every start).
    pub fn new(me: ReplicaRef, config: Config) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            generations: Generations::new(&config.max_delta_sizes),
            peers: Peers::new(me.clone()),
            state: State::new(me),
            heard: BTreeMap::new(),
            // As in Phoenix: the first tick heartbeats, so peers learn of a new life at
            // once instead of after `max_silent_periods`.
            silent_periods: config.max_silent_periods,
            ticks: 0,
            link_up: true,
            config,
        })
    }

    /// This replica.
    pub fn me(&self) -> &ReplicaRef {
        self.state.me()
    }

    /// The CRDT, for reading.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The visible presences of `topic`.
    pub fn list(&self, topic: &str) -> PresenceState {
        self.state.list(topic)
    }

    /// Every peer's current life and status.
    pub fn peers(&self) -> impl Iterator<Item = (ReplicaRef, PeerStatus)> + '_ {
        self.peers.iter()
    }

    // === local operations (peers hear of them on the next tick) ===

    /// See [`State::track`].
    pub fn track(
        &mut self,
        topic: &str,
        session: SessionId,
        key: &str,
        meta: Map<String, Value>,
    ) -> Result<Diffs, Error> {
        self.state.track(topic, session, key, meta)
    }

    /// See [`State::untrack`].
    pub fn untrack(&mut self, topic: &str, session: SessionId, key: &str) -> Diffs {
        self.state.untrack(topic, session, key)
    }

    /// See [`State::untrack_session`].
    pub fn untrack_session(&mut self, session: SessionId) -> Diffs {
        self.state.untrack_session(session)
    }

    /// See [`State::update`].
    pub fn update(
        &mut self,
        topic: &str,
        session: SessionId,
        key: &str,
        meta: Map<String, Value>,
    ) -> Result<Diffs, Error> {
        self.state.update(topic, session, key, meta)
    }

    /// Announces that this replica leaves for good, so peers forget it at once. Send it
    /// only after the sessions have drained elsewhere.
    pub fn leave_cluster(&self) -> Effects {
        let mut effects = Effects::default();
        effects.broadcast(Message::GracefulPermdown {
            from: self.me().clone(),
        });
        effects
    }

    // === the broadcast loop ===

    /// One broadcast period: send the pending delta (or an idle heartbeat), decide on
    /// transfers every `clock_sample_periods`, and mark silent peers down or gone.
    /// Does nothing while our link is down.
    pub fn tick(&mut self, now: u64) -> Effects {
        let mut effects = Effects::default();
        if !self.link_up {
            return effects;
        }
        match self.state.take_delta() {
            Some(delta) => {
                self.generations.push(&delta);
                self.heartbeat(Some(delta), &mut effects);
            }
            None if self.silent_periods >= self.config.max_silent_periods => {
                self.heartbeat(None, &mut effects);
            }
            None => self.silent_periods += 1,
        }
        self.ticks += 1;
        if self
            .ticks
            .is_multiple_of(u64::from(self.config.clock_sample_periods))
        {
            self.request_transfers(&mut effects);
        }
        self.detect_downs(now, &mut effects);
        effects
    }

    fn heartbeat(&mut self, delta: Option<Delta>, effects: &mut Effects) {
        self.silent_periods = 0;
        effects.broadcast(Message::Heartbeat {
            from: self.me().clone(),
            clocks: self.state.clocks(),
            delta,
        });
    }

    fn request_transfers(&mut self, effects: &mut Effects) {
        let clocks = self.state.clocks();
        for target in transfer_targets(&clocks, &self.heard) {
            debug!(from = %self.me(), to = %target, "transfer requested");
            effects.direct(
                target.clone(),
                Message::TransferReq {
                    from: self.me().clone(),
                    to: target,
                    clocks: clocks.clone(),
                },
            );
        }
        self.heard.clear();
    }

    fn detect_downs(&mut self, now: u64, effects: &mut Effects) {
        let changes = self.peers.expire(
            now,
            self.config.down_period_ms,
            self.config.permdown_period_ms,
        );
        for change in changes {
            match change {
                Expiry::Down(replica) => {
                    debug!(me = %self.me(), peer = %replica, "peer down");
                    effects.diffs.append(self.state.replica_down(&replica));
                }
                Expiry::Gone(replica) => {
                    debug!(me = %self.me(), peer = %replica, "peer permanently down");
                    self.forget(&replica, effects);
                }
            }
        }
    }

    // === receiving ===

    /// Handles one message from a peer at `now`.
    pub fn receive(&mut self, message: Message, now: u64) -> Effects {
        let mut effects = Effects::default();
        match message {
            Message::Heartbeat {
                from,
                clocks,
                delta,
            } => self.on_heartbeat(from, clocks, delta.as_ref(), now, &mut effects),
            Message::TransferReq { from, to, clocks } => {
                if to == *self.me()
                    && !self.peers.is_stale(&from)
                    && let Some(payload) = self.catch_up(&clocks)
                {
                    effects.direct(
                        from.clone(),
                        Message::TransferAck {
                            from: self.me().clone(),
                            to: from,
                            payload,
                        },
                    );
                }
            }
            Message::TransferAck { from, to, payload } => {
                if to == *self.me() && !self.peers.is_stale(&from) {
                    match payload {
                        Payload::Delta(delta) => {
                            effects.diffs.append(self.state.merge_delta(&delta));
                        }
                        Payload::Full(extract) => {
                            effects.diffs.append(self.state.merge_extract(&extract));
                            self.generations.clear();
                        }
                    }
                }
            }
            Message::GracefulPermdown { from } => {
                if let Some(old) = self.peers.leave(&from, now) {
                    debug!(me = %self.me(), peer = %old, "peer left gracefully");
                    self.forget(&old, &mut effects);
                }
            }
        }
        effects
    }

    fn on_heartbeat(
        &mut self,
        from: ReplicaRef,
        clocks: Clock,
        delta: Option<&Delta>,
        now: u64,
        effects: &mut Effects,
    ) {
        match self.peers.heartbeat(&from, now) {
            Arrival::Stale => return,
            Arrival::Known => {}
            Arrival::New => {
                debug!(me = %self.me(), peer = %from, "peer up");
                effects.diffs.append(self.state.replica_up(&from));
            }
            Arrival::Recovered => {
                debug!(me = %self.me(), peer = %from, "peer back up");
                effects.diffs.append(self.state.replica_up(&from));
            }
            Arrival::Replaced { old } => {
                if let Some(old) = old {
                    debug!(me = %self.me(), old = %old, new = %from, "peer restarted");
                    self.forget(&old, effects);
                }
                effects.diffs.append(self.state.replica_up(&from));
            }
        }
        if let Some(delta) = delta {
            effects.diffs.append(self.state.merge_delta(delta));
            // Kept for answering catch-up requests, minus what we could not accept.
            let mut kept = delta.clone();
            kept.retain_replicas(|r| self.state.knows(r));
            self.generations.push(&kept);
        }
        self.heard.insert(from, clocks);
    }

    /// What a peer whose clock is `clocks` lacks, restricted to the replicas it knows:
    /// the smallest delta generation that starts no later than its clock and reaches
    /// everything we have published, else the full state; `None` if its clock already
    /// covers ours. This is the answer to a [`Message::TransferReq`].
    ///
    /// Phoenix picks the first generation that is non-empty, starts at or below the
    /// requester and is not dominated by it. Cinder also requires the generation to
    /// reach our published clock, so one answer always closes the gap; otherwise the
    /// requester would ask again on its next sample.
    pub fn catch_up(&self, clocks: &Clock) -> Option<Payload> {
        let theirs = clocks.restricted_to(self.state.context());
        let ours = self.state.published_context().restricted_to(&theirs);
        if theirs.covers(&ours) {
            return None;
        }
        let fits = |delta: &Delta| {
            let no_gap = delta
                .spans()
                .iter()
                .filter(|(r, _)| theirs.contains(r))
                .all(|(r, span)| span.after <= theirs.get(r));
            let reaches = ours.iter().all(|(r, counter)| {
                counter <= theirs.get(r)
                    || delta
                        .spans()
                        .get(r)
                        .is_some_and(|span| span.through >= counter)
            });
            no_gap && reaches
        };
        match self.generations.iter().find(|delta| fits(delta)) {
            Some(delta) => Some(Payload::Delta(delta.restricted_to(&theirs))),
            None => Some(Payload::Full(self.state.extract(&theirs))),
        }
    }

    fn forget(&mut self, replica: &ReplicaRef, effects: &mut Effects) {
        effects.diffs.append(self.state.permdown(replica));
        self.generations.forget(replica);
        self.heard.remove(replica);
    }

    // === our own link ===

    /// Our link to the cluster (Redis) is down: stop broadcasting and stop judging
    /// peers, whose silence is now ours.
    pub fn link_down(&mut self) {
        self.link_up = false;
    }

    /// Our link is back at `now`: every peer counts as heard now, and every peer not
    /// gone is asked for a transfer, since anything may have been lost meanwhile. The
    /// next tick heartbeats, so peers that marked us down see us up again within one
    /// broadcast period instead of after `max_silent_periods`.
    pub fn link_up(&mut self, now: u64) -> Effects {
        if self.link_up {
            return Effects::default();
        }
        self.link_up = true;
        self.silent_periods = self.config.max_silent_periods;
        self.resync(now)
    }

    /// Messages from peers may have been lost at `now` (the transport reported a gap):
    /// every peer counts as heard now, and every peer not gone is asked for a transfer.
    /// Does nothing while our link is down; [`Shard::link_up`] resyncs when it returns.
    pub fn resync(&mut self, now: u64) -> Effects {
        let mut effects = Effects::default();
        if !self.link_up {
            return effects;
        }
        self.peers.forgive(now);
        let clocks = self.state.clocks();
        let peers: Vec<ReplicaRef> = self
            .peers
            .iter()
            .filter(|(_, status)| *status != PeerStatus::Gone)
            .map(|(r, _)| r)
            .collect();
        for peer in peers {
            effects.direct(
                peer.clone(),
                Message::TransferReq {
                    from: self.me().clone(),
                    to: peer,
                    clocks: clocks.clone(),
                },
            );
        }
        effects
    }

    /// Whether our link is up.
    pub fn is_link_up(&self) -> bool {
        self.link_up
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_for_is_stable_and_in_range() {
        let pool = NonZeroUsize::new(8).unwrap();
        let index = shard_for("room:lobby", pool);
        assert!(index < 8);
        assert_eq!(index, shard_for("room:lobby", pool));
        assert_eq!(shard_for("anything", NonZeroUsize::new(1).unwrap()), 0);
    }
}
