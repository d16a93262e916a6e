//! The client's copy of a view: a port of `Rendered` from `phoenix_live_view` 1.2.12
//! (`assets/js/phoenix_live_view/rendered.js`), the merge of server diffs into the
//! rendered tree and the HTML built from it.
//!
//! # Design
//!
//! The server sends the tree once (the join's `rendered`) and then only diffs. The
//! client keeps the whole tree and merges each diff into it:
//!
//! * a node that arrives with `"s"` **replaces** what was there (a new template);
//! * a node without `"s"` is merged key by key into the node in its place, recursing
//!   into nested nodes and overwriting anything else (text, cids, a node replacing text);
//! * a keyed comprehension (`"k"`) merges entry by entry: an object patches (or creates)
//!   the entry at that position, `j` puts the entry that was at `j` *before the diff*
//!   here, `[j, diff]` does the same and patches it; `"kc"` cuts the list. Moves read a
//!   copy taken before anything changed, which the client only takes when `"km"` is set;
//! * components (`"c"`) merge into their previous tree, or start from another
//!   component's when their `"s"` is a cid (positive: from this diff, negative: as it
//!   was before it).
//!
//! Rendering walks the tree writing statics and dynamics. `"s": int` is looked up in the
//! `"p"` templates in scope and the result is kept in the node, so rendering after every
//! merge — as the client's `View` does, and as [`Rendered::update`] does — is part of the
//! semantics: a later diff's `"p"` numbers its templates afresh.
//!
//! # A worked example
//!
//! ```
//! use cinder_protocol_client::{Diff, Rendered};
//! use serde_json::json;
//!
//! // The join: statics in the root "p" table, a keyed list of two entries.
//! let (join, _) = Diff::extract(&json!({
//!     "0": {"k": {"0": {"0": "a"}, "1": {"0": "b"}, "kc": 2}, "s": 0}, "s": 1,
//!     "p": {"0": ["<li>", "</li>"], "1": ["<ul>", "</ul>"]}
//! }))?;
//! let mut view = Rendered::new(join)?;
//! assert_eq!(view.render()?, "<ul><li>a</li><li>b</li></ul>");
//!
//! // Reversing moves entries by their old positions; appending sends a new entry.
//! let (diff, _) = Diff::extract(&json!({"0": {"k": {"0": 1, "1": 0, "2": {"0": "c"}, "kc": 3, "km": true}}}))?;
//! view.update(diff)?;
//! assert_eq!(view.render()?, "<ul><li>b</li><li>a</li><li>c</li></ul>");
//! # Ok::<(), cinder_protocol_client::Error>(())
//! ```
//!
//! # Not ported
//!
//! The client's DOM-facing bookkeeping is left out: magic ids and `newRender` flags
//! (they only add `data-phx-id` attributes and `data-phx-skip` placeholders), the
//! rendering buffer classes, and component pruning state (`reset`). Stream entries are
//! dropped after the render that brings them, as in the client, whose DOM then keeps
//! them; this tree does not.

mod html;
mod node;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub(crate) use node::{Components, Node, js_string, truthy};
use node::{Entry, Keyed, Part, Statics, Templates};

use crate::diff::Diff;
use crate::error::{Error, Result};

/// The client-side tree of one view.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    root: Node,
    components: Components,
    streams: Vec<Value>,
}

impl Rendered {
    /// `new Rendered(id, diff)`: an empty tree with `diff` merged into it. Like the
    /// client's constructor this does not render; [`Rendered::join`] does both.
    pub fn new(diff: Diff) -> Result<Rendered> {
        let mut rendered = Rendered::default();
        rendered.merge_diff(diff)?;
        Ok(rendered)
    }

    /// What the client's `View` does with a join's `rendered`: builds the tree and
    /// renders it once. Returns the tree and its HTML.
    pub fn join(diff: Diff) -> Result<(Rendered, String)> {
        let mut rendered = Rendered::new(diff)?;
        let html = rendered.render()?;
        Ok((rendered, html))
    }

    /// `mergeDiff`: merges a diff without rendering. Call [`Rendered::render`] before the
    /// next merge (or use [`Rendered::update`]), as the client always does.
    pub fn merge_diff(&mut self, diff: Diff) -> Result<()> {
        let Diff {
            node, components, ..
        } = diff;
        if node.statics.is_some() {
            // A new root template: the client's tree is the diff itself, and the
            // components of the old tree are gone with it.
            self.root = node;
            self.components.clear();
        } else {
            merge_into(&mut self.root, node)?;
        }
        if let Some(components) = components {
            self.merge_components(components)?;
        }
        Ok(())
    }

    /// What the client's `View.update` does with an update: merges the diff, then renders
    /// the components of a components-only diff one by one (`componentToString`, which
    /// requires each to start with a tag), or the whole view for any other non-empty
    /// diff. Returns the view's complete HTML after the merge, or `None` for an empty
    /// diff, after which nothing is rendered.
    pub fn update(&mut self, diff: Diff) -> Result<Option<String>> {
        let components_only = diff.is_components_only();
        let empty = diff.is_empty();
        let cids = diff.component_ids();
        self.merge_diff(diff)?;
        if components_only {
            for cid in cids {
                self.component_html(cid)?;
            }
        } else if empty {
            return Ok(None);
        }
        self.render().map(Some)
    }

    /// `toString`: the view's complete inner HTML (without the attributes the client
    /// adds for itself). Resolves templates and drops rendered stream entries, as the
    /// client's render does.
    pub fn render(&mut self) -> Result<String> {
        let mut render = html::Render {
            components: &mut self.components,
            out: String::new(),
            streams: Vec::new(),
        };
        let result = render.node(&mut self.root, None);
        let html::Render { out, streams, .. } = render;
        self.streams.extend(streams);
        result.map(|()| out)
    }

    /// `componentToString`: one component's HTML, which must start with a tag.
    pub fn component_html(&mut self, cid: i64) -> Result<String> {
        let mut render = html::Render {
            components: &mut self.components,
            out: String::new(),
            streams: Vec::new(),
        };
        let result = render.component(cid);
        let html::Render { out, streams, .. } = render;
        self.streams.extend(streams);
        result?;
        html::check_root(&out)?;
        Ok(out)
    }

    /// The ids of the components the tree holds.
    pub fn component_ids(&self) -> Vec<i64> {
        self.components.keys().copied().collect()
    }

    /// The components no longer reachable from the view's root: the ones whose elements
    /// a browser would see disappear, and so report with `cids_will_destroy`.
    pub fn orphan_component_ids(&self) -> Vec<i64> {
        let mut reachable = std::collections::BTreeSet::new();
        let mut stack = Vec::new();
        collect_cids(&self.root, &mut stack);
        while let Some(cid) = stack.pop() {
            if reachable.insert(cid)
                && let Some(component) = self.components.get(&cid)
            {
                collect_cids(component, &mut stack);
            }
        }
        self.components
            .keys()
            .copied()
            .filter(|cid| !reachable.contains(cid))
            .collect()
    }

    /// `pruneCIDs`: forgets components the server confirmed destroyed.
    pub fn prune_components(&mut self, cids: &[i64]) {
        for cid in cids {
            self.components.remove(cid);
        }
    }

    /// The stream tuples (`[ref, inserts, delete_ids, reset]`) rendered since the last
    /// call, oldest first.
    pub fn take_streams(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.streams)
    }

    /// The tree as JSON, as the client's `get()` shows it minus its private flags:
    /// the root's keys plus `"c"` with the components.
    pub fn to_json(&self) -> Value {
        let mut root = match self.root.to_json() {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let components = self
            .components
            .iter()
            .map(|(cid, node)| (cid.to_string(), node.to_json()))
            .collect();
        root.insert("c".into(), Value::Object(components));
        Value::Object(root)
    }

    /// `cachedFindComponent` for every cid of the diff, then the results replace the
    /// old components. Every lookup reads the components as they were before the diff.
    fn merge_components(&mut self, mut diffs: Components) -> Result<()> {
        let cids: Vec<i64> = diffs.keys().copied().collect();
        let mut merged = Components::new();
        for cid in cids {
            find_component(cid, &mut diffs, &self.components, &mut merged)?;
        }
        self.components.extend(merged);
        Ok(())
    }
}

/// `doMutableMerge`: merges `source` key by key into `target`. A nested node with
/// statics replaces the one in its place (`mutableMerge`); one without merges into it.
fn merge_into(target: &mut Node, source: Node) -> Result<()> {
    let Node {
        statics,
        dynamics,
        root,
        templates,
        keyed,
        stream,
    } = source;
    if let Some(keyed) = keyed {
        // A keyed diff merges its entries only; its other keys are ignored.
        return merge_keyed(target, keyed, stream, templates);
    }
    for (index, part) in dynamics {
        match (part, target.dynamics.get_mut(&index)) {
            (Part::Node(node), Some(Part::Node(existing))) if node.statics.is_none() => {
                merge_into(existing, *node)?;
            }
            (part, _) => {
                target.dynamics.insert(index, part);
            }
        }
    }
    // Only an entry patch can carry "s" here; the client copies it like any key.
    if statics.is_some() {
        target.statics = statics;
    }
    if root.is_some() {
        target.root = root;
    }
    if let Some(templates) = templates {
        // "p" is an object, so it merges into an unrendered "p" key by key.
        match &mut target.templates {
            Some(existing) => existing.extend(templates),
            None => target.templates = Some(templates),
        }
    }
    if stream.is_some() {
        target.stream = stream;
    }
    Ok(())
}

/// `mergeKeyed`.
fn merge_keyed(
    target: &mut Node,
    source: Keyed,
    stream: Option<Value>,
    templates: Option<Templates>,
) -> Result<()> {
    let Some(entries) = target.keyed.as_mut() else {
        return Err(Error::Render(
            "a keyed diff for a node that is not a comprehension".into(),
        ));
    };
    // Moves read the entries as they were before the diff. The client deep-copies the
    // whole comprehension when "km" is set; copying the moved entries is the same.
    let before: Option<BTreeMap<i64, Entry>> = source.moved.then(|| {
        source
            .entries
            .values()
            .filter_map(|entry| match entry {
                Entry::Move(old) | Entry::MoveWith(old, _) => Some(*old),
                Entry::Node(_) => None,
            })
            .filter_map(|old| {
                let entry = entries.entries.get(&usize::try_from(old).ok()?)?;
                Some((old, entry.clone()))
            })
            .collect()
    });
    let moved = |old: i64| -> Result<Entry> {
        let before = before
            .as_ref()
            .ok_or_else(|| Error::Render("a keyed diff moves entries without \"km\"".into()))?;
        before
            .get(&old)
            .cloned()
            .ok_or_else(|| Error::Render(format!("a keyed diff moves missing entry {old}")))
    };
    for (index, entry) in source.entries {
        match entry {
            Entry::MoveWith(old, diff) => {
                let mut entry = moved(old)?;
                let Entry::Node(node) = &mut entry else {
                    return Err(Error::Render(format!("entry {old} is not rendered")));
                };
                merge_into(node, diff)?;
                entries.entries.insert(index, entry);
            }
            Entry::Move(old) => {
                entries.entries.insert(index, moved(old)?);
            }
            Entry::Node(diff) => {
                let entry = entries
                    .entries
                    .entry(index)
                    .or_insert_with(|| Entry::Node(Node::default()));
                let Entry::Node(node) = entry else {
                    return Err(Error::Render(format!("entry {index} is not rendered")));
                };
                merge_into(node, diff)?;
            }
        }
    }
    if let (Some(new), Some(old)) = (source.count, entries.count)
        && new < old
    {
        // `for (i = kc; i < old kc; i++) delete`: only the entries in that range.
        let (Ok(new), Ok(old)) = (usize::try_from(new), usize::try_from(old)) else {
            return Err(Error::InvalidDiff(format!("\"kc\" {new} is out of range")));
        };
        let cut: Vec<usize> = entries.entries.range(new..old).map(|(i, _)| *i).collect();
        for index in cut {
            entries.entries.remove(&index);
        }
    }
    entries.count = source.count;
    if stream.is_some() {
        target.stream = stream;
    }
    if templates.is_some() {
        target.templates = templates;
    }
    Ok(())
}

/// `cachedFindComponent`: the merged tree of component `cid`, into `merged`.
fn find_component(
    cid: i64,
    diffs: &mut Components,
    old: &Components,
    merged: &mut Components,
) -> Result<()> {
    if merged.contains_key(&cid) {
        return Ok(());
    }
    // Taken out, so a chain of "s" links that loops back finds it missing.
    let diff = diffs.remove(&cid).ok_or_else(|| {
        Error::Render(format!(
            "component {cid} shares statics with a missing or looping component"
        ))
    })?;
    let component = match diff.statics {
        Some(Statics::Ref(shared)) => {
            let mut base = if shared > 0 {
                find_component(shared, diffs, old, merged)?;
                merged.get(&shared).cloned()
            } else {
                shared
                    .checked_neg()
                    .and_then(|previous| old.get(&previous).cloned())
            }
            .ok_or_else(|| {
                Error::Render(format!(
                    "component {cid} shares statics with missing component {shared}"
                ))
            })?;
            // The merged tree keeps the shared statics.
            let diff = Node {
                statics: None,
                ..diff
            };
            merge_into(&mut base, diff)?;
            base
        }
        Some(Statics::Inline(_)) => diff,
        None => match old.get(&cid) {
            Some(previous) => {
                let mut base = previous.clone();
                merge_into(&mut base, diff)?;
                base
            }
            None => diff,
        },
    };
    merged.insert(cid, component);
    Ok(())
}

/// The cids a tree refers to, without descending into components.
fn collect_cids(node: &Node, out: &mut Vec<i64>) {
    let mut parts: Vec<&Part> = node.dynamics.values().collect();
    if let Some(keyed) = &node.keyed {
        for entry in keyed.entries.values() {
            if let Entry::Node(entry) | Entry::MoveWith(_, entry) = entry {
                parts.extend(entry.dynamics.values());
            }
        }
    }
    for part in parts {
        match part {
            Part::Cid(cid) => out.push(*cid),
            Part::Node(node) => collect_cids(node, out),
            Part::Text(_) | Part::Other(_) => {}
        }
    }
}
