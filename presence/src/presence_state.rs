//! The `presence_state` payload: every visible presence of one topic, grouped by key.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::diff::{Diff, by_key_json};
use crate::entry::Entry;

/// What [`crate::State::list`] returns: the visible entries of a topic by presence key,
/// oldest tag first within a key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PresenceState(BTreeMap<String, Vec<Arc<Entry>>>);

impl PresenceState {
    /// The entries of `key`, if any.
    pub fn get(&self, key: &str) -> Option<&[Arc<Entry>]> {
        self.0.get(key).map(Vec::as_slice)
    }

    /// The keys and their entries.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Arc<Entry>])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// How many keys are present.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nobody is present.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `{key: {"metas": [{…meta, "phx_ref": …}]}}`, as Phoenix pushes it on join.
    pub fn to_json(&self) -> Value {
        by_key_json(&self.0)
    }

    pub(crate) fn push(&mut self, entry: Arc<Entry>) {
        self.0.entry(entry.key.clone()).or_default().push(entry);
    }

    /// This state as it was before `diff`: its joins taken out, its leaves put back.
    /// Exact for a coalesced diff, in which a ref is on one side at most.
    pub(crate) fn undo(&mut self, diff: &Diff) {
        for (key, joined) in diff.joins() {
            if let Some(entries) = self.0.get_mut(key) {
                entries.retain(|e| !joined.iter().any(|j| j.phx_ref == e.phx_ref));
                if entries.is_empty() {
                    self.0.remove(key);
                }
            }
        }
        for entry in diff.leaves().values().flatten() {
            self.push(Arc::clone(entry));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::SessionId;
    use serde_json::json;

    #[test]
    fn shape_matches_phoenix_presence_state() {
        let mut state = PresenceState::default();
        for (key, r, prev) in [
            ("alice", "A", None),
            ("alice", "C", Some("B")),
            ("bob", "D", None),
        ] {
            state.push(Arc::new(Entry {
                topic: "room:lobby".into(),
                key: key.into(),
                session: SessionId(1),
                meta: json!({"online_at": 1}).as_object().cloned().unwrap(),
                phx_ref: r.into(),
                phx_ref_prev: prev.map(str::to_owned),
            }));
        }
        assert_eq!(
            state.to_json(),
            json!({
                "alice": {"metas": [
                    {"online_at": 1, "phx_ref": "A"},
                    {"online_at": 1, "phx_ref": "C", "phx_ref_prev": "B"}
                ]},
                "bob": {"metas": [{"online_at": 1, "phx_ref": "D"}]}
            })
        );
        assert_eq!(PresenceState::default().to_json(), json!({}));
    }
}
