//! A diff as the server sends it (a join's `rendered`, a reply's `diff`, a `diff` push),
//! parsed, with the top-level keys that are not part of the tree taken off.
//!
//! At the top level `"t"` is the page title, `"e"` the pushed events and `"r"` the reply
//! to a hook's `pushEvent` — not the root flag it is on nested nodes. `"c"` holds the
//! components; everything else is the root node.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::rendered::{Components, Node};

/// A parsed diff, ready to merge into a [`crate::Rendered`].
#[derive(Debug, Clone, Default)]
pub struct Diff {
    pub(crate) node: Node,
    pub(crate) components: Option<Components>,
    /// Whether the diff had any top-level key besides `"c"` (after extraction), which
    /// decides between a components-only patch, a full one and none.
    pub(crate) other_keys: bool,
}

/// What `Rendered.extract` takes off a diff before merging it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    /// `"t"`: a new page title (only a string counts, as in the client).
    pub title: Option<String>,
    /// `"r"`: the reply to a hook's `pushEvent` (`null` when absent or falsy).
    pub reply: Option<Value>,
    /// `"e"`: events pushed with `push_event`.
    pub events: Vec<PushedEvent>,
}

/// An event pushed by the server (`"e"`), dispatched as `phx:<name>` by the browser.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedEvent {
    /// The event name.
    pub name: String,
    /// Its payload.
    pub payload: Value,
    /// `[name, payload, true]`: dispatched before the DOM patch.
    pub before_patch: bool,
}

impl Diff {
    /// `Rendered.extract`: parses a diff received from the server, taking off `"t"`,
    /// `"e"` and `"r"`.
    pub fn extract(value: &Value) -> Result<(Diff, Extras)> {
        let map = object(value)?;
        let extras = Extras {
            title: map.get("t").and_then(Value::as_str).map(str::to_owned),
            reply: map.get("r").filter(|r| crate::rendered::truthy(r)).cloned(),
            events: map.get("e").map(events).transpose()?.unwrap_or_default(),
        };
        let diff = Diff::parse_map(map, &["t", "e", "r", "c"])?;
        Ok((diff, extras))
    }

    /// Parses a diff as `new Rendered(id, diff)` takes it when called directly, without
    /// `Rendered.extract`: a top-level `"r"` is then the root flag.
    pub fn parse(value: &Value) -> Result<Diff> {
        Diff::parse_map(object(value)?, &["c"])
    }

    fn parse_map(map: &Map<String, Value>, skip: &[&str]) -> Result<Diff> {
        let node = Node::parse(map, skip)?;
        let components = map.get("c").map(components).transpose()?;
        let other_keys = map.keys().any(|key| !skip.contains(&key.as_str()));
        Ok(Diff {
            node,
            components,
            other_keys,
        })
    }

    /// Nothing to merge: the client does not render after it.
    pub fn is_empty(&self) -> bool {
        !self.other_keys && self.components.is_none()
    }

    /// Only `"c"`: the client patches just those components.
    pub fn is_components_only(&self) -> bool {
        !self.other_keys && self.components.is_some()
    }

    /// The cids the diff carries (`componentCIDs`).
    pub fn component_ids(&self) -> Vec<i64> {
        self.components
            .as_ref()
            .map(|components| components.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Whether the root arrives with statics, i.e. replaces the whole tree.
    pub fn is_new_fingerprint(&self) -> bool {
        self.node.statics.is_some()
    }
}

fn object(value: &Value) -> Result<&Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| Error::InvalidDiff(format!("a diff is an object, got {value}")))
}

fn components(value: &Value) -> Result<Components> {
    let map = value
        .as_object()
        .ok_or_else(|| Error::InvalidDiff(format!("\"c\" must be an object, got {value}")))?;
    let mut components = BTreeMap::new();
    for (key, value) in map {
        let cid = key
            .parse::<i64>()
            .ok()
            .filter(|cid| cid.to_string() == *key)
            .ok_or_else(|| {
                Error::InvalidDiff(format!("a component id is an integer, got {key:?}"))
            })?;
        let tree = value
            .as_object()
            .ok_or_else(|| Error::InvalidDiff(format!("component {cid} must be an object")))?;
        components.insert(cid, Node::parse(tree, &[])?);
    }
    Ok(components)
}

fn events(value: &Value) -> Result<Vec<PushedEvent>> {
    let invalid = || Error::InvalidDiff(format!("\"e\" is [[name, payload], …], got {value}"));
    let items = value.as_array().ok_or_else(invalid)?;
    items
        .iter()
        .map(|item| {
            let args = item.as_array().ok_or_else(invalid)?;
            let mut name = String::new();
            match args.first() {
                Some(Value::String(s)) => name.push_str(s),
                Some(other) => crate::rendered::js_string(other, &mut name),
                None => return Err(invalid()),
            }
            Ok(PushedEvent {
                name,
                payload: args.get(1).cloned().unwrap_or(Value::Null),
                // `args.length === 3 && args[2] == true`
                before_patch: args.len() == 3 && loosely_true(&args[2]),
            })
        })
        .collect()
}

/// JavaScript's `value == true`: `true`, `1` and strings that read as 1.
fn loosely_true(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() == Some(1.0),
        Value::String(s) => s.trim().parse::<f64>().ok() == Some(1.0),
        Value::Null | Value::Array(_) | Value::Object(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn extract_takes_title_events_and_reply() {
        let (diff, extras) = Diff::extract(&json!({
            "0": "x", "t": "Hi", "r": {"ok": 1},
            "e": [["scroll", {"to": 1}], ["early", {}, true]]
        }))
        .unwrap();
        assert_eq!(extras.title.as_deref(), Some("Hi"));
        assert_eq!(extras.reply, Some(json!({"ok": 1})));
        assert_eq!(
            extras.events,
            vec![
                PushedEvent {
                    name: "scroll".into(),
                    payload: json!({"to": 1}),
                    before_patch: false
                },
                PushedEvent {
                    name: "early".into(),
                    payload: json!({}),
                    before_patch: true
                },
            ]
        );
        assert!(!diff.is_empty());
        assert_eq!(diff.node.root, None);
    }

    #[test]
    fn emptiness_and_components_only() {
        let (diff, extras) = Diff::extract(&json!({"t": "only a title"})).unwrap();
        assert!(diff.is_empty());
        assert_eq!(extras.title.as_deref(), Some("only a title"));
        let (diff, _) = Diff::extract(&json!({"c": {"1": {"0": "x"}}})).unwrap();
        assert!(diff.is_components_only());
        assert_eq!(diff.component_ids(), vec![1]);
        let (diff, _) = Diff::extract(&json!({"c": {"1": {"0": "x"}}, "0": "y"})).unwrap();
        assert!(!diff.is_components_only() && !diff.is_empty());
    }

    #[test]
    fn a_raw_top_level_r_is_the_root_flag() {
        let diff = Diff::parse(&json!({"s": ["<p></p>"], "r": 1})).unwrap();
        assert_eq!(diff.node.root, Some(true));
    }
}
