//! Rendering the tree to HTML: a port of `Rendered.toOutputBuffer` and its helpers.
//!
//! Rendering also changes the tree, exactly as the client's does, and later merges
//! depend on it: `"s": int` is replaced by the template's statics and `"p"` is dropped,
//! and a stream comprehension loses its entries once they have been rendered.
//!
//! What the client adds on top — `data-phx-id` magic ids, `data-phx-component` and
//! `data-phx-view` on component roots, `data-phx-skip` placeholders for untouched roots —
//! is left out: the output is the complete markup, as the oracle normalizes it. The
//! root check stays, because the client throws on it (`malformed html`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::node::{Components, Entry, Keyed, Node, Part, Statics, Templates, js_string, truthy};
use crate::error::{Error, Result};

/// The state of one render: where HTML goes, and the components it may pull in.
pub(crate) struct Render<'a> {
    pub(crate) components: &'a mut Components,
    pub(crate) out: String,
    /// Stream tuples rendered (and so dropped from the tree) by this render.
    pub(crate) streams: Vec<Value>,
}

impl Render<'_> {
    /// `toOutputBuffer`: one node, under the templates in scope.
    pub(crate) fn node(&mut self, node: &mut Node, templates: Option<&Templates>) -> Result<()> {
        if node.keyed.is_some() {
            return self.comprehension(node, templates);
        }
        // A node's own templates apply below it; they are resolved now and not kept.
        let own = node.templates.take();
        let templates = own.as_ref().or(templates);
        let statics = resolve(&mut node.statics, templates)?;
        let root = node.root == Some(true);
        let start = self.out.len();
        self.dynamics(&mut node.dynamics, &statics, templates)?;
        if root {
            check_root(&self.out[start..])?;
        }
        Ok(())
    }

    /// `comprehensionToBuffer`. Unlike a plain node, the templates handed down take
    /// precedence over the comprehension's own, and its statics resolve only against
    /// the ones handed down.
    fn comprehension(&mut self, node: &mut Node, templates: Option<&Templates>) -> Result<()> {
        let own = node.templates.take();
        let entry_templates = templates.or(own.as_ref());
        let statics = resolve(&mut node.statics, templates)?;
        let Some(keyed) = node.keyed.as_mut() else {
            return Ok(());
        };
        let count = keyed.count.unwrap_or(0);
        for i in 0..count {
            let entry = usize::try_from(i)
                .ok()
                .and_then(|i| keyed.entries.get_mut(&i));
            match entry {
                Some(Entry::Node(entry)) => {
                    self.dynamics(&mut entry.dynamics, &statics, entry_templates)?;
                }
                Some(Entry::Move(_) | Entry::MoveWith(..)) => {
                    return Err(Error::Render(format!(
                        "comprehension entry {i} is a move outside of a merge"
                    )));
                }
                None => {
                    return Err(Error::Render(format!(
                        "comprehension entry {i} of {count} is missing"
                    )));
                }
            }
        }
        // Stream entries live in the DOM once rendered, so the tree drops them.
        if let Some(stream) = &node.stream
            && drops_entries(stream, count)?
        {
            self.streams.extend(node.stream.take());
            *keyed = Keyed {
                count: Some(0),
                ..Keyed::default()
            };
        }
        Ok(())
    }

    /// `dynamicsToBuffer`: statics with the dynamics in between. A missing dynamic is
    /// written as JavaScript writes `undefined`.
    fn dynamics(
        &mut self,
        dynamics: &mut BTreeMap<usize, Part>,
        statics: &[String],
        templates: Option<&Templates>,
    ) -> Result<()> {
        let Some((last, leading)) = statics.split_last() else {
            // `statics[statics.length - 1]` of an empty array.
            self.out.push_str("undefined");
            return Ok(());
        };
        for (i, text) in leading.iter().enumerate() {
            self.out.push_str(text);
            match dynamics.get_mut(&i) {
                Some(Part::Text(text)) => self.out.push_str(text),
                Some(Part::Cid(cid)) => self.component(*cid)?,
                Some(Part::Node(node)) => self.node(node, templates)?,
                Some(Part::Other(value)) => js_string(value, &mut self.out),
                None => self.out.push_str("undefined"),
            }
        }
        self.out.push_str(last);
        Ok(())
    }

    /// `recursiveCIDToString`: a component renders with no templates in scope but its
    /// own. It is taken out of the map while it renders, so a component that contains
    /// itself fails as missing (the client recurses until the stack overflows).
    pub(crate) fn component(&mut self, cid: i64) -> Result<()> {
        let mut component = self
            .components
            .remove(&cid)
            .ok_or_else(|| Error::Render(format!("no component for CID {cid}")))?;
        let result = self.node(&mut component, None);
        self.components.insert(cid, component);
        result
    }
}

/// `templateStatic`, keeping the result in the node as the client does.
fn resolve(statics: &mut Option<Statics>, templates: Option<&Templates>) -> Result<Arc<[String]>> {
    match statics {
        Some(Statics::Inline(strings)) => Ok(strings.clone()),
        Some(Statics::Ref(index)) => {
            let strings = templates
                .and_then(|templates| templates.get(index))
                .cloned()
                .ok_or_else(|| Error::Render(format!("no template {index} in scope")))?;
            *statics = Some(Statics::Inline(strings.clone()));
            Ok(strings)
        }
        None => Err(Error::Render("a node without statics".into())),
    }
}

/// Whether a rendered stream comprehension drops its entries: the client's
/// `kc > 0 || deleteIds.length > 0 || reset`.
fn drops_entries(stream: &Value, count: u64) -> Result<bool> {
    if count > 0 {
        return Ok(true);
    }
    let malformed = || {
        Error::InvalidDiff(format!(
            "a stream is [ref, inserts, delete_ids, reset], got {stream}"
        ))
    };
    let Value::Array(parts) = stream else {
        return Err(malformed());
    };
    let deletes = match parts.get(2) {
        Some(Value::Array(ids)) => !ids.is_empty(),
        Some(Value::String(ids)) => !ids.is_empty(),
        _ => return Err(malformed()),
    };
    Ok(deletes || parts.get(3).is_some_and(truthy))
}

/// `modifyRoot`'s check: a root's HTML starts, after whitespace, with a start tag.
///
/// The client matches `^(\s*(?:<!--.*?-->\s*)*)<([^\s\/>]+)`; a comment also matches
/// the tag branch (`<!--` is `<` then `!--`), so the regex matches exactly when the
/// first character after JavaScript whitespace is `<` followed by a character that is
/// neither whitespace, `/` nor `>`.
pub(crate) fn check_root(html: &str) -> Result<()> {
    let rest = html.trim_start_matches(is_js_whitespace);
    let mut chars = rest.chars();
    let starts_tag = chars.next() == Some('<')
        && chars
            .next()
            .is_some_and(|c| !is_js_whitespace(c) && c != '/' && c != '>');
    if starts_tag {
        Ok(())
    } else {
        Err(Error::Render(format!("malformed html {html}")))
    }
}

/// JavaScript's `\s`.
fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_must_start_with_a_tag() {
        assert!(check_root("<div>x</div>").is_ok());
        assert!(check_root("\n  <!-- c -->\n<div>").is_ok());
        assert!(check_root("\u{feff}<p>").is_ok());
        assert!(check_root("text <div>").is_err());
        assert!(check_root("</div>").is_err());
        assert!(check_root("< div>").is_err());
        assert!(check_root("<").is_err());
        assert!(check_root("").is_err());
    }
}
