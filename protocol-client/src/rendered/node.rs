//! The rendered tree's nodes, and their conversion from and back to wire JSON.
//!
//! One type serves both the stored tree and an incoming diff, as in the official client,
//! where diff subtrees are adopted into the tree as they are. JSON keys the client never
//! reads are dropped on parsing, since they cannot change what is rendered.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Shared statics by index (`"p"`), resolved into `"s"` when a node is rendered.
pub(crate) type Templates = BTreeMap<i64, Arc<[String]>>;

/// Component trees by cid (`"c"`).
pub(crate) type Components = BTreeMap<i64, Node>;

/// A rendered node: statics with the dynamics in between, or a keyed comprehension.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Node {
    /// `"s"`: absent in a diff that patches the node in place.
    pub(crate) statics: Option<Statics>,
    /// `"0"`, `"1"`…: the dynamics by index.
    pub(crate) dynamics: BTreeMap<usize, Part>,
    /// `"r"` (its truthiness): the node's HTML is a single root tag.
    pub(crate) root: Option<bool>,
    /// `"p"`: templates for `"s": int` below this node, dropped once rendered.
    pub(crate) templates: Option<Templates>,
    /// `"k"`: the entries of a comprehension.
    pub(crate) keyed: Option<Keyed>,
    /// `"stream"`: `[ref, inserts, delete_ids, reset]`, kept opaque.
    pub(crate) stream: Option<Value>,
}

/// The statics of a node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Statics {
    /// Static strings, one more than there are dynamics. Shared between nodes that
    /// came from the same template, as the client shares the array.
    Inline(Arc<[String]>),
    /// An index into the templates in scope (`"p"`); on a component's root, a cid whose
    /// statics the component shares (positive: from the same diff, negative: the
    /// component as it was before the diff).
    Ref(i64),
}

/// One dynamic.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    /// Already escaped HTML, written as it is.
    Text(String),
    /// A component id: the component's HTML goes here.
    Cid(i64),
    /// A nested node.
    Node(Box<Node>),
    /// `true`, `false`, `null` or an array: written as JavaScript stringifies them.
    Other(Value),
}

/// The entries of a keyed comprehension.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Keyed {
    /// Entries by position.
    pub(crate) entries: BTreeMap<usize, Entry>,
    /// `"kc"`: how many entries there are after the diff.
    pub(crate) count: Option<u64>,
    /// `"km"`: the diff moves entries, so their old positions must be kept aside.
    pub(crate) moved: bool,
}

/// One comprehension entry: in the tree always a node; in a diff also a move.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Entry {
    /// The entry's dynamics (it has no statics of its own), or a patch of them.
    Node(Node),
    /// `j`: the entry that was at position `j` before the diff, unchanged.
    Move(i64),
    /// `[j, diff]`: the entry that was at position `j`, patched.
    MoveWith(i64, Node),
}

// === impl Node ===

impl Node {
    /// Parses a node from a JSON object, ignoring the keys in `skip` (the top-level keys
    /// the caller has already taken).
    pub(crate) fn parse(map: &Map<String, Value>, skip: &[&str]) -> Result<Node> {
        let mut node = Node::default();
        for (key, value) in map {
            if skip.contains(&key.as_str()) {
                continue;
            }
            match key.as_str() {
                "s" => node.statics = Some(Statics::parse(value)?),
                "r" => node.root = Some(truthy(value)),
                "p" => node.templates = Some(parse_templates(value)?),
                "k" => node.keyed = Some(Keyed::parse(value)?),
                "stream" => node.stream = Some(value.clone()),
                _ => {
                    if let Some(index) = index(key) {
                        node.dynamics.insert(index, Part::parse(value)?);
                    }
                }
            }
        }
        Ok(node)
    }

    /// The node as wire JSON (what the client's tree would show, minus its private
    /// `magicId`/`newRender` bookkeeping).
    pub(crate) fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (index, part) in &self.dynamics {
            map.insert(index.to_string(), part.to_json());
        }
        if let Some(statics) = &self.statics {
            map.insert("s".into(), statics.to_json());
        }
        if let Some(root) = self.root {
            map.insert("r".into(), Value::from(u8::from(root)));
        }
        if let Some(templates) = &self.templates {
            map.insert("p".into(), templates_json(templates));
        }
        if let Some(keyed) = &self.keyed {
            map.insert("k".into(), keyed.to_json());
        }
        if let Some(stream) = &self.stream {
            map.insert("stream".into(), stream.clone());
        }
        Value::Object(map)
    }
}

// === impl Statics ===

impl Statics {
    fn parse(value: &Value) -> Result<Statics> {
        if let Some(strings) = strings(value) {
            return Ok(Statics::Inline(strings));
        }
        integer(value)
            .map(Statics::Ref)
            .ok_or_else(|| invalid(format!("\"s\" must be strings or an integer, got {value}")))
    }

    fn to_json(&self) -> Value {
        match self {
            Statics::Inline(strings) => strings_json(strings),
            Statics::Ref(index) => Value::from(*index),
        }
    }
}

// === impl Part ===

impl Part {
    fn parse(value: &Value) -> Result<Part> {
        Ok(match value {
            Value::String(text) => Part::Text(text.clone()),
            Value::Object(map) => Part::Node(Box::new(Node::parse(map, &[])?)),
            Value::Number(_) => Part::Cid(
                integer(value)
                    .ok_or_else(|| invalid(format!("a dynamic number is a cid, got {value}")))?,
            ),
            Value::Null | Value::Bool(_) | Value::Array(_) => Part::Other(value.clone()),
        })
    }

    fn to_json(&self) -> Value {
        match self {
            Part::Text(text) => Value::String(text.clone()),
            Part::Cid(cid) => Value::from(*cid),
            Part::Node(node) => node.to_json(),
            Part::Other(value) => value.clone(),
        }
    }
}

// === impl Keyed ===

impl Keyed {
    fn parse(value: &Value) -> Result<Keyed> {
        let Value::Object(map) = value else {
            return Err(invalid(format!("\"k\" must be an object, got {value}")));
        };
        let mut keyed = Keyed::default();
        for (key, value) in map {
            match key.as_str() {
                "kc" => {
                    let count = integer(value)
                        .and_then(|n| u64::try_from(n).ok())
                        .ok_or_else(|| invalid(format!("\"kc\" must be a count, got {value}")))?;
                    keyed.count = Some(count);
                }
                "km" => keyed.moved = truthy(value),
                _ => {
                    let Some(index) = index(key) else { continue };
                    if let Some(entry) = Entry::parse(value)? {
                        keyed.entries.insert(index, entry);
                    }
                }
            }
        }
        Ok(keyed)
    }

    fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (index, entry) in &self.entries {
            let value = match entry {
                Entry::Node(node) => node.to_json(),
                Entry::Move(old) => Value::from(*old),
                Entry::MoveWith(old, node) => Value::Array(vec![Value::from(*old), node.to_json()]),
            };
            map.insert(index.to_string(), value);
        }
        if let Some(count) = self.count {
            map.insert("kc".into(), Value::from(count));
        }
        if self.moved {
            map.insert("km".into(), Value::Bool(true));
        }
        Value::Object(map)
    }
}

// === impl Entry ===

impl Entry {
    /// Parses an entry; `None` for values the client skips (strings, booleans, null).
    fn parse(value: &Value) -> Result<Option<Entry>> {
        Ok(match value {
            Value::Object(map) => Some(Entry::Node(Node::parse(map, &[])?)),
            Value::Number(_) => {
                Some(Entry::Move(integer(value).ok_or_else(|| {
                    invalid(format!("a moved entry is an integer, got {value}"))
                })?))
            }
            Value::Array(pair) => match pair.as_slice() {
                [old, Value::Object(map)] => {
                    let old = integer(old).ok_or_else(|| {
                        invalid(format!("a moved entry is an integer, got {old}"))
                    })?;
                    Some(Entry::MoveWith(old, Node::parse(map, &[])?))
                }
                _ => {
                    return Err(invalid(format!(
                        "a moved entry is [index, diff], got {value}"
                    )));
                }
            },
            Value::String(_) | Value::Bool(_) | Value::Null => None,
        })
    }
}

// === JSON helpers ===

/// A canonical array index (`"0"`, `"17"`; not `"01"`): the only keys JavaScript's
/// `node[i]` reads.
pub(crate) fn index(key: &str) -> Option<usize> {
    let canonical =
        key == "0" || (!key.starts_with('0') && key.bytes().all(|b| b.is_ascii_digit()));
    if canonical && !key.is_empty() {
        key.parse().ok()
    } else {
        None
    }
}

/// A JSON number holding an integer (`3` or `3.0`).
pub(crate) fn integer(value: &Value) -> Option<i64> {
    if let Some(n) = value.as_i64() {
        return Some(n);
    }
    let f = value.as_f64()?;
    #[expect(
        clippy::cast_possible_truncation,
        reason = "checked to be integral and in range"
    )]
    let n = f as i64;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(n)
}

/// JavaScript truthiness of a JSON value.
pub(crate) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// How JavaScript's `+=` on a string writes a value that is not a string.
pub(crate) fn js_string(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                // Array.prototype.join writes null and undefined as nothing.
                if !item.is_null() {
                    js_string(item, out);
                }
            }
        }
        Value::Object(_) => out.push_str("[object Object]"),
    }
}

fn strings(value: &Value) -> Option<Arc<[String]>> {
    let Value::Array(items) = value else {
        return None;
    };
    items
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}

fn strings_json(strings: &[String]) -> Value {
    Value::Array(strings.iter().cloned().map(Value::String).collect())
}

fn parse_templates(value: &Value) -> Result<Templates> {
    let Value::Object(map) = value else {
        return Err(invalid(format!("\"p\" must be an object, got {value}")));
    };
    let mut templates = Templates::new();
    for (key, value) in map {
        let Ok(index) = key.parse::<i64>() else {
            continue;
        };
        if index.to_string() != *key {
            continue;
        }
        let statics = strings(value)
            .ok_or_else(|| invalid(format!("template {key} must be strings, got {value}")))?;
        templates.insert(index, statics);
    }
    Ok(templates)
}

fn templates_json(templates: &Templates) -> Value {
    Value::Object(
        templates
            .iter()
            .map(|(index, statics)| (index.to_string(), strings_json(statics)))
            .collect(),
    )
}

fn invalid(reason: String) -> Error {
    Error::InvalidDiff(reason)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn index_keys_are_canonical() {
        assert_eq!(index("0"), Some(0));
        assert_eq!(index("17"), Some(17));
        assert_eq!(index("01"), None);
        assert_eq!(index(""), None);
        assert_eq!(index("s"), None);
        assert_eq!(index("-1"), None);
    }

    #[test]
    fn js_strings() {
        let mut out = String::new();
        js_string(&json!([1, null, [true, "a"], "b"]), &mut out);
        assert_eq!(out, "1,,true,a,b");
    }

    #[test]
    fn parse_and_back() {
        let wire = json!({"0": "a", "1": {"k": {"0": {"0": "x"}, "1": [0, {"0": "y"}], "2": 1, "kc": 3, "km": true}, "s": 0},
                          "s": ["<p>", "", "</p>"], "p": {"0": ["<i>", "</i>"]}, "r": 1, "2": 3});
        let Value::Object(map) = &wire else {
            unreachable!()
        };
        let node = Node::parse(map, &[]).unwrap();
        assert_eq!(node.to_json(), wire);
    }
}
