//! The presence CRDT: one shard's replicated set of entries (Phoenix.Tracker.State).
//!
//! # Design
//!
//! Every entry has exactly one owner, the node of the session that tracked it; only the
//! owner adds or removes it. So there are no concurrent writes to one element, and the
//! CRDT's job is narrower than a general set's: spread adds and removes to every node
//! without ghosts, whatever the network does to the messages (reorder, duplicate, drop,
//! split, restart).
//!
//! The state is a delta-state observed-remove set over **dots**. Each replica (a node
//! name plus a `vsn` that is new at every start) numbers its events 1, 2, 3…; the pair
//! `(replica, n)` is a dot. Tracking mints a dot and stores the entry under it (its
//! *tag*); untracking mints a dot too. The **causal context** records every dot a state
//! has observed, as a contiguous clock per replica plus *clouds* for dots seen above a
//! gap. The rule that makes it work: **an observed dot without a value is removed**. So
//! a merge accepts a remote value only if its dot is new here, and drops a local value
//! when the remote has observed the dot but does not hold it. No tombstone is stored;
//! the context is the tombstone.
//!
//! Between heartbeats the state collects a [`Delta`]: every dot minted since the last
//! one, with the values that are still live. Untracking puts the entry's old tag into
//! the delta's dots without a value, which is the removal record. Deltas are merged on
//! receipt; a lost delta shows up as a gap in the receiver's clock, which the clock
//! comparison in [`crate::Shard`] turns into a catch-up transfer (a generation or the
//! full [`Extract`]).
//!
//! Values of replicas the state does not know are dropped, and so are their dots: a
//! state never claims history it did not keep. That keeps the data of a permanently
//! gone life (or of an old `vsn`) from coming back through a third node. A replica
//! marked *down* keeps its values, hidden from [`State::list`]; they reappear as joins
//! if it comes back with the same `vsn`.
//!
//! # Where Cinder differs from Phoenix
//!
//! - **Removed dots stay in the context.** Phoenix deletes a removed dot from the cloud
//!   on merge. If the context has a gap below that dot, the dot is then unobserved
//!   again, and a stale copy of the value held by a third replica is accepted as a
//!   fresh join until a later transfer removes it (phoenix_pubsub PR #111). Here a dot,
//!   once observed, stays observed until its replica is forgotten.
//! - **Removals walk the delta, not the state.** Phoenix scans every non-local value on
//!   each merge. Values are stored by tag, so a delta merge looks up each of the
//!   delta's dots instead: the cost follows the delta's size, not the cluster's.
//!
//! # A worked example
//!
//! Two replicas, `a@1` and `b@1`, that have heard each other's heartbeat, so each
//! knows the other with counter 0: both clocks are `{a: 0, b: 0}`.
//!
//! 1. A session on `a` tracks `alice` on `room:lobby` with `{"status": "online"}`. `a`
//!    bumps to `{a: 1}` and stores the entry under the tag `(a, 1)`, whose `phx_ref`
//!    is derived from the tag (call it `R1`). `a` lists
//!    `{"alice": {"metas": [{"status": "online", "phx_ref": "R1"}]}}` and emits the
//!    diff `{"joins": {"alice": …}, "leaves": {}}` at once; `b` lists `{}`.
//! 2. On `a`'s next tick its delta goes out: dots `{(a, 1)}`, values
//!    `{(a, 1): alice}`, span `a: (0, 1]`. `b` has not observed `(a, 1)` and knows
//!    `a`, so it accepts the value and emits the same join. Both list alice; both
//!    clocks are `{a: 1, b: 0}`.
//! 3. The session leaves. `a` drops the value and bumps to `{a: 2}`; its delta has
//!    dots `{(a, 1), (a, 2)}` and no values, span `a: (1, 2]`. `a` lists `{}` and
//!    emits `{"joins": {}, "leaves": {"alice": {"metas": [… "R1"]}}}`.
//! 4. `b` merges that delta: `(a, 1)` is in the delta's dots without a value and `b`
//!    holds it, so it is removed, and `b` emits the same leave. Both list `{}`; both
//!    clocks are `{a: 2, b: 0}`.
//!
//! If step 2's delta arrives *after* step 3's (reordered), `b` has already observed
//! `(a, 1)` through the removal record, so the late value is refused: no ghost. If
//! step 3's delta is lost, `b` keeps listing alice until `a`'s heartbeat clock
//! `{a: 2}` shows `b` it is behind; `b` asks `a` for a transfer and the answer (a
//! generation spanning `a: (1, 2]`, or the full state with clock `{a: 2}` and no
//! value for `(a, 1)`) removes alice the same way.
//!
//! ```
//! use cinder_presence::{ReplicaRef, SessionId, State};
//! use serde_json::json;
//!
//! let (a_ref, b_ref) = (ReplicaRef::new("a", 1), ReplicaRef::new("b", 1));
//! let (mut a, mut b) = (State::new(a_ref.clone()), State::new(b_ref.clone()));
//! a.replica_up(&b_ref);
//! b.replica_up(&a_ref);
//!
//! let meta = json!({"status": "online"}).as_object().cloned().unwrap_or_default();
//! a.track("room:lobby", SessionId(1), "alice", meta)?;
//! let join = a.take_delta().expect("a tracked something");
//! let diffs = b.merge_delta(&join);
//! assert!(diffs.get("room:lobby").is_some_and(|d| d.joins().contains_key("alice")));
//! assert_eq!(a.list("room:lobby"), b.list("room:lobby"));
//!
//! a.untrack("room:lobby", SessionId(1), "alice");
//! let leave = a.take_delta().expect("a untracked something");
//! b.merge_delta(&leave);
//! assert!(b.list("room:lobby").is_empty());
//!
//! // The join again, late or duplicated: refused, b already observed (a, 1).
//! assert!(b.merge_delta(&join).is_empty());
//! assert!(b.list("room:lobby").is_empty());
//! # Ok::<(), cinder_presence::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::clock::{Clock, Dot};
use crate::context::Context;
use crate::delta::{Delta, Extract, Span};
use crate::diff::Diffs;
use crate::entry::{Entry, SessionId, phx_ref_for};
use crate::error::Error;
use crate::presence_state::PresenceState;
use crate::replica::ReplicaRef;

/// An owned row: `(topic, session, key)`, unique per replica.
type Row = (String, SessionId, String);

/// One shard's presence CRDT, as one replica sees it. Pure: no clock, no I/O.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// This replica.
    me: ReplicaRef,
    /// Every dot observed.
    context: Context,
    /// Live entries by tag, own and remote, visible or hidden. Being keyed by tag, this
    /// is also the `dot → row` index that removals walk.
    values: BTreeMap<Dot, Arc<Entry>>,
    /// Tags per topic, for `list`.
    by_topic: BTreeMap<String, BTreeSet<Dot>>,
    /// Own rows, for refusing double tracks and for untrack/update.
    rows: BTreeMap<Row, Dot>,
    /// Own tags per session, for untracking everything a session tracked.
    by_session: BTreeMap<SessionId, BTreeSet<Dot>>,
    /// Replicas marked down: their values are kept but hidden.
    down: BTreeSet<ReplicaRef>,
    /// Own changes since the last [`State::take_delta`].
    delta: Delta,
    /// Own counter when the pending delta started.
    delta_after: u64,
}

impl State {
    /// A fresh replica that knows only itself.
    pub fn new(me: ReplicaRef) -> Self {
        let mut context = Context::default();
        context.learn(&me);
        Self {
            me,
            context,
            values: BTreeMap::new(),
            by_topic: BTreeMap::new(),
            rows: BTreeMap::new(),
            by_session: BTreeMap::new(),
            down: BTreeSet::new(),
            delta: Delta::default(),
            delta_after: 0,
        }
    }

    /// This replica.
    pub fn me(&self) -> &ReplicaRef {
        &self.me
    }

    // === local operations ===

    /// Tracks `key` for `session` on `topic`; the returned diff is the local join.
    ///
    /// Fails with [`Error::AlreadyTracked`] if the session already tracks that key on
    /// that topic.
    pub fn track(
        &mut self,
        topic: &str,
        session: SessionId,
        key: &str,
        meta: Map<String, Value>,
    ) -> Result<Diffs, Error> {
        if self.rows.contains_key(&row(topic, session, key)) {
            return Err(Error::AlreadyTracked {
                topic: topic.to_owned(),
                key: key.to_owned(),
            });
        }
        let tag = self.bump();
        let entry = Arc::new(Entry {
            topic: topic.to_owned(),
            key: key.to_owned(),
            session,
            meta,
            phx_ref: phx_ref_for(&tag),
            phx_ref_prev: None,
        });
        self.insert_value(tag.clone(), Arc::clone(&entry));
        self.delta.values.insert(tag, Arc::clone(&entry));
        let mut diffs = Diffs::new();
        diffs.join(entry);
        Ok(diffs)
    }

    /// Stops tracking `key` for `session` on `topic`; the returned diff is the local
    /// leave. Untracking something not tracked changes nothing, as in Phoenix.
    pub fn untrack(&mut self, topic: &str, session: SessionId, key: &str) -> Diffs {
        let mut diffs = Diffs::new();
        if let Some(tag) = self.rows.get(&row(topic, session, key)).cloned() {
            if let Some(old) = self.remove_own(&tag) {
                diffs.leave(old);
            }
            self.bump();
        }
        diffs
    }

    /// Untracks everything `session` tracked (the session ended).
    pub fn untrack_session(&mut self, session: SessionId) -> Diffs {
        let tags: Vec<Dot> = self
            .by_session
            .get(&session)
            .map(|tags| tags.iter().cloned().collect())
            .unwrap_or_default();
        let mut diffs = Diffs::new();
        for tag in tags {
            if let Some(old) = self.remove_own(&tag) {
                diffs.leave(old);
            }
            self.bump();
        }
        diffs
    }

    /// Replaces the meta of a tracked key: an atomic leave of the old entry and join of
    /// a new one under a new tag and `phx_ref`, carrying the old one as `phx_ref_prev`.
    ///
    /// Fails with [`Error::NotTracked`] if there is no such row.
    pub fn update(
        &mut self,
        topic: &str,
        session: SessionId,
        key: &str,
        meta: Map<String, Value>,
    ) -> Result<Diffs, Error> {
        let Some(tag) = self.rows.get(&row(topic, session, key)).cloned() else {
            return Err(Error::NotTracked {
                topic: topic.to_owned(),
                key: key.to_owned(),
            });
        };
        let mut diffs = Diffs::new();
        let prev = self.remove_own(&tag);
        // One dot for the removal, one for the new tag, as Phoenix bumps twice.
        self.bump();
        let new_tag = self.bump();
        let entry = Arc::new(Entry {
            topic: topic.to_owned(),
            key: key.to_owned(),
            session,
            meta,
            phx_ref: phx_ref_for(&new_tag),
            phx_ref_prev: prev.as_ref().map(|p| p.phx_ref.clone()),
        });
        self.insert_value(new_tag.clone(), Arc::clone(&entry));
        self.delta.values.insert(new_tag, Arc::clone(&entry));
        diffs.join(entry);
        if let Some(prev) = prev {
            diffs.leave(prev);
        }
        Ok(diffs)
    }

    /// Takes the own changes since the last call, if any, and starts a new delta.
    pub fn take_delta(&mut self) -> Option<Delta> {
        if self.delta.is_empty() {
            return None;
        }
        self.delta_after = self.context.clock().get(&self.me);
        Some(std::mem::take(&mut self.delta))
    }

    // === merging ===

    /// Merges a remote delta; returns the joins and leaves it caused here.
    ///
    /// Merging the same delta again changes nothing and emits nothing, and deltas may be
    /// merged in any order.
    pub fn merge_delta(&mut self, delta: &Delta) -> Diffs {
        let mut diffs = Diffs::new();
        for (dot, entry) in &delta.values {
            self.accept(dot, entry, &mut diffs);
        }
        for dot in &delta.dots {
            if dot.replica != self.me && !delta.values.contains_key(dot) {
                self.drop_remote(dot, &mut diffs);
            }
        }
        for dot in delta.dots.iter().chain(delta.values.keys()) {
            if dot.replica != self.me {
                self.context.insert(dot);
            }
        }
        diffs
    }

    /// Everything this state knows about the replicas `known_by` has an entry for: the
    /// full-state answer to a catch-up request (Phoenix's `extract`). Values of replicas
    /// this state sees as down are included; the requester decides for itself.
    pub fn extract(&self, known_by: &Clock) -> Extract {
        let clock = self.context.clock().restricted_to(known_by);
        let clouds = clock
            .iter()
            .flat_map(|(r, _)| self.context.cloud(r))
            .collect();
        let values = self
            .values
            .iter()
            .filter(|(dot, _)| clock.contains(&dot.replica))
            .map(|(dot, entry)| (dot.clone(), Arc::clone(entry)))
            .collect();
        Extract {
            clock,
            clouds,
            values,
        }
    }

    /// Merges a full state from another replica; returns the joins and leaves it caused.
    pub fn merge_extract(&mut self, extract: &Extract) -> Diffs {
        let mut diffs = Diffs::new();
        for (dot, entry) in &extract.values {
            self.accept(dot, entry, &mut diffs);
        }
        // A full state covers whole replicas, so removals are found by walking our values
        // of each replica it describes.
        let removed: Vec<Dot> = extract
            .clock
            .iter()
            .filter(|(r, _)| **r != self.me)
            .flat_map(|(r, _)| self.values_of(r))
            .filter(|(dot, _)| extract.observes(dot) && !extract.values.contains_key(dot))
            .map(|(dot, _)| dot.clone())
            .collect();
        for dot in &removed {
            self.drop_remote(dot, &mut diffs);
        }
        for (r, counter) in extract.clock.iter() {
            if *r != self.me {
                self.context.raise(r, counter);
            }
        }
        for dot in &extract.clouds {
            if dot.replica != self.me {
                self.context.insert(dot);
            }
        }
        diffs
    }

    // === replica lifecycle ===

    /// Makes `replica` known (counter 0) if it was not, and shows its entries again if it
    /// was down (joins).
    pub fn replica_up(&mut self, replica: &ReplicaRef) -> Diffs {
        let mut diffs = Diffs::new();
        if *replica == self.me {
            return diffs;
        }
        self.context.learn(replica);
        if self.down.remove(replica) {
            for (_, entry) in self.values_of(replica) {
                diffs.join(Arc::clone(entry));
            }
        }
        diffs
    }

    /// Hides `replica`'s entries (leaves) but keeps them, in case it comes back.
    pub fn replica_down(&mut self, replica: &ReplicaRef) -> Diffs {
        let mut diffs = Diffs::new();
        if *replica == self.me || !self.context.knows(replica) {
            return diffs;
        }
        if self.down.insert(replica.clone()) {
            for (_, entry) in self.values_of(replica) {
                diffs.leave(Arc::clone(entry));
            }
        }
        diffs
    }

    /// Forgets `replica`: its values, its clock entry and its clouds. Leaves for its
    /// entries if they were visible.
    pub fn permdown(&mut self, replica: &ReplicaRef) -> Diffs {
        let mut diffs = Diffs::new();
        if *replica == self.me {
            return diffs;
        }
        let was_visible = !self.down.remove(replica);
        let tags: Vec<Dot> = self.values_of(replica).map(|(d, _)| d.clone()).collect();
        for tag in tags {
            if let Some(entry) = self.remove_value(&tag)
                && was_visible
            {
                diffs.leave(entry);
            }
        }
        self.context.forget(replica);
        diffs
    }

    // === reading ===

    /// The visible presences of `topic`: Phoenix's `list/2`, as `presence_state`.
    pub fn list(&self, topic: &str) -> PresenceState {
        let mut state = PresenceState::default();
        for dot in self.by_topic.get(topic).into_iter().flatten() {
            if let Some(entry) = self.values.get(dot)
                && !self.down.contains(&dot.replica)
            {
                state.push(Arc::clone(entry));
            }
        }
        state
    }

    /// How many visible presences `topic` has: [`State::list`]'s entries, counted.
    pub fn visible(&self, topic: &str) -> usize {
        self.by_topic
            .get(topic)
            .into_iter()
            .flatten()
            .filter(|dot| self.values.contains_key(dot) && !self.down.contains(&dot.replica))
            .count()
    }

    /// The topics with at least one entry (visible or hidden).
    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.by_topic.keys().map(String::as_str)
    }

    /// How many live entries are held, including hidden ones.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Every live entry held, by tag, including hidden ones.
    pub fn entries(&self) -> impl Iterator<Item = (&Dot, &Arc<Entry>)> {
        self.values.iter()
    }

    /// The entries this replica owns.
    pub fn own_entries(&self) -> impl Iterator<Item = &Arc<Entry>> {
        self.values_of(&self.me).map(|(_, e)| e)
    }

    /// The entry tagged `tag`, if held.
    pub fn get(&self, tag: &Dot) -> Option<&Arc<Entry>> {
        self.values.get(tag)
    }

    /// The tag of an own row.
    pub fn tag_of(&self, topic: &str, session: SessionId, key: &str) -> Option<&Dot> {
        self.rows.get(&row(topic, session, key))
    }

    /// Whether `dot` has been observed (added, or added and removed).
    pub fn observes(&self, dot: &Dot) -> bool {
        self.context.observes(dot)
    }

    /// Whether `replica` is known (its values are accepted).
    pub fn knows(&self, replica: &ReplicaRef) -> bool {
        self.context.knows(replica)
    }

    /// Whether `replica` is marked down.
    pub fn is_down(&self, replica: &ReplicaRef) -> bool {
        self.down.contains(replica)
    }

    /// The contiguous part of the causal context.
    pub fn context(&self) -> &Clock {
        self.context.clock()
    }

    /// The clock sent in heartbeats and transfer requests: the context without the
    /// replicas marked down (the fix for phoenix_pubsub#135's transfer loop).
    pub fn clocks(&self) -> Clock {
        self.context
            .clock()
            .iter()
            .filter(|(r, _)| !self.down.contains(r))
            .map(|(r, c)| (r.clone(), c))
            .collect()
    }

    /// The context as peers can have it from our heartbeats: the own counter excludes the
    /// pending delta, which no generation holds yet.
    pub(crate) fn published_context(&self) -> Clock {
        let mut clock = self.context.clock().clone();
        clock.insert(self.me.clone(), self.delta_after);
        clock
    }

    // === internals ===

    /// Mints the next own dot and records it in the pending delta.
    fn bump(&mut self) -> Dot {
        let counter = self.context.clock().get(&self.me) + 1;
        self.context.raise(&self.me, counter);
        let dot = Dot::new(self.me.clone(), counter);
        self.delta.dots.insert(dot.clone());
        self.delta.spans.insert(
            self.me.clone(),
            Span {
                after: self.delta_after,
                through: counter,
            },
        );
        dot
    }

    /// Accepts a remote value if its replica is known and its dot is new here.
    fn accept(&mut self, dot: &Dot, entry: &Arc<Entry>, diffs: &mut Diffs) {
        if !self.context.knows(&dot.replica) || self.context.observes(dot) {
            return;
        }
        self.insert_value(dot.clone(), Arc::clone(entry));
        if !self.down.contains(&dot.replica) {
            diffs.join(Arc::clone(entry));
        }
    }

    /// Removes a value a remote has seen removed; the owner's own values are never
    /// removed by a remote.
    fn drop_remote(&mut self, dot: &Dot, diffs: &mut Diffs) {
        if dot.replica == self.me {
            return;
        }
        if let Some(entry) = self.remove_value(dot)
            && !self.down.contains(&dot.replica)
        {
            diffs.leave(entry);
        }
    }

    /// Removes an own entry and records the removal in the pending delta.
    fn remove_own(&mut self, tag: &Dot) -> Option<Arc<Entry>> {
        let old = self.remove_value(tag);
        self.delta.values.remove(tag);
        self.delta.dots.insert(tag.clone());
        old
    }

    fn insert_value(&mut self, tag: Dot, entry: Arc<Entry>) {
        self.by_topic
            .entry(entry.topic.clone())
            .or_default()
            .insert(tag.clone());
        if tag.replica == self.me {
            self.rows
                .insert(row(&entry.topic, entry.session, &entry.key), tag.clone());
            self.by_session
                .entry(entry.session)
                .or_default()
                .insert(tag.clone());
        }
        self.values.insert(tag, entry);
    }

    fn remove_value(&mut self, tag: &Dot) -> Option<Arc<Entry>> {
        let entry = self.values.remove(tag)?;
        if let Some(tags) = self.by_topic.get_mut(&entry.topic) {
            tags.remove(tag);
            if tags.is_empty() {
                self.by_topic.remove(&entry.topic);
            }
        }
        if tag.replica == self.me {
            self.rows
                .remove(&row(&entry.topic, entry.session, &entry.key));
            if let Some(tags) = self.by_session.get_mut(&entry.session) {
                tags.remove(tag);
                if tags.is_empty() {
                    self.by_session.remove(&entry.session);
                }
            }
        }
        Some(entry)
    }

    /// The values tagged by `replica`, in counter order.
    fn values_of<'a>(
        &'a self,
        replica: &'a ReplicaRef,
    ) -> impl Iterator<Item = (&'a Dot, &'a Arc<Entry>)> + 'a {
        self.values
            .range(Dot::new(replica.clone(), 0)..)
            .take_while(move |(dot, _)| dot.replica == *replica)
    }
}

fn row(topic: &str, session: SessionId, key: &str) -> Row {
    (topic.to_owned(), session, key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(status: &str) -> Map<String, Value> {
        json!({"status": status}).as_object().cloned().unwrap()
    }

    fn pair() -> (State, State) {
        let (a_ref, b_ref) = (ReplicaRef::new("a", 1), ReplicaRef::new("b", 1));
        let (mut a, mut b) = (State::new(a_ref.clone()), State::new(b_ref.clone()));
        a.replica_up(&b_ref);
        b.replica_up(&a_ref);
        (a, b)
    }

    #[test]
    fn double_track_is_refused_and_missing_update_fails() {
        let (mut a, _) = pair();
        a.track("t", SessionId(1), "k", meta("x")).unwrap();
        assert!(matches!(
            a.track("t", SessionId(1), "k", meta("y")),
            Err(Error::AlreadyTracked { .. })
        ));
        assert!(matches!(
            a.update("t", SessionId(2), "k", meta("y")),
            Err(Error::NotTracked { .. })
        ));
        assert!(a.untrack("t", SessionId(2), "k").is_empty());
    }

    #[test]
    fn update_keeps_one_row_and_links_refs() {
        let (mut a, _) = pair();
        a.track("t", SessionId(1), "k", meta("online")).unwrap();
        let first = a.list("t").get("k").unwrap()[0].phx_ref.clone();
        let diffs = a.update("t", SessionId(1), "k", meta("away")).unwrap();
        let diff = diffs.get("t").unwrap();
        let joined = &diff.joins()["k"][0];
        assert_eq!(joined.phx_ref_prev.as_deref(), Some(first.as_str()));
        assert_eq!(diff.leaves()["k"][0].phx_ref, first);
        assert_eq!(a.list("t").get("k").unwrap().len(), 1);
        assert_eq!(a.own_entries().count(), 1);
    }

    #[test]
    fn untrack_session_removes_every_row_of_the_session() {
        let (mut a, mut b) = pair();
        a.track("t1", SessionId(1), "k", meta("x")).unwrap();
        a.track("t2", SessionId(1), "k", meta("x")).unwrap();
        a.track("t2", SessionId(2), "k", meta("x")).unwrap();
        b.merge_delta(&a.take_delta().unwrap());
        let diffs = a.untrack_session(SessionId(1));
        assert_eq!(diffs.iter().count(), 2);
        b.merge_delta(&a.take_delta().unwrap());
        assert!(b.list("t1").is_empty());
        assert_eq!(b.list("t2").get("k").unwrap().len(), 1);
    }

    #[test]
    fn remote_merges_never_remove_own_entries() {
        let (mut a, mut b) = pair();
        a.track("t", SessionId(1), "k", meta("x")).unwrap();
        let tag = a.tag_of("t", SessionId(1), "k").unwrap().clone();
        let forged = Delta {
            spans: BTreeMap::new(),
            dots: [tag].into_iter().collect(),
            values: BTreeMap::new(),
        };
        assert!(a.merge_delta(&forged).is_empty());
        assert_eq!(a.list("t").len(), 1);
        let _ = b.merge_delta(&forged);
    }

    #[test]
    fn values_of_unknown_replicas_are_dropped_with_their_dots() {
        let (mut a, _) = pair();
        let mut z = State::new(ReplicaRef::new("z", 1));
        z.track("t", SessionId(1), "k", meta("x")).unwrap();
        let delta = z.take_delta().unwrap();
        assert!(a.merge_delta(&delta).is_empty());
        assert!(!a.knows(z.me()));
        a.replica_up(&z.me().clone());
        assert_eq!(a.merge_delta(&delta).iter().count(), 1);
    }
}
