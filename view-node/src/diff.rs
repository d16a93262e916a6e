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

use std::collections::HashMap;

use serde_json::Value;

use crate::json;
use crate::rendered::{Comprehension, Dynamic, Rendered, Template};

/// What the client holds at one dynamic position.
#[derive(Debug, Default)]
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
}

/// The print of a rendered template: its fingerprint and what each slot holds.
#[derive(Debug)]
struct NodePrint {
    fingerprint: u64,
    slots: Box<[Slot]>,
}

/// The print of a comprehension: its body's fingerprint and its entries in order.
#[derive(Debug)]
struct ListPrint {
    fingerprint: u64,
    entries: Box<[EntryPrint]>,
}

#[derive(Debug)]
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

/// The diff state of one session: the prints of what the client holds.
#[derive(Debug, Default)]
pub struct Prints {
    root: Option<Box<NodePrint>>,
}

impl Prints {
    /// A state in which the client holds nothing (before a join).
    pub fn new() -> Self {
        Prints::default()
    }

    /// Forgets everything, so the next render is complete (a rejoin).
    pub fn reset(&mut self) {
        self.root = None;
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
        let start = out.len();
        let mut writer = Writer {
            out,
            shared: Vec::new(),
            top: true,
        };
        let (wrote, print) = writer.node(rendered, self.root.take(), false);
        self.root = Some(print);
        let shared = std::mem::take(&mut writer.shared);
        if wrote {
            out.pop(); // reopen the root object to append the top-level keys
        } else {
            out.truncate(start);
            out.push('{');
        }
        if !shared.is_empty() {
            json::key(out, "p");
            out.push('{');
            for (i, template) in shared.iter().enumerate() {
                json::key(out, i);
                statics(out, template.statics);
            }
            out.push('}');
        }
        write_extras(out, extras);
        out.push('}');
    }
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
struct Writer<'o> {
    out: &'o mut String,
    /// Templates sent whole in this diff, in the order they get their `"p"` index.
    shared: Vec<&'static Template>,
    /// The next node written is the top-level one.
    top: bool,
}

impl Writer<'_> {
    /// The `"p"` index of `template`, registering it on first use.
    fn share(&mut self, template: &'static Template) -> usize {
        if let Some(i) = self
            .shared
            .iter()
            .position(|t| t.fingerprint == template.fingerprint)
        {
            return i;
        }
        self.shared.push(template);
        self.shared.len() - 1
    }

    /// Writes the diff of a node as a JSON object, or nothing when it is unchanged.
    /// `compare` means the node is re-rendered untracked and text is compared by hash
    /// (inside comprehension entries).
    fn node(
        &mut self,
        rendered: Rendered<'_>,
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
                let dynamics = rendered.eval(!compare);
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
                let index = self.share(template);
                json::key(self.out, "s");
                self.out.push_str(itoa(index).as_str());
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
    fn slot(&mut self, index: usize, dynamic: Dynamic<'_>, slot: &mut Slot, compare: bool) {
        let before = self.out.len();
        json::key(self.out, index);
        let wrote = match dynamic {
            Dynamic::Text(text) => {
                if compare {
                    let hash = text_hash(&text);
                    let same = matches!(slot, Slot::Text(h) if *h == hash);
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
        };
        if !wrote {
            self.out.truncate(before);
        }
    }

    /// Writes a comprehension's diff; returns whether anything was written and its print.
    fn list(&mut self, list: Comprehension<'_>, previous: Option<Box<ListPrint>>) -> (bool, Slot) {
        let template = list.template;
        if list.stream.is_some() {
            let known = previous.is_some_and(|p| p.fingerprint == template.fingerprint);
            return self.stream(list, known);
        }
        match previous.filter(|p| p.fingerprint == template.fingerprint) {
            Some(previous) => self.keyed(list, *previous),
            None if list.entries.is_empty() => {
                // Not rendered before and empty: an empty string, as Phoenix sends.
                self.out.push_str("\"\"");
                (true, Slot::Text(text_hash("")))
            }
            None => {
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
                let index = self.share(template);
                json::key(self.out, "s");
                self.out.push_str(itoa(index).as_str());
                self.out.push('}');
                let print = ListPrint {
                    fingerprint: template.fingerprint,
                    entries: entries.into(),
                };
                (true, Slot::List(Box::new(print)))
            }
        }
    }

    /// A stream's comprehension: its new inserts rendered whole and the stream ops. The
    /// print keeps the fingerprint and no entries — the server forgets the items.
    fn stream(&mut self, list: Comprehension<'_>, known: bool) -> (bool, Slot) {
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
            let index = self.share(template);
            json::key(self.out, "s");
            self.out.push_str(itoa(index).as_str());
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
    fn keyed(&mut self, list: Comprehension<'_>, previous: ListPrint) -> (bool, Slot) {
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
    fn entry(&mut self, dynamics: Vec<Dynamic<'_>>, slots: &mut [Slot], full: bool) -> bool {
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
