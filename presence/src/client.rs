//! The client's side: a port of phoenix.js `Presence.syncState` / `syncDiff`.
//!
//! Tests replay emitted diffs through it to check that what a browser would show equals
//! [`crate::State::list`]; a Rust protocol client can use it as is. It works on the
//! JSON payloads, not on Cinder's types, so it checks the wire shape too. Like
//! presence.js it never fails: parts of a payload that are not shaped as expected are
//! skipped.

use serde_json::{Map, Value};

/// One topic's presences as a phoenix.js client holds them:
/// `{key: {"metas": [meta, …]}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientPresence {
    state: Map<String, Value>,
}

impl ClientPresence {
    /// A client that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The presences, shaped like `presence_state`.
    pub fn state(&self) -> &Map<String, Value> {
        &self.state
    }

    /// The presences as a JSON value.
    pub fn to_json(&self) -> Value {
        Value::Object(self.state.clone())
    }

    /// `Presence.syncState`: reduces a full `presence_state` to joins and leaves against
    /// the current state and applies them. Returns that diff.
    pub fn sync_state(&mut self, new_state: &Value) -> Value {
        let empty = Map::new();
        let new_state = new_state.as_object().unwrap_or(&empty);
        let mut joins = Map::new();
        let mut leaves = Map::new();
        for (key, presence) in &self.state {
            if !new_state.contains_key(key) {
                leaves.insert(key.clone(), presence.clone());
            }
        }
        for (key, new_presence) in new_state {
            let Some(current) = self.state.get(key) else {
                joins.insert(key.clone(), new_presence.clone());
                continue;
            };
            let new_refs = refs(new_presence);
            let current_refs = refs(current);
            let joined: Vec<Value> = metas(new_presence)
                .iter()
                .filter(|m| !current_refs.contains(&phx_ref(m)))
                .cloned()
                .collect();
            let left: Vec<Value> = metas(current)
                .iter()
                .filter(|m| !new_refs.contains(&phx_ref(m)))
                .cloned()
                .collect();
            if !joined.is_empty() {
                joins.insert(key.clone(), with_metas(new_presence, joined));
            }
            if !left.is_empty() {
                leaves.insert(key.clone(), with_metas(current, left));
            }
        }
        let mut diff = Map::new();
        diff.insert("joins".to_owned(), Value::Object(joins));
        diff.insert("leaves".to_owned(), Value::Object(leaves));
        let diff = Value::Object(diff);
        self.sync_diff(&diff);
        diff
    }

    /// `Presence.syncDiff`: applies joins (a key's new metas go after its current metas of
    /// other refs; a meta with a ref already present replaces it), then leaves (metas
    /// removed by `phx_ref`; a key left without metas is deleted).
    pub fn sync_diff(&mut self, diff: &Value) {
        if let Some(joins) = diff.get("joins").and_then(Value::as_object) {
            for (key, new_presence) in joins {
                let mut presence = new_presence.clone();
                if let Some(current) = self.state.get(key) {
                    let joined_refs = refs(new_presence);
                    let mut merged: Vec<Value> = metas(current)
                        .iter()
                        .filter(|m| !joined_refs.contains(&phx_ref(m)))
                        .cloned()
                        .collect();
                    merged.extend(metas(new_presence).iter().cloned());
                    presence = with_metas(new_presence, merged);
                }
                self.state.insert(key.clone(), presence);
            }
        }
        if let Some(leaves) = diff.get("leaves").and_then(Value::as_object) {
            for (key, left) in leaves {
                let Some(current) = self.state.get_mut(key) else {
                    continue;
                };
                let gone = refs(left);
                let kept: Vec<Value> = metas(current)
                    .iter()
                    .filter(|m| !gone.contains(&phx_ref(m)))
                    .cloned()
                    .collect();
                if kept.is_empty() {
                    self.state.remove(key);
                } else {
                    *current = with_metas(current, kept);
                }
            }
        }
    }
}

fn metas(presence: &Value) -> &[Value] {
    presence
        .get("metas")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn phx_ref(meta: &Value) -> Option<&str> {
    meta.get("phx_ref").and_then(Value::as_str)
}

fn refs(presence: &Value) -> Vec<Option<&str>> {
    metas(presence).iter().map(phx_ref).collect()
}

/// `presence` with its metas replaced (other fields, which `fetch` may add, kept).
fn with_metas(presence: &Value, metas: Vec<Value>) -> Value {
    let mut object = presence.as_object().cloned().unwrap_or_default();
    object.insert("metas".to_owned(), Value::Array(metas));
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sync_diff_puts_current_metas_first_and_replaces_by_ref() {
        let mut client = ClientPresence::new();
        client.sync_diff(&json!({
            "joins": {"u1": {"metas": [{"id": 1, "phx_ref": "1"}]}},
            "leaves": {}
        }));
        client.sync_diff(&json!({
            "joins": {"u1": {"metas": [{"id": 1, "phx_ref": "1.2"}]}},
            "leaves": {}
        }));
        assert_eq!(
            client.to_json(),
            json!({"u1": {"metas": [{"id": 1, "phx_ref": "1"}, {"id": 1, "phx_ref": "1.2"}]}})
        );
        client.sync_diff(&json!({
            "joins": {},
            "leaves": {"u1": {"metas": [{"id": 1, "phx_ref": "1"}]}}
        }));
        assert_eq!(
            client.to_json(),
            json!({"u1": {"metas": [{"id": 1, "phx_ref": "1.2"}]}})
        );
        client.sync_diff(&json!({
            "joins": {},
            "leaves": {"u1": {"metas": [{"id": 1, "phx_ref": "1.2"}]}, "nobody": {"metas": []}}
        }));
        assert_eq!(client.to_json(), json!({}));
    }

    #[test]
    fn sync_state_reduces_to_the_same_diff_presence_js_computes() {
        let mut client = ClientPresence::new();
        client.sync_state(&json!({
            "u1": {"metas": [{"id": 1, "phx_ref": "1"}]},
            "u2": {"metas": [{"id": 2, "phx_ref": "2"}]}
        }));
        let diff = client.sync_state(&json!({
            "u1": {"metas": [{"id": 1, "phx_ref": "1"}, {"id": 1, "phx_ref": "1.2"}]},
            "u3": {"metas": [{"id": 3, "phx_ref": "3"}]}
        }));
        assert_eq!(
            diff,
            json!({
                "joins": {
                    "u1": {"metas": [{"id": 1, "phx_ref": "1.2"}]},
                    "u3": {"metas": [{"id": 3, "phx_ref": "3"}]}
                },
                "leaves": {"u2": {"metas": [{"id": 2, "phx_ref": "2"}]}}
            })
        );
        assert_eq!(
            client.to_json(),
            json!({
                "u1": {"metas": [{"id": 1, "phx_ref": "1"}, {"id": 1, "phx_ref": "1.2"}]},
                "u3": {"metas": [{"id": 3, "phx_ref": "3"}]}
            })
        );
    }

    #[test]
    fn malformed_payloads_are_skipped() {
        let mut client = ClientPresence::new();
        client.sync_diff(&json!("nonsense"));
        client.sync_diff(&json!({"joins": [1, 2], "leaves": {"k": 3}}));
        client.sync_state(&json!(null));
        assert_eq!(client.to_json(), json!({}));
    }
}
