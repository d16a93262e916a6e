//! What a template produces: statics known at compile time plus lazily evaluated dynamics.
//!
//! `html!` compiles a template into one [`Template`] (its statics, a fingerprint and
//! whether it has a single root tag) and a closure that evaluates the dynamics. The closure
//! runs only when the diff engine walks the tree, and it receives whether change tracking
//! applies: when the client already holds this template at this position, dynamics whose
//! assigns did not change are skipped (`None`) without being evaluated.

use std::fmt;

use crate::component::Registry;
use crate::html::IntoDynamic;
use crate::stream::StreamOps;

/// The compile-time half of a template.
#[derive(Debug)]
pub struct Template {
    /// The static HTML between the dynamics; one more than there are dynamics.
    pub statics: &'static [&'static str],
    /// Identifies the statics; equal fingerprints mean equal statics.
    pub fingerprint: u64,
    /// The template has exactly one root tag, so the client may tag it (`"r":1`).
    pub root: bool,
}

type Lazy<'a> = Box<dyn FnOnce(bool) -> Vec<Option<Dynamic<'a>>> + 'a>;

/// A node's dynamics: deferred (with change tracking) or already evaluated.
pub(crate) enum Dynamics<'a> {
    Lazy(Lazy<'a>),
    Eager(Vec<Dynamic<'a>>),
}

/// A template together with the deferred evaluation of its dynamics.
pub struct Rendered<'a> {
    pub(crate) template: &'static Template,
    pub(crate) dynamics: Dynamics<'a>,
}

impl<'a> Rendered<'a> {
    /// Pairs a template with the closure computing its dynamics.
    ///
    /// The closure gets `true` when change tracking applies; it may then return `None` for
    /// a dynamic whose inputs did not change. With `false` it must return every dynamic.
    pub fn new(
        template: &'static Template,
        dynamics: impl FnOnce(bool) -> Vec<Option<Dynamic<'a>>> + 'a,
    ) -> Self {
        Rendered {
            template,
            dynamics: Dynamics::Lazy(Box::new(dynamics)),
        }
    }

    /// A template whose dynamics are already evaluated (no change tracking applies).
    pub fn eager(template: &'static Template, dynamics: Vec<Dynamic<'a>>) -> Self {
        Rendered {
            template,
            dynamics: Dynamics::Eager(dynamics),
        }
    }

    pub(crate) fn is_eager(&self) -> bool {
        matches!(self.dynamics, Dynamics::Eager(_))
    }

    /// Evaluates the dynamics; with `track`, unchanged ones may come back `None`.
    pub(crate) fn eval(self, track: bool) -> Vec<Option<Dynamic<'a>>> {
        match self.dynamics {
            Dynamics::Lazy(f) => f(track),
            Dynamics::Eager(dynamics) => dynamics.into_iter().map(Some).collect(),
        }
    }

    /// Evaluates the whole tree now, so it no longer borrows anything.
    ///
    /// Function components are rendered this way: their props live only for the call.
    pub fn into_owned<'b>(self) -> Rendered<'b> {
        let template = self.template;
        let dynamics = self
            .eval(false)
            .into_iter()
            .map(|d| d.unwrap_or_default().into_owned())
            .collect();
        Rendered::eager(template, dynamics)
    }

    /// The template's compile-time half.
    pub fn template(&self) -> &'static Template {
        self.template
    }

    /// Renders the whole tree to HTML, as the dead (HTTP) render sends it.
    pub fn to_html(self) -> String {
        let mut out = String::new();
        self.write_html(&mut out);
        out
    }

    pub(crate) fn write_html(self, out: &mut String) {
        let statics = self.template.statics;
        let dynamics = self.eval(false);
        write_parts(
            statics,
            dynamics.into_iter().map(|d| d.unwrap_or_default()),
            out,
        );
    }
}

fn write_parts<'a>(
    statics: &[&str],
    dynamics: impl Iterator<Item = Dynamic<'a>>,
    out: &mut String,
) {
    let mut dynamics = dynamics;
    for (i, s) in statics.iter().enumerate() {
        if i > 0
            && let Some(dynamic) = dynamics.next()
        {
            dynamic.write_html(out);
        }
        out.push_str(s);
    }
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("template", self.template)
            .finish_non_exhaustive()
    }
}

/// One dynamic slot's value.
pub enum Dynamic<'a> {
    /// Already escaped HTML text.
    Text(String),
    /// A nested template (`if`/`match` yielding `html!`, a function component).
    Rendered(Rendered<'a>),
    /// A `:for` comprehension.
    Comprehension(Comprehension<'a>),
    /// A stateful (live) component: the parent holds its cid, its render goes to `"c"`.
    Component(Box<Component<'a>>),
}

impl Default for Dynamic<'_> {
    fn default() -> Self {
        Dynamic::Text(String::new())
    }
}

impl<'a> Dynamic<'a> {
    /// A live component instance identified by `kind` (its type) and `id`.
    pub fn component(kind: &'static str, id: impl Into<String>, rendered: Rendered<'a>) -> Self {
        Dynamic::Component(Box::new(Component::new(kind, id, rendered)))
    }

    /// Evaluates nested templates now, so the value no longer borrows anything.
    pub fn into_owned<'b>(self) -> Dynamic<'b> {
        match self {
            Dynamic::Text(text) => Dynamic::Text(text),
            Dynamic::Rendered(rendered) => Dynamic::Rendered(rendered.into_owned()),
            Dynamic::Comprehension(list) => Dynamic::Comprehension(Comprehension {
                template: list.template,
                stream: list.stream,
                entries: list
                    .entries
                    .into_iter()
                    .map(|e| Entry {
                        key: e.key,
                        dynamics: e.dynamics.into_iter().map(Dynamic::into_owned).collect(),
                    })
                    .collect(),
            }),
            Dynamic::Component(component) => Dynamic::Component(Box::new(Component {
                kind: component.kind,
                id: component.id,
                body: match component.body {
                    Body::Ready(rendered) => Body::Ready(rendered.into_owned()),
                    Body::Deferred(render) => Body::Deferred(render),
                },
            })),
        }
    }

    pub(crate) fn write_html(self, out: &mut String) {
        match self {
            Dynamic::Text(text) => out.push_str(&text),
            Dynamic::Rendered(rendered) => rendered.write_html(out),
            Dynamic::Comprehension(list) => {
                for entry in list.entries {
                    write_parts(list.template.statics, entry.dynamics.into_iter(), out);
                }
            }
            // The client adds `data-phx-component` (and its ids) to the root tag itself;
            // the HTML here is what it renders once those are stripped.
            // A render waiting for its cid gets 0 here: a dead render has no cids, and
            // the join replaces it.
            Dynamic::Component(component) => {
                component.body.into_rendered(0, None).write_html(out);
            }
        }
    }
}

impl fmt::Debug for Dynamic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dynamic::Text(text) => f.debug_tuple("Text").field(text).finish(),
            Dynamic::Rendered(r) => r.fmt(f),
            Dynamic::Comprehension(c) => c.fmt(f),
            Dynamic::Component(c) => c.fmt(f),
        }
    }
}

/// A live component instance: its identity and its render.
///
/// The diff engine gives every `(kind, id)` a cid, from 1, that lasts until the client
/// reports it destroyed; the parent's slot holds that cid and the render is diffed
/// against the component's own prints into the diff's `"c"` map.
pub struct Component<'a> {
    /// The component's type; ids are unique per kind, and only components of one kind
    /// share statics (as Phoenix's `id_to_cid` is keyed by module).
    pub(crate) kind: &'static str,
    /// The author's `id`, unique among the components of one kind in a render.
    pub(crate) id: String,
    pub(crate) body: Body<'a>,
}

/// A component's render: ready, or made once its cid is known (a stateful component
/// renders its own `phx-target`, the cid).
pub(crate) enum Body<'a> {
    Ready(Rendered<'a>),
    Deferred(Box<DeferredRender>),
}

/// A component render waiting for its cid, and for the session's instances (`None` in
/// a dead render: the instance is mounted for that render only).
pub(crate) type DeferredRender = dyn FnOnce(u32, Option<&mut Registry>) -> Rendered<'static>;

impl<'a> Body<'a> {
    /// The render for `cid`, with the session's instances if it has any.
    pub(crate) fn into_rendered(self, cid: u32, instances: Option<&mut Registry>) -> Rendered<'a> {
        match self {
            Body::Ready(rendered) => rendered,
            Body::Deferred(render) => render(cid, instances).into_owned(),
        }
    }
}

impl<'a> Component<'a> {
    /// An instance of `kind` identified by `id`, rendering `rendered` (one root tag).
    pub fn new(kind: &'static str, id: impl Into<String>, rendered: Rendered<'a>) -> Self {
        Component {
            kind,
            id: id.into(),
            body: Body::Ready(rendered),
        }
    }

    /// An instance whose render depends on its cid and on the session's instances:
    /// `render` runs once the engine has given the instance its cid, and only if the
    /// client needs this render (a duplicate id is rendered once).
    pub(crate) fn deferred(
        kind: &'static str,
        id: impl Into<String>,
        render: impl FnOnce(u32, Option<&mut Registry>) -> Rendered<'static> + 'static,
    ) -> Self {
        Component {
            kind,
            id: id.into(),
            body: Body::Deferred(Box::new(render)),
        }
    }
}

impl fmt::Debug for Component<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Component")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The entries of a `:for`, all sharing one body template.
pub struct Comprehension<'a> {
    pub(crate) template: &'static Template,
    pub(crate) entries: Vec<Entry<'a>>,
    /// Set for a stream: the entries are its new inserts, and the client gets these ops.
    pub(crate) stream: Option<Box<StreamOps>>,
}

/// One entry of a comprehension: its key and the body's dynamics.
pub struct Entry<'a> {
    pub(crate) key: u64,
    pub(crate) dynamics: Vec<Dynamic<'a>>,
}

impl<'a> Comprehension<'a> {
    /// An empty comprehension over `template`, the `:for` body.
    pub fn new(template: &'static Template) -> Self {
        Comprehension {
            template,
            entries: Vec::new(),
            stream: None,
        }
    }

    /// A stream's comprehension: the entries pushed are its new inserts.
    pub fn stream(template: &'static Template, ops: StreamOps) -> Self {
        Comprehension {
            template,
            entries: Vec::new(),
            stream: Some(Box::new(ops)),
        }
    }

    /// An empty comprehension with room for `capacity` entries.
    pub fn with_capacity(template: &'static Template, capacity: usize) -> Self {
        Comprehension {
            template,
            entries: Vec::with_capacity(capacity),
            stream: None,
        }
    }

    /// Appends an entry identified by its index (no `:key`).
    pub fn push(&mut self, dynamics: Vec<Dynamic<'a>>) {
        let key = self.entries.len() as u64;
        self.entries.push(Entry { key, dynamics });
    }

    /// Appends an entry identified by `key` (the value of `:key`).
    pub fn push_keyed(
        &mut self,
        key: &(impl std::hash::Hash + ?Sized),
        dynamics: Vec<Dynamic<'a>>,
    ) {
        self.entries.push(Entry {
            key: key_hash(key),
            dynamics,
        });
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Hashes a `:key` value. The hash, not the value, is what the session keeps.
fn key_hash(key: &(impl std::hash::Hash + ?Sized)) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<xxhash_rust::xxh3::Xxh3Default>::default().hash_one(key)
}

impl fmt::Debug for Comprehension<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Comprehension")
            .field("template", self.template)
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// Converts an interpolated value; the `html!` expansion calls this for every `{expr}`.
pub fn dynamic<'a>(value: impl IntoDynamic<'a>) -> Dynamic<'a> {
    value.into_dynamic()
}

#[cfg(test)]
mod tests {
    use super::*;

    static ITEM: Template = Template {
        statics: &["<li>", "</li>"],
        fingerprint: 2,
        root: true,
    };
    static LIST: Template = Template {
        statics: &["<ul>", "</ul>"],
        fingerprint: 1,
        root: true,
    };

    #[test]
    fn renders_nested_html() {
        let rendered = Rendered::new(&LIST, |_| {
            let mut list = Comprehension::new(&ITEM);
            list.push(vec![dynamic("a<b")]);
            list.push(vec![dynamic(2)]);
            vec![Some(Dynamic::Comprehension(list))]
        });
        assert_eq!(rendered.to_html(), "<ul><li>a&lt;b</li><li>2</li></ul>");
    }
}
