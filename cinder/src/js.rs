//! JS commands: client-side operations rendered into `phx-*` attributes.
//!
//! [`JS`] is the Rust side of `Phoenix.LiveView.JS`. It builds a list of operations that
//! the official client runs in the browser (show, hide, class and attribute changes,
//! focus, dispatch) and pushes, patches or navigates where the list says so. Interpolated
//! into an attribute it renders as the same JSON Phoenix 1.2 emits, HTML-escaped:
//!
//! ```
//! use cinder::{html, Rendered};
//! use cinder::js::{JS, Transition};
//!
//! let cmd = JS::new()
//!     .push("inc")
//!     .hide_with(cinder::js::Effect {
//!         to: "#flash".into(),
//!         transition: Some(Transition::new("fade-out")),
//!         ..Default::default()
//!     });
//! assert_eq!(
//!     cmd.to_string(),
//!     r##"[["push",{"event":"inc"}],["hide",{"to":"#flash","transition":[["fade-out"],[],[]]}]]"##
//! );
//! let page: Rendered<'_> = html!(r#"<button phx-click={cmd}>+</button>"#);
//! assert_eq!(
//!     page.to_html(),
//!     "<button phx-click=\"[[&quot;push&quot;,{&quot;event&quot;:&quot;inc&quot;}],\
//!      [&quot;hide&quot;,{&quot;to&quot;:&quot;#flash&quot;,\
//!      &quot;transition&quot;:[[&quot;fade-out&quot;],[],[]]}]]\">+</button>"
//! );
//! ```
//!
//! The wire shape is what `lib/phoenix_live_view/js.ex` builds and the client's
//! `assets/js/phoenix_live_view/js.js` reads: a JSON array of `[kind, args]` pairs. Args
//! that are not given are left out (the client applies its own defaults: the interacted
//! element, 200 ms, blocking transitions), and keys come out in alphabetical order, as
//! Elixir's small maps encode. Ops run in order; a `push` is sent before a later
//! `patch` or `navigate` is handled.
//!
//! Unlike Elixir, nothing here raises: `navigate`/`patch` do not check the URL's scheme
//! and `dispatch` does not reject a `detail` on `"click"` (the browser would replace it
//! with a number), so a template cannot panic a session.

use std::fmt::{self, Write};

use serde_json::Value;

use crate::html::{AttrValue, escape_into};

/// A list of JS commands, built by chaining; renders as the JSON the client executes.
///
/// Use it as a binding's value (`phx-click={cmd}`, `phx-click-away`, `phx-mounted`,
/// `phx-remove`, …). An empty list renders `[]`, which the client runs as nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JS {
    ops: Vec<Op>,
}

/// One `[kind, args]` pair. Args are kept sorted by key, the order Phoenix emits.
#[derive(Debug, Clone, PartialEq)]
struct Op {
    kind: &'static str,
    args: Vec<(&'static str, Value)>,
}

/// Which elements an op acts on: the `to` argument.
///
/// A `&str` or `String` converts to a document-wide selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum To {
    /// The element the event happened on (`to` left out).
    #[default]
    Interacted,
    /// `document.querySelectorAll(selector)`: `"to":"#modal"`.
    Document(String),
    /// Matching elements inside the interacted one: `"to":{"inner":".menu"}`.
    Inner(String),
    /// The closest ancestor (or self) matching: `"to":{"closest":".modal"}`.
    Closest(String),
}

impl From<&str> for To {
    fn from(selector: &str) -> Self {
        To::Document(selector.to_owned())
    }
}

impl From<String> for To {
    fn from(selector: String) -> Self {
        To::Document(selector)
    }
}

impl To {
    fn into_json(self) -> Option<Value> {
        let scoped = |scope: &str, selector: String| {
            let mut map = serde_json::Map::new();
            map.insert(scope.to_owned(), Value::from(selector));
            Value::Object(map)
        };
        match self {
            To::Interacted => None,
            To::Document(selector) => Some(Value::from(selector)),
            To::Inner(selector) => Some(scoped("inner", selector)),
            To::Closest(selector) => Some(scoped("closest", selector)),
        }
    }
}

/// A CSS transition: classes applied for its duration, plus optional start and end
/// classes. Encodes as three class lists, `[["ease-out","duration-300"],["opacity-0"],["opacity-100"]]`.
///
/// A `&str` converts to a transition with only running classes (`[["fade"],[],[]]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transition {
    run: Vec<String>,
    start: Vec<String>,
    end: Vec<String>,
}

impl Transition {
    /// Classes (space-separated) applied while the transition runs.
    pub fn new(classes: &str) -> Self {
        Transition {
            run: class_names(classes),
            ..Transition::default()
        }
    }

    /// Classes applied at the start and removed once the transition begins.
    #[must_use]
    pub fn start(mut self, classes: &str) -> Self {
        self.start = class_names(classes);
        self
    }

    /// Classes the element ends the transition with.
    #[must_use]
    pub fn end(mut self, classes: &str) -> Self {
        self.end = class_names(classes);
        self
    }

    fn into_json(self) -> Value {
        Value::from(vec![
            Value::from(self.run),
            Value::from(self.start),
            Value::from(self.end),
        ])
    }
}

impl From<&str> for Transition {
    fn from(classes: &str) -> Self {
        Transition::new(classes)
    }
}

/// Splits on spaces and drops empty names, as `String.split(names, " ", trim: true)`.
fn class_names(names: &str) -> Vec<String> {
    names
        .split(' ')
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Where a `push` is sent: overrides the element's `phx-target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A selector; the event goes to the LiveView or component holding the match.
    Selector(String),
    /// A component id (`"target":1`).
    Component(u64),
}

impl From<&str> for Target {
    fn from(selector: &str) -> Self {
        Target::Selector(selector.to_owned())
    }
}

impl From<String> for Target {
    fn from(selector: String) -> Self {
        Target::Selector(selector)
    }
}

/// Options of [`JS::push_with`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Push {
    /// `"target"`: where the event goes instead of the element's `phx-target`.
    pub target: Option<Target>,
    /// `"value"`: a JSON object merged over the `phx-value-*` attributes.
    pub value: Option<Value>,
    /// `"loading"`: a selector that gets the `phx-*-loading` class until the reply.
    pub loading: Option<String>,
    /// `"page_loading":true`: dispatch `phx:page-loading-start`/`-stop` around the push.
    pub page_loading: bool,
}

/// Options of [`JS::hide_with`], the class ops and [`JS::transition_with`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effect {
    /// `"to"`: the elements acted on.
    pub to: To,
    /// `"transition"`: classes applied while the op runs.
    pub transition: Option<Transition>,
    /// `"time"`: the transition's length in milliseconds (the client's default is 200).
    pub time: Option<u64>,
    /// `"blocking"`: whether the UI waits for the transition (the client's default is yes).
    pub blocking: Option<bool>,
}

/// Options of [`JS::show_with`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Show {
    /// `"to"`: the elements shown.
    pub to: To,
    /// `"display"`: the CSS display value set (the client's default is `block`, or
    /// `table-row`/`table-cell` for rows and cells).
    pub display: Option<String>,
    /// `"transition"`: classes applied while showing.
    pub transition: Option<Transition>,
    /// `"time"`: the transition's length in milliseconds (default 200).
    pub time: Option<u64>,
    /// `"blocking"`: whether the UI waits for the transition (default yes).
    pub blocking: Option<bool>,
}

/// Options of [`JS::toggle_with`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Toggle {
    /// `"to"`: the elements toggled.
    pub to: To,
    /// `"display"`: the CSS display value set when showing.
    pub display: Option<String>,
    /// `"ins"`: the transition when showing (Elixir's `in:`).
    pub transition_in: Option<Transition>,
    /// `"outs"`: the transition when hiding (Elixir's `out:`).
    pub transition_out: Option<Transition>,
    /// `"time"`: the transition's length in milliseconds (default 200).
    pub time: Option<u64>,
    /// `"blocking"`: whether the UI waits for the transition (default yes).
    pub blocking: Option<bool>,
}

/// Options of [`JS::dispatch_with`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dispatch {
    /// `"to"`: the elements the event is dispatched on.
    pub to: To,
    /// `"detail"`: a JSON object in `event.detail` (the client adds `dispatcher`).
    /// Not for `"click"`, whose detail the browser replaces with a number.
    pub detail: Option<Value>,
    /// `"bubbles"`: whether the event bubbles (the client's default is yes).
    pub bubbles: Option<bool>,
    /// `"blocking":true`: block the UI until a listener calls `event.detail.done()`.
    pub blocking: bool,
}

// === impl JS ===

impl JS {
    /// An empty command list.
    pub fn new() -> Self {
        JS::default()
    }

    /// Whether no op was added.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Appends `other`'s ops after these (`JS.concat/2`).
    #[must_use]
    pub fn concat(mut self, other: JS) -> Self {
        self.ops.extend(other.ops);
        self
    }

    /// Renders the command list as JSON (also what `Display` writes).
    pub fn to_json(&self) -> String {
        self.to_string()
    }

    fn op(mut self, kind: &'static str, args: Vec<(&'static str, Option<Value>)>) -> Self {
        let mut args: Vec<_> = args
            .into_iter()
            .filter_map(|(key, value)| Some((key, value?)))
            .collect();
        args.sort_by_key(|(key, _)| *key);
        self.ops.push(Op { kind, args });
        self
    }

    /// Pushes `event` to the server: `["push",{"event":"inc"}]`.
    #[must_use]
    pub fn push(self, event: &str) -> Self {
        self.push_with(event, Push::default())
    }

    /// Pushes `event` with options:
    /// `["push",{"event":"inc","loading":"#x","page_loading":true,"target":"#c","value":{"one":1}}]`.
    /// A component target encodes as a number (`"target":1`).
    #[must_use]
    pub fn push_with(self, event: &str, opts: Push) -> Self {
        let target = opts.target.map(|target| match target {
            Target::Selector(selector) => Value::from(selector),
            Target::Component(cid) => Value::from(cid),
        });
        self.op(
            "push",
            vec![
                ("event", Some(Value::from(event))),
                ("target", target),
                ("loading", opts.loading.map(Value::from)),
                (
                    "page_loading",
                    opts.page_loading.then_some(Value::Bool(true)),
                ),
                ("value", opts.value),
            ],
        )
    }

    /// Shows the elements: `["show",{"to":"#modal"}]`.
    #[must_use]
    pub fn show(self, to: impl Into<To>) -> Self {
        self.show_with(Show {
            to: to.into(),
            ..Show::default()
        })
    }

    /// Shows with options:
    /// `["show",{"blocking":false,"display":"flex","time":300,"to":"#modal","transition":[["fade-in"],[],[]]}]`.
    #[must_use]
    pub fn show_with(self, opts: Show) -> Self {
        self.op(
            "show",
            vec![
                ("to", opts.to.into_json()),
                ("display", opts.display.map(Value::from)),
                ("transition", opts.transition.map(Transition::into_json)),
                ("time", opts.time.map(Value::from)),
                ("blocking", opts.blocking.map(Value::from)),
            ],
        )
    }

    /// Hides the elements: `["hide",{"to":"#modal"}]`.
    #[must_use]
    pub fn hide(self, to: impl Into<To>) -> Self {
        self.hide_with(Effect {
            to: to.into(),
            ..Effect::default()
        })
    }

    /// Hides with options:
    /// `["hide",{"time":123,"to":"#modal","transition":[["fade-out"],["opacity-100"],["opacity-0"]]}]`.
    #[must_use]
    pub fn hide_with(self, opts: Effect) -> Self {
        self.effect("hide", None, opts)
    }

    /// Shows hidden elements and hides visible ones: `["toggle",{"to":"#modal"}]`.
    #[must_use]
    pub fn toggle(self, to: impl Into<To>) -> Self {
        self.toggle_with(Toggle {
            to: to.into(),
            ..Toggle::default()
        })
    }

    /// Toggles with options:
    /// `["toggle",{"display":"flex","ins":[["fade-in"],[],[]],"outs":[["fade-out"],[],[]],"time":300,"to":"#modal"}]`.
    #[must_use]
    pub fn toggle_with(self, opts: Toggle) -> Self {
        self.op(
            "toggle",
            vec![
                ("to", opts.to.into_json()),
                ("display", opts.display.map(Value::from)),
                ("ins", opts.transition_in.map(Transition::into_json)),
                ("outs", opts.transition_out.map(Transition::into_json)),
                ("time", opts.time.map(Value::from)),
                ("blocking", opts.blocking.map(Value::from)),
            ],
        )
    }

    /// Adds classes (space-separated): `["add_class",{"names":["show","hl"],"to":"#modal"}]`.
    #[must_use]
    pub fn add_class(self, names: &str, to: impl Into<To>) -> Self {
        self.add_class_with(names, effect_on(to))
    }

    /// Adds classes with options:
    /// `["add_class",{"names":["show"],"time":100,"to":"#modal","transition":[["fade"],[],[]]}]`.
    #[must_use]
    pub fn add_class_with(self, names: &str, opts: Effect) -> Self {
        self.effect("add_class", Some(names), opts)
    }

    /// Removes classes: `["remove_class",{"names":["hidden"],"to":"#modal"}]`.
    #[must_use]
    pub fn remove_class(self, names: &str, to: impl Into<To>) -> Self {
        self.remove_class_with(names, effect_on(to))
    }

    /// Removes classes with options, encoded like [`JS::add_class_with`].
    #[must_use]
    pub fn remove_class_with(self, names: &str, opts: Effect) -> Self {
        self.effect("remove_class", Some(names), opts)
    }

    /// Adds the classes an element lacks and removes those it has:
    /// `["toggle_class",{"names":["open"],"to":"#menu"}]`.
    #[must_use]
    pub fn toggle_class(self, names: &str, to: impl Into<To>) -> Self {
        self.toggle_class_with(names, effect_on(to))
    }

    /// Toggles classes with options, encoded like [`JS::add_class_with`].
    #[must_use]
    pub fn toggle_class_with(self, names: &str, opts: Effect) -> Self {
        self.effect("toggle_class", Some(names), opts)
    }

    /// Applies a transition's classes for its duration:
    /// `["transition",{"to":"#item","transition":[["shake"],[],[]]}]`.
    #[must_use]
    pub fn transition(self, transition: impl Into<Transition>, to: impl Into<To>) -> Self {
        self.transition_with(Effect {
            to: to.into(),
            transition: Some(transition.into()),
            ..Effect::default()
        })
    }

    /// A transition with options, the classes in `opts.transition`:
    /// `["transition",{"time":300,"to":"#item","transition":[["ease-out"],["opacity-0"],["opacity-100"]]}]`.
    /// Without classes the op encodes no `transition` and does nothing but wait.
    #[must_use]
    pub fn transition_with(self, opts: Effect) -> Self {
        self.effect("transition", None, opts)
    }

    fn effect(self, kind: &'static str, names: Option<&str>, opts: Effect) -> Self {
        self.op(
            kind,
            vec![
                ("names", names.map(|names| Value::from(class_names(names)))),
                ("to", opts.to.into_json()),
                ("transition", opts.transition.map(Transition::into_json)),
                ("time", opts.time.map(Value::from)),
                ("blocking", opts.blocking.map(Value::from)),
            ],
        )
    }

    /// Sets an attribute: `["set_attr",{"attr":["aria-expanded","true"],"to":"#menu"}]`.
    #[must_use]
    pub fn set_attribute(self, attr: &str, value: &str, to: impl Into<To>) -> Self {
        self.op(
            "set_attr",
            vec![
                ("attr", Some(Value::from(vec![attr, value]))),
                ("to", to.into().into_json()),
            ],
        )
    }

    /// Removes an attribute: `["remove_attr",{"attr":"aria-expanded","to":"#menu"}]`.
    #[must_use]
    pub fn remove_attribute(self, attr: &str, to: impl Into<To>) -> Self {
        self.op(
            "remove_attr",
            vec![
                ("attr", Some(Value::from(attr))),
                ("to", to.into().into_json()),
            ],
        )
    }

    /// Sets an attribute when absent, removes it when set to `value`:
    /// `["toggle_attr",{"attr":["open","true"],"to":"#dialog"}]`.
    #[must_use]
    pub fn toggle_attribute(self, attr: &str, value: &str, to: impl Into<To>) -> Self {
        self.op(
            "toggle_attr",
            vec![
                ("attr", Some(Value::from(vec![attr, value]))),
                ("to", to.into().into_json()),
            ],
        )
    }

    /// Switches an attribute between two values:
    /// `["toggle_attr",{"attr":["aria-expanded","true","false"],"to":"#menu"}]`.
    #[must_use]
    pub fn toggle_attribute_between(
        self,
        attr: &str,
        first: &str,
        second: &str,
        to: impl Into<To>,
    ) -> Self {
        self.op(
            "toggle_attr",
            vec![
                ("attr", Some(Value::from(vec![attr, first, second]))),
                ("to", to.into().into_json()),
            ],
        )
    }

    /// Keeps attributes the client set (names, `*` wildcards allowed) across server
    /// patches: `["ignore_attrs",{"attrs":["open"],"to":"#details"}]`.
    #[must_use]
    pub fn ignore_attributes(self, attrs: &[&str], to: impl Into<To>) -> Self {
        self.op(
            "ignore_attrs",
            vec![
                ("attrs", Some(Value::from(attrs.to_vec()))),
                ("to", to.into().into_json()),
            ],
        )
    }

    /// Dispatches a DOM event: `["dispatch",{"event":"copy","to":"#url"}]`.
    #[must_use]
    pub fn dispatch(self, event: &str, to: impl Into<To>) -> Self {
        self.dispatch_with(
            event,
            Dispatch {
                to: to.into(),
                ..Dispatch::default()
            },
        )
    }

    /// Dispatches with options:
    /// `["dispatch",{"blocking":true,"bubbles":false,"detail":{"id":1},"event":"app:x","to":"#a"}]`.
    #[must_use]
    pub fn dispatch_with(self, event: &str, opts: Dispatch) -> Self {
        self.op(
            "dispatch",
            vec![
                ("event", Some(Value::from(event))),
                ("to", opts.to.into_json()),
                ("detail", opts.detail),
                ("bubbles", opts.bubbles.map(Value::from)),
                ("blocking", opts.blocking.then_some(Value::Bool(true))),
            ],
        )
    }

    /// Navigates to another LiveView, pushing a history entry:
    /// `["navigate",{"href":"/home","replace":false}]`.
    #[must_use]
    pub fn navigate(self, href: &str) -> Self {
        self.op("navigate", href_args(href, false))
    }

    /// Navigates, replacing the history entry: `["navigate",{"href":"/home","replace":true}]`.
    #[must_use]
    pub fn navigate_replace(self, href: &str) -> Self {
        self.op("navigate", href_args(href, true))
    }

    /// Patches the current LiveView (`handle_params`), pushing a history entry:
    /// `["patch",{"href":"/home?page=2","replace":false}]`.
    #[must_use]
    pub fn patch(self, href: &str) -> Self {
        self.op("patch", href_args(href, false))
    }

    /// Patches, replacing the history entry: `["patch",{"href":"/home","replace":true}]`.
    #[must_use]
    pub fn patch_replace(self, href: &str) -> Self {
        self.op("patch", href_args(href, true))
    }

    /// Focuses the element: `["focus",{"to":"#name"}]`.
    #[must_use]
    pub fn focus(self, to: impl Into<To>) -> Self {
        self.op("focus", vec![("to", to.into().into_json())])
    }

    /// Focuses the first focusable element inside: `["focus_first",{"to":"#modal"}]`.
    #[must_use]
    pub fn focus_first(self, to: impl Into<To>) -> Self {
        self.op("focus_first", vec![("to", to.into().into_json())])
    }

    /// Remembers the element to focus later with [`JS::pop_focus`]:
    /// `["push_focus",{}]`, or `["push_focus",{"to":"#open"}]`.
    #[must_use]
    pub fn push_focus(self, to: impl Into<To>) -> Self {
        self.op("push_focus", vec![("to", to.into().into_json())])
    }

    /// Focuses the element last remembered by [`JS::push_focus`]: `["pop_focus",{}]`.
    #[must_use]
    pub fn pop_focus(self) -> Self {
        self.op("pop_focus", Vec::new())
    }

    /// Runs the commands stored in an attribute of the elements:
    /// `["exec",{"attr":"phx-remove","to":"#modal"}]`.
    #[must_use]
    pub fn exec(self, attr: &str, to: impl Into<To>) -> Self {
        self.op(
            "exec",
            vec![
                ("attr", Some(Value::from(attr))),
                ("to", to.into().into_json()),
            ],
        )
    }
}

fn effect_on(to: impl Into<To>) -> Effect {
    Effect {
        to: to.into(),
        ..Effect::default()
    }
}

/// `replace` is always sent, as `JS.navigate`/`JS.patch` do (`!!opts[:replace]`).
fn href_args(href: &str, replace: bool) -> Vec<(&'static str, Option<Value>)> {
    vec![
        ("href", Some(Value::from(href))),
        ("replace", Some(Value::Bool(replace))),
    ]
}

impl fmt::Display for JS {
    /// Writes compact JSON. Kinds and keys are fixed identifiers; values are written by
    /// `serde_json`, which escapes only what JSON requires, as Jason does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('[')?;
        for (i, op) in self.ops.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            write!(f, "[\"{}\",{{", op.kind)?;
            for (j, (key, value)) in op.args.iter().enumerate() {
                if j > 0 {
                    f.write_char(',')?;
                }
                write!(f, "\"{key}\":{value}")?;
            }
            f.write_str("}]")?;
        }
        f.write_char(']')
    }
}

impl AttrValue for JS {
    /// Renders ` name="…"` with the JSON HTML-escaped, as `Phoenix.HTML.Safe` does.
    fn write_attr(&self, name: &str, out: &mut String) {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape_into(out, &self.to_string());
        out.push('"');
    }
}

impl serde::Serialize for JS {
    /// The same list as the attribute, for `push_event` payloads the client passes to
    /// `liveSocket.execJS`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq, SerializeTuple};

        struct Args<'a>(&'a [(&'static str, Value)]);
        impl serde::Serialize for Args<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (key, value) in self.0 {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
        struct Pair<'a>(&'a Op);
        impl serde::Serialize for Pair<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut pair = serializer.serialize_tuple(2)?;
                pair.serialize_element(self.0.kind)?;
                pair.serialize_element(&Args(&self.0.args))?;
                pair.end()
            }
        }

        let mut seq = serializer.serialize_seq(Some(self.ops.len()))?;
        for op in &self.ops {
            seq.serialize_element(&Pair(op))?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    //! Expected JSON comes from `test/phoenix_live_view/js_test.exs` (v1.2.10; 1.2.12
    //! changed only the JS client). Its structs are written here with keys sorted, which
    //! is both how Elixir encodes maps of up to 32 atom keys and what the test's own
    //! `js_to_string` compares.

    use serde_json::json;

    use super::*;
    use crate::html::attr;

    #[expect(clippy::needless_pass_by_value, reason = "keeps the cases free of `&`")]
    fn json(js: JS) -> String {
        js.to_json()
    }

    #[test]
    fn empty_list() {
        assert_eq!(json(JS::new()), "[]");
        assert!(JS::new().is_empty());
    }

    // describe "push": "with defaults", "target", "loading", "page_loading", "value",
    // "composability", "encoding".
    #[test]
    fn push() {
        assert_eq!(json(JS::new().push("inc")), r#"[["push",{"event":"inc"}]]"#);
        let with = |opts| json(JS::new().push_with("inc", opts));
        assert_eq!(
            with(Push {
                target: Some("#modal".into()),
                ..Push::default()
            }),
            r##"[["push",{"event":"inc","target":"#modal"}]]"##
        );
        assert_eq!(
            with(Push {
                target: Some(Target::Component(1)),
                ..Push::default()
            }),
            r#"[["push",{"event":"inc","target":1}]]"#
        );
        assert_eq!(
            with(Push {
                loading: Some("#modal".into()),
                ..Push::default()
            }),
            r##"[["push",{"event":"inc","loading":"#modal"}]]"##
        );
        assert_eq!(
            with(Push {
                page_loading: true,
                ..Push::default()
            }),
            r#"[["push",{"event":"inc","page_loading":true}]]"#
        );
        assert_eq!(
            with(Push {
                value: Some(json!({"one": 1, "two": 2})),
                ..Push::default()
            }),
            r#"[["push",{"event":"inc","value":{"one":1,"two":2}}]]"#
        );
        assert_eq!(
            json(JS::new().push("inc").push_with(
                "dec",
                Push {
                    loading: Some(".foo".into()),
                    ..Push::default()
                }
            )),
            r#"[["push",{"event":"inc"}],["push",{"event":"dec","loading":".foo"}]]"#
        );
    }

    // describe "navigate" and "patch": "with defaults", "replace", "encoding".
    #[test]
    fn navigate_and_patch() {
        assert_eq!(
            json(JS::new().navigate("/home")),
            r#"[["navigate",{"href":"/home","replace":false}]]"#
        );
        assert_eq!(
            json(JS::new().navigate_replace("/home")),
            r#"[["navigate",{"href":"/home","replace":true}]]"#
        );
        assert_eq!(
            json(JS::new().patch("/home")),
            r#"[["patch",{"href":"/home","replace":false}]]"#
        );
        assert_eq!(
            json(JS::new().patch_replace("/home")),
            r#"[["patch",{"href":"/home","replace":true}]]"#
        );
    }

    // describe "add_class" / "remove_class" / "toggle_class": "with defaults" (with the
    // :closest, :inner and :document scopes), "multiple classes", "custom time",
    // "transition", "composability", "encoding".
    #[test]
    fn class_ops() {
        assert_eq!(
            json(JS::new().add_class("show", To::Interacted)),
            r#"[["add_class",{"names":["show"]}]]"#
        );
        assert_eq!(
            json(JS::new().add_class("show", To::Closest("a".into()))),
            r#"[["add_class",{"names":["show"],"to":{"closest":"a"}}]]"#
        );
        assert_eq!(
            json(JS::new().remove_class("show", To::Inner("a".into()))),
            r#"[["remove_class",{"names":["show"],"to":{"inner":"a"}}]]"#
        );
        assert_eq!(
            json(JS::new().toggle_class("show", "#modal")),
            r##"[["toggle_class",{"names":["show"],"to":"#modal"}]]"##
        );
        assert_eq!(
            json(JS::new().add_class("show hl", To::Interacted)),
            r#"[["add_class",{"names":["show","hl"]}]]"#
        );
        assert_eq!(
            json(JS::new().remove_class_with(
                "show",
                Effect {
                    time: Some(543),
                    ..Effect::default()
                }
            )),
            r#"[["remove_class",{"names":["show"],"time":543}]]"#
        );
        assert_eq!(
            json(JS::new().toggle_class_with(
                "show",
                Effect {
                    transition: Some("fade".into()),
                    blocking: Some(false),
                    ..Effect::default()
                }
            )),
            r#"[["toggle_class",{"blocking":false,"names":["show"],"transition":[["fade"],[],[]]}]]"#
        );
        assert_eq!(
            json(JS::new().add_class_with(
                "c",
                Effect {
                    transition: Some("a b".into()),
                    ..Effect::default()
                }
            )),
            r#"[["add_class",{"names":["c"],"transition":[["a","b"],[],[]]}]]"#
        );
        assert_eq!(
            json(
                JS::new().add_class_with(
                    "show",
                    Effect {
                        transition: Some(
                            Transition::new("fade")
                                .start("opacity-0")
                                .end("opacity-100")
                        ),
                        ..Effect::default()
                    }
                )
            ),
            r#"[["add_class",{"names":["show"],"transition":[["fade"],["opacity-0"],["opacity-100"]]}]]"#
        );
        assert_eq!(
            json(
                JS::new()
                    .add_class_with(
                        "show",
                        Effect {
                            to: "#modal".into(),
                            time: Some(100),
                            ..Effect::default()
                        }
                    )
                    .add_class("hl", To::Interacted)
            ),
            r##"[["add_class",{"names":["show"],"time":100,"to":"#modal"}],["add_class",{"names":["hl"]}]]"##
        );
    }

    // describe "dispatch": "with defaults", "with optional flags", "encoding"; detail and
    // blocking from the option docs.
    #[test]
    fn dispatch() {
        assert_eq!(
            json(JS::new().dispatch("click", ".foo")),
            r#"[["dispatch",{"event":"click","to":".foo"}]]"#
        );
        assert_eq!(
            json(JS::new().dispatch("click", To::Interacted)),
            r#"[["dispatch",{"event":"click"}]]"#
        );
        assert_eq!(
            json(JS::new().dispatch_with(
                "click",
                Dispatch {
                    bubbles: Some(false),
                    ..Dispatch::default()
                }
            )),
            r#"[["dispatch",{"bubbles":false,"event":"click"}]]"#
        );
        assert_eq!(
            json(JS::new().dispatch_with(
                "app:x",
                Dispatch {
                    to: "#a".into(),
                    detail: Some(json!({"id": 1})),
                    blocking: true,
                    ..Dispatch::default()
                }
            )),
            r##"[["dispatch",{"blocking":true,"detail":{"id":1},"event":"app:x","to":"#a"}]]"##
        );
    }

    // describe "toggle": "with defaults", "in and out classes", "custom time",
    // "custom display", "encoding".
    #[test]
    fn toggle() {
        assert_eq!(
            json(JS::new().toggle("#modal")),
            r##"[["toggle",{"to":"#modal"}]]"##
        );
        assert_eq!(
            json(JS::new().toggle(To::Closest(".modal".into()))),
            r#"[["toggle",{"to":{"closest":".modal"}}]]"#
        );
        assert_eq!(
            json(JS::new().toggle_with(Toggle {
                to: "#modal".into(),
                transition_in: Some("fade-in d-block".into()),
                transition_out: Some("fade-out d-block".into()),
                ..Toggle::default()
            })),
            r##"[["toggle",{"ins":[["fade-in","d-block"],[],[]],"outs":[["fade-out","d-block"],[],[]],"to":"#modal"}]]"##
        );
        assert_eq!(
            json(
                JS::new().toggle_with(Toggle {
                    to: "#modal".into(),
                    transition_in: Some(
                        Transition::new("fade-in")
                            .start("opacity-0")
                            .end("opacity-100")
                    ),
                    transition_out: Some(
                        Transition::new("fade-out")
                            .start("opacity-100")
                            .end("opacity-0")
                    ),
                    ..Toggle::default()
                })
            ),
            r##"[["toggle",{"ins":[["fade-in"],["opacity-0"],["opacity-100"]],"outs":[["fade-out"],["opacity-100"],["opacity-0"]],"to":"#modal"}]]"##
        );
        assert_eq!(
            json(JS::new().toggle_with(Toggle {
                to: "#modal".into(),
                time: Some(123),
                display: Some("block".into()),
                ..Toggle::default()
            })),
            r##"[["toggle",{"display":"block","time":123,"to":"#modal"}]]"##
        );
    }

    // describe "show" / "hide": "with defaults", "transition classes", "custom time"
    // (including time: 0), "custom display", "composability", "encoding".
    #[test]
    fn show_and_hide() {
        assert_eq!(
            json(JS::new().show("#modal")),
            r##"[["show",{"to":"#modal"}]]"##
        );
        assert_eq!(
            json(JS::new().show(To::Inner(".modal".into()))),
            r#"[["show",{"to":{"inner":".modal"}}]]"#
        );
        assert_eq!(
            json(
                JS::new().show_with(Show {
                    to: "#modal".into(),
                    transition: Some(
                        Transition::new("fade-in d-block")
                            .start("opacity-0 -translate-x-full")
                            .end("opacity-100 translate-x-0")
                    ),
                    ..Show::default()
                })
            ),
            r##"[["show",{"to":"#modal","transition":[["fade-in","d-block"],["opacity-0","-translate-x-full"],["opacity-100","translate-x-0"]]}]]"##
        );
        assert_eq!(
            json(JS::new().show_with(Show {
                to: "#modal".into(),
                display: Some("block".into()),
                ..Show::default()
            })),
            r##"[["show",{"display":"block","to":"#modal"}]]"##
        );
        assert_eq!(
            json(JS::new().hide(To::Closest("a".into()))),
            r#"[["hide",{"to":{"closest":"a"}}]]"#
        );
        assert_eq!(
            json(JS::new().hide_with(Effect {
                to: "#modal".into(),
                transition: Some("fade-out d-block".into()),
                ..Effect::default()
            })),
            r##"[["hide",{"to":"#modal","transition":[["fade-out","d-block"],[],[]]}]]"##
        );
        assert_eq!(
            json(JS::new().hide("#modal").hide_with(Effect {
                to: "#keyboard".into(),
                time: Some(0),
                ..Effect::default()
            })),
            r##"[["hide",{"to":"#modal"}],["hide",{"time":0,"to":"#keyboard"}]]"##
        );
    }

    // describe "transition": "with defaults", "custom time", "encoding".
    #[test]
    fn transition() {
        assert_eq!(
            json(JS::new().transition("shake", To::Interacted)),
            r#"[["transition",{"transition":[["shake"],[],[]]}]]"#
        );
        assert_eq!(
            json(JS::new().transition("shake", "#modal")),
            r##"[["transition",{"to":"#modal","transition":[["shake"],[],[]]}]]"##
        );
        assert_eq!(
            json(
                JS::new().transition(
                    Transition::new("shake swirl")
                        .start("opacity-0 a")
                        .end("opacity-100 b"),
                    "#modal"
                )
            ),
            r##"[["transition",{"to":"#modal","transition":[["shake","swirl"],["opacity-0","a"],["opacity-100","b"]]}]]"##
        );
        assert_eq!(
            json(JS::new().transition_with(Effect {
                to: "#modal".into(),
                transition: Some("shake".into()),
                time: Some(123),
                ..Effect::default()
            })),
            r##"[["transition",{"time":123,"to":"#modal","transition":[["shake"],[],[]]}]]"##
        );
    }

    // describe "set_attribute" / "remove_attribute" / "toggle_attribute": "with
    // defaults", "composability", "encoding"; ignore_attributes from its docs.
    #[test]
    fn attribute_ops() {
        assert_eq!(
            json(JS::new().set_attribute("disabled", "true", To::Interacted)),
            r#"[["set_attr",{"attr":["disabled","true"]}]]"#
        );
        assert_eq!(
            json(JS::new().set_attribute("aria-expanded", "true", To::Inner(".dropdown".into()))),
            r#"[["set_attr",{"attr":["aria-expanded","true"],"to":{"inner":".dropdown"}}]]"#
        );
        assert_eq!(
            json(
                JS::new()
                    .remove_attribute("expanded", To::Interacted)
                    .remove_attribute("has-popup", "#dropdown")
            ),
            r##"[["remove_attr",{"attr":"expanded"}],["remove_attr",{"attr":"has-popup","to":"#dropdown"}]]"##
        );
        assert_eq!(
            json(JS::new().toggle_attribute("disabled", "true", To::Interacted)),
            r#"[["toggle_attr",{"attr":["disabled","true"]}]]"#
        );
        assert_eq!(
            json(JS::new().toggle_attribute_between(
                "aria-expanded",
                "true",
                "false",
                To::Interacted
            )),
            r#"[["toggle_attr",{"attr":["aria-expanded","true","false"]}]]"#
        );
        assert_eq!(
            json(JS::new().ignore_attributes(&["open", "data-*"], "#d")),
            r##"[["ignore_attrs",{"attrs":["open","data-*"],"to":"#d"}]]"##
        );
    }

    // describe "focus" / "focus_first" / "push_focus" / "pop_focus": "with defaults",
    // "encoding"; describe "exec": "with defaults".
    #[test]
    fn focus_and_exec() {
        assert_eq!(json(JS::new().focus(To::Interacted)), r#"[["focus",{}]]"#);
        assert_eq!(
            json(JS::new().focus("input")),
            r#"[["focus",{"to":"input"}]]"#
        );
        assert_eq!(
            json(JS::new().focus_first(To::Inner("input".into()))),
            r#"[["focus_first",{"to":{"inner":"input"}}]]"#
        );
        assert_eq!(
            json(JS::new().push_focus(To::Interacted)),
            r#"[["push_focus",{}]]"#
        );
        assert_eq!(json(JS::new().pop_focus()), r#"[["pop_focus",{}]]"#);
        assert_eq!(
            json(JS::new().exec("phx-remove", To::Interacted)),
            r#"[["exec",{"attr":"phx-remove"}]]"#
        );
        assert_eq!(
            json(JS::new().exec("phx-remove", "#modal")),
            r##"[["exec",{"attr":"phx-remove","to":"#modal"}]]"##
        );
    }

    // describe "to_encodable/1" "with multiple ops" and describe "concat".
    #[test]
    fn chaining_and_concat() {
        let first = JS::new().push_with(
            "inc",
            Push {
                value: Some(json!({"one": 1, "two": 2})),
                ..Push::default()
            },
        );
        let second = JS::new()
            .add_class_with(
                "show",
                Effect {
                    to: "#modal".into(),
                    time: Some(100),
                    ..Effect::default()
                },
            )
            .remove_class("hidden", To::Interacted);
        let expected = r##"[["push",{"event":"inc","value":{"one":1,"two":2}}],["add_class",{"names":["show"],"time":100,"to":"#modal"}],["remove_class",{"names":["hidden"]}]]"##;
        assert_eq!(json(first.concat(second.clone())), expected);
        // Serialize (for push_event payloads) gives the same list.
        let serialized = serde_json::to_value(
            JS::new()
                .push_with(
                    "inc",
                    Push {
                        value: Some(json!({"one": 1, "two": 2})),
                        ..Push::default()
                    },
                )
                .concat(second),
        )
        .unwrap();
        assert_eq!(serialized, serde_json::from_str::<Value>(expected).unwrap());
    }

    // The attribute form mirrors `Phoenix.HTML.Safe`'s impl: JSON, then HTML-escaped.
    #[test]
    fn renders_as_an_escaped_attribute() {
        assert_eq!(
            attr("phx-click", JS::new().push("inc").toggle("#about")),
            r#" phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;inc&quot;}],[&quot;toggle&quot;,{&quot;to&quot;:&quot;#about&quot;}]]""#
        );
        let tricky = JS::new().push_with(
            "say",
            Push {
                value: Some(json!({"text": "<b>\"Tom\" & 'Jerry'</b>"})),
                ..Push::default()
            },
        );
        assert_eq!(
            tricky.to_json(),
            r#"[["push",{"event":"say","value":{"text":"<b>\"Tom\" & 'Jerry'</b>"}}]]"#
        );
        assert_eq!(
            attr("phx-click", &tricky),
            " phx-click=\"[[&quot;push&quot;,{&quot;event&quot;:&quot;say&quot;,&quot;value&quot;:{&quot;text&quot;:&quot;&lt;b&gt;\\&quot;Tom\\&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;&quot;}}]]\""
        );
    }
}
