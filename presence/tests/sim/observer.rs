//! What one life of one node's subscribers see: every diff it emitted, replayed through
//! phoenix.js's `syncDiff` (ported), checked for coherence and against `list()`.

use std::collections::{BTreeMap, BTreeSet};

use cinder_presence::{ClientPresence, Diffs, Dot, State};
use serde_json::{Map, Value};

/// The subscriber-side view of one node life.
#[derive(Debug, Default)]
pub(crate) struct Observer {
    /// One phoenix.js presence per topic, fed every emitted diff.
    clients: BTreeMap<String, ClientPresence>,
    /// `(topic, key, phx_ref)` currently shown, to check that every join is of an
    /// absent ref and every leave of a present one.
    shown: BTreeSet<(String, String, String)>,
    /// Every non-empty emission, in order, for the coalescing check.
    log: Vec<Diffs>,
    /// Removed tags this life has observed as removed; none may come back while their
    /// replica stays known.
    removed_seen: BTreeSet<Dot>,
    /// Refs whose leave subscribers saw because the owner removed them, with their tags.
    left_for_good: BTreeMap<String, Dot>,
    /// Removed tags whose removal record this life has merged (a delta's dot without a
    /// value, or a full state that observed the tag without holding it).
    removal_merged: BTreeSet<Dot>,
}

impl Observer {
    /// Feeds one emission of `state`'s node to the subscribers and checks them against
    /// the state. `removed` maps the `phx_ref` of every entry its owner untracked or
    /// replaced to its tag.
    pub(crate) fn observe(
        &mut self,
        diffs: &Diffs,
        state: &State,
        removed: &BTreeMap<String, Dot>,
    ) {
        if !diffs.is_empty() {
            check_coherent(&mut self.shown, diffs);
            for (topic, diff) in diffs.iter() {
                self.clients
                    .entry(topic.to_owned())
                    .or_default()
                    .sync_diff(&diff.to_json());
            }
            self.log.push(diffs.clone());
        }
        self.check_matches(state);
        self.check_no_resurrection(diffs, state, removed);
    }

    /// Notes that the state merged removal records for `dots`.
    pub(crate) fn removals_merged(&mut self, dots: impl IntoIterator<Item = Dot>, state: &State) {
        self.removal_merged
            .extend(dots.into_iter().filter(|dot| state.knows(&dot.replica)));
    }

    /// What the subscribers show equals what the state lists, for every topic.
    fn check_matches(&self, state: &State) {
        let topics: BTreeSet<&str> = self
            .clients
            .keys()
            .map(String::as_str)
            .chain(state.topics())
            .collect();
        for topic in topics {
            let shown = self
                .clients
                .get(topic)
                .map(ClientPresence::to_json)
                .unwrap_or_else(|| Value::Object(Map::new()));
            assert_eq!(
                normalize(&shown),
                normalize(&state.list(topic).to_json()),
                "{}: replayed diffs differ from list({topic})",
                state.me()
            );
        }
    }

    /// A removed entry never comes back, in three senses: the state never holds again a
    /// tag it has observed removed; subscribers never see a join of a ref that left
    /// because its owner removed it; and no ref joins after its removal record was
    /// merged, even if the entry was never shown (Phoenix's ghost "join via a third
    /// node without its leave", PR #111: the removal is dropped from the context, so
    /// the first check alone cannot see it). All are claims about a replica the state
    /// still knows; a permdown resets them.
    fn check_no_resurrection(
        &mut self,
        diffs: &Diffs,
        state: &State,
        removed: &BTreeMap<String, Dot>,
    ) {
        self.removed_seen.retain(|dot| state.knows(&dot.replica));
        self.left_for_good
            .retain(|_, dot| state.knows(&dot.replica));
        self.removal_merged.retain(|dot| state.knows(&dot.replica));
        for dot in &self.removed_seen {
            assert!(
                state.get(dot).is_none(),
                "{}: removed entry {dot:?} came back",
                state.me()
            );
        }
        for (topic, diff) in diffs.iter() {
            for entry in diff.joins().values().flatten() {
                assert!(
                    !self.left_for_good.contains_key(&entry.phx_ref),
                    "{}: {} rejoined {topic} after its removal",
                    state.me(),
                    entry.phx_ref
                );
                let tag = removed.get(&entry.phx_ref);
                assert!(
                    !tag.is_some_and(|tag| self.removal_merged.contains(tag)),
                    "{}: {} joined {topic} after its removal was merged",
                    state.me(),
                    entry.phx_ref
                );
            }
            for entry in diff.leaves().values().flatten() {
                if let Some(dot) = removed.get(&entry.phx_ref)
                    && state.knows(&dot.replica)
                    && state.get(dot).is_none()
                {
                    self.left_for_good
                        .insert(entry.phx_ref.clone(), dot.clone());
                }
            }
        }
        for dot in removed.values() {
            if state.knows(&dot.replica) && state.observes(dot) && state.get(dot).is_none() {
                self.removed_seen.insert(dot.clone());
            }
        }
    }

    /// Coalescing the log in windows of any size leaves the subscribers exactly where
    /// the raw diffs did.
    pub(crate) fn check_coalescing(&self) {
        for window in [2, 3, 5, 16, usize::MAX] {
            let mut shown = BTreeSet::new();
            let mut clients: BTreeMap<String, ClientPresence> = BTreeMap::new();
            for chunk in self.log.chunks(window.min(self.log.len().max(1))) {
                let mut folded = Diffs::new();
                for diffs in chunk {
                    folded.append(diffs.clone());
                }
                check_coherent(&mut shown, &folded);
                for (topic, diff) in folded.iter() {
                    clients
                        .entry(topic.to_owned())
                        .or_default()
                        .sync_diff(&diff.to_json());
                }
            }
            let topics: BTreeSet<&String> = clients.keys().chain(self.clients.keys()).collect();
            for topic in topics {
                let empty = ClientPresence::new();
                let folded = clients.get(topic).unwrap_or(&empty).to_json();
                let raw = self.clients.get(topic).unwrap_or(&empty).to_json();
                assert_eq!(
                    normalize(&folded),
                    normalize(&raw),
                    "window {window}, topic {topic}"
                );
            }
        }
    }
}

/// Joins only of absent refs, leaves only of present ones, applied joins first.
fn check_coherent(shown: &mut BTreeSet<(String, String, String)>, diffs: &Diffs) {
    for (topic, diff) in diffs.iter() {
        for (key, entries) in diff.joins() {
            for entry in entries {
                let fresh = shown.insert((topic.to_owned(), key.clone(), entry.phx_ref.clone()));
                assert!(
                    fresh,
                    "join of a shown ref {} on {topic}/{key}",
                    entry.phx_ref
                );
            }
        }
        for (key, entries) in diff.leaves() {
            for entry in entries {
                let was = shown.remove(&(topic.to_owned(), key.clone(), entry.phx_ref.clone()));
                assert!(
                    was,
                    "leave of a ref not shown {} on {topic}/{key}",
                    entry.phx_ref
                );
            }
        }
    }
}

/// A presence payload with each key's metas sorted by `phx_ref`: the client and the
/// server may order metas differently, and phoenix.js does not care.
pub(crate) fn normalize(presences: &Value) -> Value {
    let Some(object) = presences.as_object() else {
        return presences.clone();
    };
    Value::Object(
        object
            .iter()
            .map(|(key, presence)| {
                let mut metas = presence
                    .get("metas")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                metas.sort_by_key(|m| m.get("phx_ref").and_then(Value::as_str).map(str::to_owned));
                let mut out = Map::new();
                out.insert("metas".to_owned(), Value::Array(metas));
                (key.clone(), Value::Object(out))
            })
            .collect(),
    )
}
