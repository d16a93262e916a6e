//! `html!` end to end: compiled templates, their HTML and their diffs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use cinder::diff::{Extras, Prints};
use cinder::{Assigns, Rendered, Slot, Tracked, html, render_slot};
use serde_json::{Value, json};

#[derive(Assigns, Default)]
struct Page {
    count: i64,
    name: String,
    show: bool,
    items: Vec<(u32, String)>,
}

fn page(assigns: &Tracked<Page>) -> Rendered<'_> {
    html!(
        r#"
        <main class="page">
          <h1 id="count" data-name={@name}>{@count}</h1>
          <p :if={@show}>Hello {@name}!</p>
          <ul>
            <li :for={(id, label) in &@items} :key={id} id={format!("item-{id}")}>{label}</li>
          </ul>
          <.card title="Box">Inner {@count}<:footer>bye</:footer></.card>
        </main>
        "#
    )
}

#[derive(Assigns, Default)]
struct Card<'a> {
    title: &'a str,
    inner_block: Slot<'a>,
    footer: Vec<Slot<'a>>,
}

fn card<'p>(assigns: &'p Card<'_>) -> Rendered<'p> {
    html!(
        r#"<div class="card"><h2>{@title}</h2>{render_slot(&@inner_block)}<footer :for={f in &@footer}>{render_slot(f)}</footer></div>"#
    )
}

fn diff(prints: &mut Prints, assigns: &Tracked<Page>) -> Value {
    let json = prints.render(page(assigns), Extras::default());
    serde_json::from_str(&json).unwrap()
}

#[test]
fn renders_html() {
    let page_state = Tracked::new(Page {
        count: 1,
        name: "<Jo>".into(),
        show: true,
        items: vec![(1, "a".into())],
    });
    assert_eq!(
        page(&page_state).to_html(),
        "<main class=\"page\">\n          <h1 id=\"count\" data-name=\"&lt;Jo&gt;\">1</h1>\n          <p>Hello &lt;Jo&gt;!</p>\n          <ul>\n            <li id=\"item-1\">a</li>\n          </ul>\n          <div class=\"card\"><h2>Box</h2>Inner 1<footer>bye</footer></div>\n        </main>"
    );
}

#[test]
fn only_changed_dynamics_are_sent() {
    let mut state = Tracked::new(Page {
        count: 1,
        name: "Jo".into(),
        show: false,
        items: vec![],
    });
    let mut prints = Prints::new();
    let first = diff(&mut prints, &state);
    println!("{first}");
    assert!(first.get("p").is_some(), "{first}");
    state.clear();
    state.mark(1).count = 2;
    let second = diff(&mut prints, &state);
    println!("{second}");
    // The card's title did not change, so only the slot's text inside it is sent.
    assert_eq!(
        second,
        json!({"1": "2", "4": {"1": {"0": "2"}}}),
        "{second}"
    );
    state.clear();
    state.mark(u64::MAX).show = true;
    let third = diff(&mut prints, &state);
    println!("{third}");
}

#[derive(Assigns, Default)]
struct Constant {
    count: i64,
}

/// A dynamic that reads no assign (a computed constant, a JS command) is rendered once
/// and never resent.
fn constant(assigns: &Tracked<Constant>) -> Rendered<'_> {
    html!(r#"<button data-x={String::from("fixed")}>{@count}</button>"#)
}

#[test]
fn a_dynamic_reading_no_assign_is_sent_once() {
    let mut state = Tracked::new(Constant { count: 0 });
    let mut prints = Prints::new();
    let first: Value =
        serde_json::from_str(&prints.render(constant(&state), Extras::default())).unwrap();
    assert_eq!(first["0"], json!(r#" data-x="fixed""#));
    state.clear();
    state.set_count(1);
    let second: Value =
        serde_json::from_str(&prints.render(constant(&state), Extras::default())).unwrap();
    assert_eq!(second, json!({"1": "1"}));
}

mod links {
    use cinder::link::{Link, link};
    use cinder::{Rendered, Tracked, html};

    fn nav(_assigns: &Tracked<super::Constant>) -> Rendered<'_> {
        html!(
            r#"<nav><.link patch="/counter?step=5" id="step-5" class="step">+5</.link><.link navigate="/form" replace>Form</.link><.link href="https://example.com/">Out</.link></nav>"#
        )
    }

    /// The attributes `Phoenix.Component.link/1` renders, in its order.
    #[test]
    fn links_render_what_the_client_follows() {
        let state = Tracked::new(super::Constant { count: 0 });
        assert_eq!(
            nav(&state).to_html(),
            concat!(
                r#"<nav><a href="/counter?step=5" data-phx-link="patch" data-phx-link-state="push" id="step-5" class="step">+5</a>"#,
                r#"<a href="/form" data-phx-link="redirect" data-phx-link-state="replace">Form</a>"#,
                r#"<a href="https://example.com/">Out</a></nav>"#
            )
        );
    }
}
