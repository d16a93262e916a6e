//! Presence diffs: the `presence_diff` payload, per topic, and how to coalesce them.
//!
//! A diff is what phoenix.js's `Presence.syncDiff` applies: joins first, then leaves,
//! each keyed by presence key and carrying whole metas, which the client matches by
//! `phx_ref`:
//!
//! ```json
//! {"joins":  {"alice": {"metas": [{"status": "away", "phx_ref": "B", "phx_ref_prev": "A"}]}},
//!  "leaves": {"alice": {"metas": [{"status": "online", "phx_ref": "A"}]}}}
//! ```
//!
//! That one is an update: Phoenix has no "changed" event, so an update leaves the old
//! ref and joins a new one carrying `phx_ref_prev`, in the same frame.
//!
//! **Coalescing.** Diffs are buffered per topic and flushed as one frame. Within a
//! window a leave of a ref that joined in the window cancels both, and a join of a ref
//! that left in the window (a replica that went down and came back) cancels both; an
//! update stays a join plus a leave. Every stream a [`crate::State`] emits is coherent
//! (a ref joins only while absent and leaves only while present), and for coherent
//! streams the coalesced frame leaves a client in exactly the state the raw frames
//! would. The simulator checks that on every run.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::entry::Entry;

/// The joins and leaves of one topic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    joins: BTreeMap<String, Vec<Arc<Entry>>>,
    leaves: BTreeMap<String, Vec<Arc<Entry>>>,
}

impl Diff {
    /// An empty diff.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the diff changes nothing.
    pub fn is_empty(&self) -> bool {
        self.joins.is_empty() && self.leaves.is_empty()
    }

    /// The joined entries, by presence key.
    pub fn joins(&self) -> &BTreeMap<String, Vec<Arc<Entry>>> {
        &self.joins
    }

    /// The left entries, by presence key.
    pub fn leaves(&self) -> &BTreeMap<String, Vec<Arc<Entry>>> {
        &self.leaves
    }

    /// Records that `entry` became visible; cancels a pending leave of the same ref.
    pub fn join(&mut self, entry: Arc<Entry>) {
        if !take(&mut self.leaves, &entry) {
            put(&mut self.joins, entry);
        }
    }

    /// Records that `entry` stopped being visible; cancels a pending join of the same ref.
    pub fn leave(&mut self, entry: Arc<Entry>) {
        if !take(&mut self.joins, &entry) {
            put(&mut self.leaves, entry);
        }
    }

    /// Folds a later diff into this one, so that applying the result has the effect of
    /// applying `self` and then `later` (joins, then leaves, as `syncDiff` does).
    pub fn append(&mut self, later: Diff) {
        for entry in later.joins.into_values().flatten() {
            self.join(entry);
        }
        for entry in later.leaves.into_values().flatten() {
            self.leave(entry);
        }
    }

    /// One diff with the effect of the whole sequence.
    ///
    /// ```
    /// use cinder_presence::{Diff, Entry, SessionId};
    /// use std::sync::Arc;
    ///
    /// let entry = |r: &str| Arc::new(Entry {
    ///     topic: "room".into(), key: "alice".into(), session: SessionId(1),
    ///     meta: Default::default(), phx_ref: r.into(), phx_ref_prev: None,
    /// });
    /// let mut flap = Diff::new();
    /// flap.leave(entry("A"));
    /// let mut back = Diff::new();
    /// back.join(entry("A"));
    /// assert!(Diff::coalesce([flap, back]).is_empty());
    /// ```
    pub fn coalesce(diffs: impl IntoIterator<Item = Diff>) -> Diff {
        diffs.into_iter().fold(Diff::new(), |mut acc, diff| {
            acc.append(diff);
            acc
        })
    }

    /// The `presence_diff` payload.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("joins".to_owned(), by_key_json(&self.joins));
        out.insert("leaves".to_owned(), by_key_json(&self.leaves));
        Value::Object(out)
    }
}

/// Removes the entry with `entry`'s ref from `side`; whether it was there.
fn take(side: &mut BTreeMap<String, Vec<Arc<Entry>>>, entry: &Entry) -> bool {
    let Some(metas) = side.get_mut(&entry.key) else {
        return false;
    };
    let before = metas.len();
    metas.retain(|e| e.phx_ref != entry.phx_ref);
    let found = metas.len() != before;
    if metas.is_empty() {
        side.remove(&entry.key);
    }
    found
}

/// Adds `entry` to `side`, replacing one with the same ref.
fn put(side: &mut BTreeMap<String, Vec<Arc<Entry>>>, entry: Arc<Entry>) {
    let metas = side.entry(entry.key.clone()).or_default();
    match metas.iter_mut().find(|e| e.phx_ref == entry.phx_ref) {
        Some(slot) => *slot = entry,
        None => metas.push(entry),
    }
}

/// `{key: {"metas": [meta, …]}}`, the shape of both `presence_state` and each side of a
/// `presence_diff`.
pub(crate) fn by_key_json(by_key: &BTreeMap<String, Vec<Arc<Entry>>>) -> Value {
    Value::Object(
        by_key
            .iter()
            .map(|(key, entries)| {
                let metas = entries.iter().map(|e| e.client_meta()).collect();
                let mut presence = Map::new();
                presence.insert("metas".to_owned(), Value::Array(metas));
                (key.clone(), Value::Object(presence))
            })
            .collect(),
    )
}

/// The diffs of one step, per topic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diffs(BTreeMap<String, Diff>);

impl Diffs {
    /// No diffs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no topic changed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The diff of `topic`, if it changed.
    pub fn get(&self, topic: &str) -> Option<&Diff> {
        self.0.get(topic)
    }

    /// The changed topics and their diffs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Diff)> {
        self.0.iter().map(|(t, d)| (t.as_str(), d))
    }

    /// Records a join on the entry's topic.
    pub fn join(&mut self, entry: Arc<Entry>) {
        let topic = entry.topic.clone();
        self.0.entry(topic.clone()).or_default().join(entry);
        self.drop_if_empty(&topic);
    }

    /// Records a leave on the entry's topic.
    pub fn leave(&mut self, entry: Arc<Entry>) {
        let topic = entry.topic.clone();
        self.0.entry(topic.clone()).or_default().leave(entry);
        self.drop_if_empty(&topic);
    }

    /// Folds later diffs into these, topic by topic (see [`Diff::append`]).
    pub fn append(&mut self, later: Diffs) {
        for (topic, diff) in later.0 {
            self.0.entry(topic.clone()).or_default().append(diff);
            self.drop_if_empty(&topic);
        }
    }

    fn drop_if_empty(&mut self, topic: &str) {
        if self.0.get(topic).is_some_and(Diff::is_empty) {
            self.0.remove(topic);
        }
    }
}

impl IntoIterator for Diffs {
    type Item = (String, Diff);
    type IntoIter = std::collections::btree_map::IntoIter<String, Diff>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::SessionId;
    use serde_json::json;

    fn entry(key: &str, phx_ref: &str, prev: Option<&str>, status: &str) -> Arc<Entry> {
        Arc::new(Entry {
            topic: "room:lobby".into(),
            key: key.into(),
            session: SessionId(1),
            meta: json!({"status": status}).as_object().cloned().unwrap(),
            phx_ref: phx_ref.into(),
            phx_ref_prev: prev.map(str::to_owned),
        })
    }

    #[test]
    fn empty_diff_has_both_sides() {
        assert_eq!(Diff::new().to_json(), json!({"joins": {}, "leaves": {}}));
    }

    #[test]
    fn an_update_is_a_join_with_prev_and_a_leave_of_the_old_ref() {
        let mut diff = Diff::new();
        diff.join(entry("alice", "B", Some("A"), "away"));
        diff.leave(entry("alice", "A", None, "online"));
        assert_eq!(
            diff.to_json(),
            json!({
                "joins": {"alice": {"metas": [{"status": "away", "phx_ref": "B", "phx_ref_prev": "A"}]}},
                "leaves": {"alice": {"metas": [{"status": "online", "phx_ref": "A"}]}}
            })
        );
    }

    #[test]
    fn several_metas_under_one_key_and_several_keys() {
        let mut diff = Diff::new();
        diff.join(entry("alice", "A1", None, "online"));
        diff.join(entry("alice", "A2", None, "online"));
        diff.join(entry("bob", "B1", None, "busy"));
        assert_eq!(
            diff.to_json(),
            json!({
                "joins": {
                    "alice": {"metas": [
                        {"status": "online", "phx_ref": "A1"},
                        {"status": "online", "phx_ref": "A2"}
                    ]},
                    "bob": {"metas": [{"status": "busy", "phx_ref": "B1"}]}
                },
                "leaves": {}
            })
        );
    }

    #[test]
    fn join_then_leave_in_one_window_cancels() {
        let mut window = Diff::new();
        window.join(entry("alice", "A", None, "online"));
        window.leave(entry("alice", "A", None, "online"));
        assert!(window.is_empty());
    }

    #[test]
    fn coalesced_update_chain_keeps_first_leave_and_last_join() {
        let mut first = Diff::new();
        first.join(entry("alice", "B", Some("A"), "away"));
        first.leave(entry("alice", "A", None, "online"));
        let mut second = Diff::new();
        second.join(entry("alice", "C", Some("B"), "busy"));
        second.leave(entry("alice", "B", Some("A"), "away"));
        let folded = Diff::coalesce([first, second]);
        assert_eq!(
            folded.to_json(),
            json!({
                "joins": {"alice": {"metas": [{"status": "busy", "phx_ref": "C", "phx_ref_prev": "B"}]}},
                "leaves": {"alice": {"metas": [{"status": "online", "phx_ref": "A"}]}}
            })
        );
    }

    #[test]
    fn diffs_drop_topics_that_cancel_out() {
        let mut diffs = Diffs::new();
        diffs.join(entry("alice", "A", None, "online"));
        diffs.leave(entry("alice", "A", None, "online"));
        assert!(diffs.is_empty());
    }
}
