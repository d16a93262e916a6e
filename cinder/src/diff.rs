//! The diff engine: turns a render into the minimal LiveView 1.2.12 diff.
//!
//! # Design
//!
//! The client keeps the whole rendered tree; the server keeps only its *shape*: for every
//! node the fingerprint of its template, and for comprehension entries their keys and a
//! hash of each dynamic. That shape (the *prints*) is all a session holds between renders —
//! never a copy of the HTML or of old assigns.
//!
//! Walking a new render against the prints gives three cases per node:
//!
//! * **miss** — no print, or a different fingerprint: the client cannot hold this
//!   template here, so the node is sent whole, every dynamic evaluated, with its statics.
//!   Statics go into the root `"p"` table and the node points at them with `"s": index`;
//!   a template used twice in one diff is sent once.
//! * **hit** — same fingerprint: statics are left out and only dynamics whose assigns
//!   changed are evaluated and sent. An unchanged nested node contributes nothing.
//! * **comprehension** — entries are matched by key (`:key`, or the index). A kept entry
//!   sends only the dynamics whose hash changed, a moved entry is sent as its old index
//!   (`j` or `[j, diff]`) with `"km": true`, a new entry is sent whole, `"kc"` gives the
//!   new count. Nothing changed and the same count: the comprehension is left out.
//!
//! # A worked example
//!
//! The template `<ul>{:for item in @items}<li>{item}</li>{/for}</ul>` (written with
//! `:for` on the `<li>`) first renders `["a", "b"]` as
//!
//! ```json
//! {"0":{"k":{"0":{"0":"a"},"1":{"0":"b"},"kc":2},"s":0},"s":1,
//!  "p":{"0":["<li>","</li>"],"1":["<ul>","</ul>"]}}
//! ```
//!
//! The body's statics get index 0 because children are written before their parent, as
//! Phoenix does. Reversing the list sends only moves, `{"0":{"k":{"0":1,"1":0,"kc":2,"km":true}}}`,
//! and appending `"c"` sends `{"0":{"k":{"2":{"0":"c"},"kc":3}}}`.
//!
//! The top-level node never carries `"r"`: there it means an event reply, so the root
//! flag is only written on nested nodes. Top-level `"t"` (title), `"e"` (pushed events)
//! and `"r"` (reply) come from [`Extras`].
//!
//! # Live components
//!
//! A [`Dynamic::Component`] is written in its parent as its cid, a JSON number. Cids
//! come from the session's registry, keyed by `(kind, id)`, from 1; a cid lasts across
//! renders until the client destroys it ([`Prints::will_destroy`], then
//! [`Prints::destroy`]). Components met in a render are queued and written after the
//! tree, level by level, under the top-level `"c"`, each diffed against its own print:
//! an unchanged component is left out, a changed one sends its changed dynamics only.
//! Inside a component statics are inline (`"s":[…]`); a comprehension there carries its
//! own `"p"` for its entries' nodes, as Phoenix does.
//!
//! A component the client holds nothing of (new, revived, or a new root template) first
//! looks for another component of its kind with the same root template. If one is
//! found, its print becomes the base, the diff says `"s":-cid` (its tree as the client
//! held it before this diff) or `"s":cid` (its tree from this diff), every dynamic is
//! sent, nested statics the base already has are left out, and comprehension entries
//! are all sent whole (Phoenix's issue 3904). To keep old trees available, the
//! components needing a base are rendered first in each level. After
//! `<div>{@component}</div>` with `MyComponent` `"hello"` (cid 1) rendered, rendering
//! `"another"` instead gives
//!
//! ```json
//! {"0":2,"c":{"2":{"0":"another","1":"world","s":-1}}}
//! ```
//!
//! A new root template starts the registry over (cids go on counting), as Phoenix does.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use crate::component::Registry;
use crate::json;
use crate::rendered::{Component, Comprehension, Dynamic, Rendered, Template};

/// What the client holds at one dynamic position.
#[derive(Debug, Default, Clone)]
enum Slot {
    /// Nothing the server needs to remember (text in a tracked node, or an empty list).
    #[default]
    Empty,
    /// Text whose hash is compared when the node is re-rendered untracked.
    Text(u64),
    /// A nested template.
    Node(Box<NodePrint>),
    /// A comprehension.
    List(Box<ListPrint>),
    /// A live component, by cid.
    Cid(u32),
}

/// The print of a rendered template: its fingerprint and what each slot holds.
#[derive(Debug, Clone)]
struct NodePrint {
    fingerprint: u64,
    slots: Box<[Slot]>,
}

/// The print of a comprehension: its body's fingerprint and its entries in order.
#[derive(Debug, Clone)]
struct ListPrint {
    fingerprint: u64,
    entries: Box<[EntryPrint]>,
}

#[derive(Debug, Clone)]
struct EntryPrint {
    key: u64,
    slots: Box<[Slot]>,
}

/// An event pushed to the client (`push_event`), sent under the diff's `"e"`.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedEvent {
    /// The event name; the client dispatches it as `phx:<name>`.
    pub name: String,
    /// The payload handed to listeners and hooks.
    pub payload: Value,
    /// Dispatch before the DOM patch instead of after it.
    pub before_patch: bool,
}

/// The top-level keys that accompany a render.
#[derive(Debug, Default, Clone, Copy)]
pub struct Extras<'a> {
    /// A new page title (`"t"`).
    pub title: Option<&'a str>,
    /// Pushed events (`"e"`).
    pub events: &'a [PushedEvent],
    /// The reply to a hook's `pushEvent` (`"r"`).
    pub reply: Option<&'a Value>,
}

/// How many components of the same kind are looked at for shared statics (as Phoenix).
const SHARE_ATTEMPTS: usize = 32;

/// The live components of one session: cids by `(kind, id)` and each one's prints.
#[derive(Debug)]
struct Components {
    /// The next cid to hand out; cids start at 1 and are never reused in a session.
    next_cid: u32,
    /// Ordered, so the search for shared statics walks ids in a stable order.
    by_key: BTreeMap<(&'static str, String), u32>,
    states: HashMap<u32, ComponentState>,
}

impl Default for Components {
    fn default() -> Self {
        Components {
            next_cid: 1,
            by_key: BTreeMap::new(),
            states: HashMap::new(),
        }
    }
}

/// What the server remembers of one component the client may hold.
#[derive(Debug)]
struct ComponentState {
    kind: &'static str,
    id: String,
    /// What the client holds of its render; `None` until first rendered.
    print: Option<Box<NodePrint>>,
    /// Announced by `cids_will_destroy`: deletable by `cids_destroyed` unless rendered
    /// again first, and never a source of shared statics.
    marked: bool,
}

/// The diff state of one session: the prints of what the client holds.
#[derive(Debug, Default)]
pub struct Prints {
    root: Option<Box<NodePrint>>,
    components: Components,
}

impl Prints {
    /// A state in which the client holds nothing (before a join).
    pub fn new() -> Self {
        Prints::default()
    }

    /// Forgets everything, so the next render is complete (a rejoin). Cids start at 1
    /// again: a rejoined client holds no components.
    pub fn reset(&mut self) {
        self.root = None;
        self.components = Components::default();
    }

    /// The cid of the component `(kind, id)`, if it has one.
    pub fn cid(&self, kind: &'static str, id: &str) -> Option<u32> {
        self.components.by_key.get(&(kind, id.to_owned())).copied()
    }

    /// The client's `cids_will_destroy`: marks the components, which then are deleted by
    /// [`Prints::destroy`] unless they are rendered again first.
    pub fn will_destroy(&mut self, cids: &[u32]) {
        for cid in cids {
            if let Some(state) = self.components.states.get_mut(cid) {
                state.marked = true;
            }
        }
    }

    /// The client's `cids_destroyed`: deletes those of `cids` that are still marked and
    /// returns them, the `{"cids":[…]}` of the reply. A component rendered again since
    /// [`Prints::will_destroy`] is kept (its next render is complete).
    pub fn destroy(&mut self, cids: &[u32]) -> Vec<u32> {
        let mut deleted = Vec::new();
        for cid in cids {
            if !self.components.states.get(cid).is_some_and(|s| s.marked) {
                continue;
            }
            if let Some(state) = self.components.states.remove(cid) {
                self.components.by_key.remove(&(state.kind, state.id));
                deleted.push(*cid);
            }
        }
        deleted
    }

    /// The `(kind, id)` of the component with `cid`, if the session has it.
    pub fn component(&self, cid: u32) -> Option<(&'static str, &str)> {
        let state = self.components.states.get(&cid)?;
        Some((state.kind, state.id.as_str()))
    }

    /// Diffs `rendered` (the root) and `components` (rendered on their own, as after one
    /// of them handled an event) against what the client holds. Without a root, the diff
    /// holds only `"c"` and the extras; a component the root renders too is rendered
    /// once, as the root meets it. Live components are mounted for this render only (as
    /// in a dead render); a session renders with its instances through
    /// `Prints::render_live`.
    pub fn render_with<'r>(
        &mut self,
        rendered: Option<Rendered<'r>>,
        components: Vec<Component<'r>>,
        extras: Extras<'_>,
    ) -> String {
        let mut out = String::with_capacity(64);
        self.write(&mut out, rendered, components, extras, None);
        out
    }

    /// Diffs `rendered` against what the client holds and returns the diff as a JSON
    /// object. An unchanged render with no extras gives `{}`.
    pub fn render(&mut self, rendered: Rendered<'_>, extras: Extras<'_>) -> String {
        let mut out = String::with_capacity(64);
        self.render_into(&mut out, rendered, extras);
        out
    }

    /// Like [`Prints::render`], appending to `out` (which may already hold a frame prefix).
    pub fn render_into(&mut self, out: &mut String, rendered: Rendered<'_>, extras: Extras<'_>) {
        self.write(out, Some(rendered), Vec::new(), extras, None);
    }

    /// [`Prints::render_with`] in a live session, appending to `out`: live components
    /// render from, and are kept in, the session's `instances`.
    pub(crate) fn render_live<'r>(
        &mut self,
        out: &mut String,
        rendered: Option<Rendered<'r>>,
        components: Vec<Component<'r>>,
        extras: Extras<'_>,
        instances: &mut Registry,
    ) {
        self.write(out, rendered, components, extras, Some(instances));
    }

    fn write<'r>(
        &mut self,
        out: &mut String,
        rendered: Option<Rendered<'r>>,
        components: Vec<Component<'r>>,
        extras: Extras<'_>,
        instances: Option<&mut Registry>,
    ) {
        let Some(rendered) = rendered else {
            out.push('{');
            let mut writer = Writer::new(out, None, &mut self.components, instances);
            for component in components {
                writer.meet(component);
            }
            writer.components();
            write_extras(writer.out, extras);
            out.push('}');
            return;
        };
        if self
            .root
            .as_ref()
            .is_some_and(|root| root.fingerprint != rendered.template.fingerprint)
        {
            // A new root template starts the components over, as Phoenix does; the cids
            // go on counting, so none is reused while the client may still hold it.
            self.components = Components {
                next_cid: self.components.next_cid,
                ..Components::default()
            };
        }
        let start = out.len();
        let mut writer = Writer::new(out, Some(Vec::new()), &mut self.components, instances);
        writer.top = true;
        let (wrote, print) = writer.node(rendered, self.root.take(), false);
        self.root = Some(print);
        let shared = writer.table.take().unwrap_or_default();
        if wrote {
            writer.out.pop(); // reopen the root object to append the top-level keys
        } else {
            writer.out.truncate(start);
            writer.out.push('{');
        }
        if !shared.is_empty() {
            json::key(writer.out, "p");
            write_table(writer.out, &shared);
        }
        for component in components {
            writer.meet(component);
        }
        writer.components();
        write_extras(writer.out, extras);
        writer.out.push('}');
    }
}

/// Writes a `"p"` table's value.
fn write_table(out: &mut String, table: &[&'static Template]) {
    out.push('{');
    for (i, template) in table.iter().enumerate() {
        json::key(out, i);
        statics(out, template.statics);
    }
    out.push('}');
}

/// Writes the top-level `"t"`, `"e"` and `"r"` keys into an open object.
pub(crate) fn write_extras(out: &mut String, extras: Extras<'_>) {
    if let Some(title) = extras.title {
        json::key(out, "t");
        json::string(out, title);
    }
    if !extras.events.is_empty() {
        json::key(out, "e");
        out.push('[');
        for event in extras.events {
            json::separate(out);
            out.push('[');
            json::string(out, &event.name);
            out.push(',');
            json::value(out, &event.payload);
            if event.before_patch {
                out.push_str(",true");
            }
            out.push(']');
        }
        out.push(']');
    }
    if let Some(reply) = extras.reply {
        json::key(out, "r");
        json::value(out, reply);
    }
}

fn statics(out: &mut String, statics: &[&str]) {
    out.push('[');
    for s in statics {
        json::separate(out);
        json::string(out, s);
    }
    out.push(']');
}

fn text_hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// One pass of the engine over a render, writing JSON as it goes.
struct Writer<'o, 'r> {
    out: &'o mut String,
    /// The `"p"` table statics go to, in the order they get their index; `None` inside
    /// a component outside any comprehension, where statics are written inline.
    table: Option<Vec<&'static Template>>,
    /// The next node written is the top-level one.
    top: bool,
    /// Rendering against another component's tree (shared statics): every dynamic is
    /// sent and every comprehension entry is new, only statics are left out.
    full: bool,
    registry: &'o mut Components,
    /// The session's live component instances, which deferred component renders read
    /// and update; `None` outside a session.
    instances: Option<&'o mut Registry>,
    /// Components met in this pass and not rendered yet, in order.
    pending: Vec<(u32, Rendered<'r>)>,
    /// Cids met in this pass (a duplicate `(kind, id)` is rendered once).
    seen: HashSet<u32>,
    /// Cids rendered in this pass: their prints are this diff's (`"s": +cid`).
    done: HashSet<u32>,
}

impl<'o, 'r> Writer<'o, 'r> {
    fn new(
        out: &'o mut String,
        table: Option<Vec<&'static Template>>,
        registry: &'o mut Components,
        instances: Option<&'o mut Registry>,
    ) -> Self {
        Writer {
            out,
            table,
            top: false,
            full: false,
            registry,
            instances,
            pending: Vec::new(),
            seen: HashSet::new(),
            done: HashSet::new(),
        }
    }

    /// Writes `"s"` for a template sent whole: an index into the table, or the array
    /// when there is no table or `inline` says so.
    fn write_statics(&mut self, template: &'static Template, inline: bool) {
        json::key(self.out, "s");
        match &mut self.table {
            Some(table) if !inline => {
                let index = match table
                    .iter()
                    .position(|t| t.fingerprint == template.fingerprint)
                {
                    Some(i) => i,
                    None => {
                        table.push(template);
                        table.len() - 1
                    }
                };
                self.out.push_str(itoa(index).as_str());
            }
            _ => statics(self.out, template.statics),
        }
    }

    /// Writes the diff of a node as a JSON object, or nothing when it is unchanged.
    /// `compare` means the node is re-rendered untracked and text is compared by hash
    /// (inside comprehension entries).
    fn node(
        &mut self,
        rendered: Rendered<'r>,
        previous: Option<Box<NodePrint>>,
        compare: bool,
    ) -> (bool, Box<NodePrint>) {
        let template = rendered.template;
        // Eagerly evaluated nodes (function components) cannot be change-tracked, so
        // their text is compared by hash like comprehension entries.
        let compare = compare || rendered.is_eager();
        let top = std::mem::replace(&mut self.top, false);
        let start = self.out.len();
        self.out.push('{');
        match previous.filter(|p| p.fingerprint == template.fingerprint) {
            Some(mut print) => {
                let dynamics = rendered.eval(!compare && !self.full);
                for (i, dynamic) in dynamics.into_iter().enumerate() {
                    if let (Some(dynamic), Some(slot)) = (dynamic, print.slots.get_mut(i)) {
                        self.slot(i, dynamic, slot, compare);
                    }
                }
                if self.out.len() == start + 1 {
                    self.out.truncate(start);
                    return (false, print);
                }
                self.out.push('}');
                (true, print)
            }
            None => {
                let dynamics = rendered.eval(false);
                let mut slots = Vec::with_capacity(dynamics.len());
                for (i, dynamic) in dynamics.into_iter().enumerate() {
                    let mut slot = Slot::Empty;
                    self.slot(i, dynamic.unwrap_or_default(), &mut slot, compare);
                    slots.push(slot);
                }
                if template.root && !top {
                    json::key(self.out, "r");
                    self.out.push('1');
                }
                self.write_statics(template, false);
                self.out.push('}');
                let print = NodePrint {
                    fingerprint: template.fingerprint,
                    slots: slots.into(),
                };
                (true, Box::new(print))
            }
        }
    }

    /// Writes `"index":value` for one dynamic when the client needs it, updating `slot`.
    fn slot(&mut self, index: usize, dynamic: Dynamic<'r>, slot: &mut Slot, compare: bool) {
        let before = self.out.len();
        json::key(self.out, index);
        let wrote = match dynamic {
            Dynamic::Text(text) => {
                if compare {
                    let hash = text_hash(&text);
                    let same = !self.full && matches!(slot, Slot::Text(h) if *h == hash);
                    *slot = Slot::Text(hash);
                    if !same {
                        json::string(self.out, &text);
                    }
                    !same
                } else {
                    *slot = Slot::Text(0);
                    json::string(self.out, &text);
                    true
                }
            }
            Dynamic::Rendered(rendered) => {
                let previous = match std::mem::take(slot) {
                    Slot::Node(print) => Some(print),
                    _ => None,
                };
                let (wrote, print) = self.node(rendered, previous, compare);
                *slot = Slot::Node(print);
                wrote
            }
            Dynamic::Comprehension(list)
                if list.is_empty() && matches!(slot, Slot::Text(h) if *h == text_hash("")) =>
            {
                // Still empty and never filled: the client already holds "".
                false
            }
            Dynamic::Comprehension(list) => {
                let previous = match std::mem::take(slot) {
                    Slot::List(print) => Some(print),
                    _ => None,
                };
                let (wrote, print) = self.list(list, previous);
                *slot = print;
                wrote
            }
            Dynamic::Component(component) => {
                let cid = self.meet(*component);
                // A tracked node sends the cid whenever it evaluates it, as Phoenix does;
                // compared (entry) text sends it only when it changed.
                let same = compare && !self.full && matches!(slot, Slot::Cid(c) if *c == cid);
                *slot = Slot::Cid(cid);
                if !same {
                    self.out.push_str(itoa(cid as usize).as_str());
                }
                !same
            }
        };
        if !wrote {
            self.out.truncate(before);
        }
    }

    /// Writes a comprehension's diff; returns whether anything was written and its print.
    ///
    /// Without a table (inside a component), the comprehension gets its own `"p"` for
    /// the nodes of its entries and carries its own statics inline, as Phoenix does.
    fn list(&mut self, list: Comprehension<'r>, previous: Option<Box<ListPrint>>) -> (bool, Slot) {
        let local = self.table.is_none();
        if local {
            self.table = Some(Vec::new());
        }
        let (wrote, slot) = self.list_body(list, previous, local);
        if local {
            let table = self.table.take().unwrap_or_default();
            if wrote && !table.is_empty() && self.out.ends_with('}') {
                self.out.pop();
                json::key(self.out, "p");
                write_table(self.out, &table);
                self.out.push('}');
            }
        }
        (wrote, slot)
    }

    fn list_body(
        &mut self,
        list: Comprehension<'r>,
        previous: Option<Box<ListPrint>>,
        local: bool,
    ) -> (bool, Slot) {
        let template = list.template;
        if list.stream.is_some() {
            let known = previous.is_some_and(|p| p.fingerprint == template.fingerprint);
            return self.stream(list, known, local);
        }
        match previous.filter(|p| p.fingerprint == template.fingerprint) {
            // Against a shared tree every entry is new (Phoenix's issue 3904).
            Some(_) if self.full => self.whole(list, None),
            Some(previous) => self.keyed(list, *previous),
            None if list.entries.is_empty() => {
                // Not rendered before and empty: an empty string, as Phoenix sends.
                self.out.push_str("\"\"");
                (true, Slot::Text(text_hash("")))
            }
            None => self.whole(list, Some(local)),
        }
    }

    /// Writes every entry whole, then the statics when `statics` says how (`Some(inline)`).
    fn whole(&mut self, list: Comprehension<'r>, statics: Option<bool>) -> (bool, Slot) {
        let template = list.template;
        self.out.push_str("{\"k\":{");
        let mut entries = Vec::with_capacity(list.entries.len());
        for (i, entry) in list.entries.into_iter().enumerate() {
            json::key(self.out, i);
            let mut slots = empty_slots(entry.dynamics.len());
            self.entry(entry.dynamics, &mut slots, true);
            entries.push(EntryPrint {
                key: entry.key,
                slots,
            });
        }
        json::key(self.out, "kc");
        self.out.push_str(itoa(entries.len()).as_str());
        self.out.push('}');
        if let Some(inline) = statics {
            self.write_statics(template, inline);
        }
        self.out.push('}');
        let print = ListPrint {
            fingerprint: template.fingerprint,
            entries: entries.into(),
        };
        (true, Slot::List(Box::new(print)))
    }

    /// A stream's comprehension: its new inserts rendered whole and the stream ops. The
    /// print keeps the fingerprint and no entries — the server forgets the items.
    fn stream(&mut self, list: Comprehension<'r>, known: bool, local: bool) -> (bool, Slot) {
        let template = list.template;
        self.out.push_str("{\"k\":{");
        let count = list.entries.len();
        for (i, entry) in list.entries.into_iter().enumerate() {
            json::key(self.out, i);
            let mut slots = empty_slots(entry.dynamics.len());
            self.entry(entry.dynamics, &mut slots, true);
        }
        json::key(self.out, "kc");
        self.out.push_str(itoa(count).as_str());
        self.out.push('}');
        if !known {
            self.write_statics(template, local);
        }
        if let Some(ops) = list.stream {
            json::key(self.out, "stream");
            self.out.push('[');
            json::string(self.out, &ops.reference);
            self.out.push_str(",[");
            for (dom_id, at, limit, update_only) in &ops.inserts {
                json::separate(self.out);
                self.out.push('[');
                json::string(self.out, dom_id);
                self.out.push(',');
                self.out.push_str(&at.to_string());
                self.out.push(',');
                match limit {
                    Some(limit) => self.out.push_str(&limit.to_string()),
                    None => self.out.push_str("null"),
                }
                self.out
                    .push_str(if *update_only { ",true]" } else { ",false]" });
            }
            self.out.push_str("],[");
            for dom_id in &ops.deletes {
                json::separate(self.out);
                json::string(self.out, dom_id);
            }
            self.out.push(']');
            if ops.reset {
                // Only ever `true`: the client reads any fourth element as a reset.
                self.out.push_str(",true");
            }
            self.out.push(']');
        }
        self.out.push('}');
        let print = ListPrint {
            fingerprint: template.fingerprint,
            entries: Box::new([]),
        };
        (true, Slot::List(Box::new(print)))
    }

    /// The keyed diff of a comprehension the client already holds.
    fn keyed(&mut self, list: Comprehension<'r>, previous: ListPrint) -> (bool, Slot) {
        let start = self.out.len();
        self.out.push_str("{\"k\":{");
        let old_count = previous.entries.len();
        let mut old_index: HashMap<u64, usize> = HashMap::with_capacity(old_count);
        for (j, entry) in previous.entries.iter().enumerate() {
            old_index.entry(entry.key).or_insert(j);
        }
        let mut old: Vec<Option<EntryPrint>> =
            previous.entries.into_vec().into_iter().map(Some).collect();
        let (mut changed, mut moved) = (false, false);
        let mut entries = Vec::with_capacity(list.entries.len());
        for (i, entry) in list.entries.into_iter().enumerate() {
            let kept = old_index
                .get(&entry.key)
                .and_then(|&j| Some((j, old.get_mut(j)?.take()?)));
            let before = self.out.len();
            json::key(self.out, i);
            match kept {
                Some((j, mut print)) => {
                    let body = self.out.len();
                    if j != i {
                        moved = true;
                        self.out.push('[');
                        self.out.push_str(itoa(j).as_str());
                        self.out.push(',');
                    }
                    if self.entry(entry.dynamics, &mut print.slots, false) {
                        changed = true;
                        if j != i {
                            self.out.push(']');
                        }
                    } else if j != i {
                        self.out.truncate(body);
                        self.out.push_str(itoa(j).as_str());
                    } else {
                        self.out.truncate(before);
                    }
                    entries.push(print);
                }
                None => {
                    changed = true;
                    let mut slots = empty_slots(entry.dynamics.len());
                    self.entry(entry.dynamics, &mut slots, true);
                    entries.push(EntryPrint {
                        key: entry.key,
                        slots,
                    });
                }
            }
        }
        let print = Slot::List(Box::new(ListPrint {
            fingerprint: list.template.fingerprint,
            entries: entries.into(),
        }));
        let count = match &print {
            Slot::List(l) => l.entries.len(),
            _ => 0,
        };
        if !changed && !moved && count == old_count {
            self.out.truncate(start);
            return (false, print);
        }
        json::key(self.out, "kc");
        self.out.push_str(itoa(count).as_str());
        if moved {
            self.out.push_str(",\"km\":true");
        }
        self.out.push_str("}}");
        (true, print)
    }

    /// Writes one entry's dynamics as an object (always, when `full`), returning whether
    /// anything was written.
    fn entry(&mut self, dynamics: Vec<Dynamic<'r>>, slots: &mut [Slot], full: bool) -> bool {
        let start = self.out.len();
        self.out.push('{');
        for (i, (dynamic, slot)) in dynamics.into_iter().zip(slots.iter_mut()).enumerate() {
            self.slot(i, dynamic, slot, true);
        }
        if !full && self.out.len() == start + 1 {
            self.out.truncate(start);
            return false;
        }
        self.out.push('}');
        true
    }

    // === Components ===

    /// The cid of a component met in a render, allocated on first sight; its render is
    /// queued, to be written under `"c"` after the tree that holds it.
    fn meet(&mut self, component: Component<'r>) -> u32 {
        let Component { kind, id, body } = component;
        let registry = &mut *self.registry;
        let cid = match registry.by_key.get(&(kind, id.clone())) {
            Some(&cid) => cid,
            None => {
                let cid = registry.next_cid;
                registry.next_cid += 1;
                registry.by_key.insert((kind, id.clone()), cid);
                let state = ComponentState {
                    kind,
                    id,
                    print: None,
                    marked: false,
                };
                registry.states.insert(cid, state);
                cid
            }
        };
        // A duplicate id renders as the first one (Phoenix raises instead).
        if self.seen.insert(cid) {
            let rendered = body.into_rendered(cid, self.instances.as_deref_mut());
            self.pending.push((cid, rendered));
        }
        cid
    }

    /// Whether a component's render cannot build on its own prints: it is new, was
    /// marked for destruction, or its root template changed.
    fn needs_base(&self, cid: u32, fingerprint: u64) -> bool {
        self.registry.states.get(&cid).is_none_or(|state| {
            state.marked
                || state
                    .print
                    .as_ref()
                    .is_none_or(|p| p.fingerprint != fingerprint)
        })
    }

    /// Writes `"c"`: the queued components, level by level (a component's children
    /// after it), as Phoenix renders them.
    fn components(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let start = self.out.len();
        json::key(self.out, "c");
        self.out.push('{');
        let open = self.out.len();
        self.table = None;
        while !self.pending.is_empty() {
            let mut level = std::mem::take(&mut self.pending);
            // Components looking for shared statics go first, while the others still
            // hold the trees the client had before this diff (`"s": -cid`).
            level.sort_by_key(|(cid, rendered)| {
                !self.needs_base(*cid, rendered.template.fingerprint)
            });
            for (cid, rendered) in level {
                self.component(cid, rendered);
            }
        }
        if self.out.len() == open {
            self.out.truncate(start);
        } else {
            self.out.push('}');
        }
    }

    /// Writes `"cid":{…}` for one component when the client needs it.
    fn component(&mut self, cid: u32, rendered: Rendered<'r>) {
        let Some(state) = self.registry.states.get_mut(&cid) else {
            return;
        };
        let kind = state.kind;
        // A revived component renders whole: the client dropped its tree.
        let previous = if std::mem::take(&mut state.marked) {
            state.print = None;
            None
        } else {
            state.print.take()
        };
        let fingerprint = rendered.template.fingerprint;
        let base = if previous
            .as_ref()
            .is_some_and(|p| p.fingerprint == fingerprint)
        {
            None
        } else {
            self.shared_base(kind, cid, fingerprint)
        };
        let before = self.out.len();
        json::key(self.out, cid);
        let (previous, link) = match base {
            Some((link, print)) => (Some(print), Some(link)),
            None => (previous, None),
        };
        self.full = link.is_some();
        let (wrote, print) = self.node(rendered, previous, false);
        self.full = false;
        if let Some(link) = link {
            if wrote {
                self.out.pop();
            } else {
                self.out.push('{');
            }
            json::key(self.out, "s");
            if link < 0 {
                self.out.push('-');
            }
            self.out
                .push_str(itoa(link.unsigned_abs() as usize).as_str());
            self.out.push('}');
        } else if !wrote {
            self.out.truncate(before);
        }
        if let Some(state) = self.registry.states.get_mut(&cid) {
            state.print = Some(print);
        }
        self.done.insert(cid);
    }

    /// Another component of the same kind whose root template is `fingerprint`, to
    /// share statics with: `-cid` and its tree as the client held it before this diff,
    /// or `+cid` and its tree from this diff. Phoenix prefers the tree from before the
    /// diff even for a component already rendered in it; the prints of such a component
    /// are this diff's, so it is offered as `+cid` instead (equally valid).
    fn shared_base(
        &self,
        kind: &'static str,
        cid: u32,
        fingerprint: u64,
    ) -> Option<(i64, Box<NodePrint>)> {
        self.registry
            .by_key
            .range((kind, String::new())..)
            .take_while(|((k, _), _)| *k == kind)
            .map(|(_, &other)| other)
            .filter(|&other| other != cid)
            .take(SHARE_ATTEMPTS)
            .find_map(|other| {
                let state = self.registry.states.get(&other)?;
                let print = state.print.as_ref()?;
                if state.marked || print.fingerprint != fingerprint {
                    return None;
                }
                let link = if self.done.contains(&other) {
                    i64::from(other)
                } else {
                    -i64::from(other)
                };
                Some((link, print.clone()))
            })
    }
}

fn empty_slots(len: usize) -> Box<[Slot]> {
    std::iter::repeat_with(|| Slot::Empty).take(len).collect()
}

/// Formats a small integer without going through `fmt`.
fn itoa(n: usize) -> Itoa {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    Itoa { buf, start: i }
}

struct Itoa {
    buf: [u8; 20],
    start: usize,
}

impl Itoa {
    fn as_str(&self) -> &str {
        // Only ASCII digits were written.
        std::str::from_utf8(&self.buf[self.start..]).unwrap_or("0")
    }
}
