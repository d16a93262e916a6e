//! The official client as an oracle for stateful live components nested in live
//! components, through a real session.
//!
//! `oracle.rs` checks components built eagerly (`Dynamic::component`); this test uses
//! [`live_component`] as an app does: a `Desk` view holds a keyed list of `Card`
//! components, each `Card` holds a keyed list of `Chip` components (two templates, so
//! cids share statics across templates and across parents) and, while hot, a `Star`
//! component. The session's registry keeps every instance's state, runs `update` with
//! the new props and renders the components deferred, under their cids.
//!
//! Proptest generates an initial desk and up to 12 steps of changes to both levels'
//! props: headings, titles, hot flags, cards added, removed, re-added under the same id
//! and reversed, chips added, removed, edited and moved from one card to another (the
//! same component id under a new parent). Each step goes to the session as an event;
//! the diff of its reply is merged by the client (`client/dist/oracle.cjs`), whose HTML
//! must equal a fresh dead render of the same state. After some steps (chosen by
//! proptest) the test does the client's destroy handshake for the cids that left the
//! client's DOM: `cids_destroyed` must delete exactly those, and no later diff may
//! name a destroyed cid (in `"c"` or as shared statics). The oracle has no prune op, so
//! the client's tree keeps the destroyed entries; the last check stands for that.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::Mutex;

use cinder::component::{ComponentSocket, LiveComponent, Myself, live_component};
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestError, TestRunner};
use serde_json::{Value, json};

mod support;
use cinder_test_support::oracle;

use oracle::Oracle;
use support::Frames;

// ---------------------------------------------------------------------------------------
// The components and the view
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct ChipData {
    id: u32,
    label: String,
    n: u8,
}

#[derive(Debug, Clone)]
struct CardData {
    id: u32,
    title: String,
    hot: bool,
    chips: Vec<ChipData>,
}

/// The innermost component: two templates, switching with `n`.
#[derive(Assigns)]
struct Chip {
    label: String,
    n: u8,
}

impl LiveComponent for Chip {
    type Props = ChipData;

    fn mount(_props: &ChipData) -> Result<Self> {
        Ok(Chip {
            label: String::new(),
            n: 0,
        })
    }

    fn update(socket: &mut ComponentSocket<Self>, props: ChipData) -> Result {
        socket.set_label(props.label);
        socket.set_n(props.n);
        Ok(())
    }

    fn render(assigns: &Tracked<Self>, _myself: Myself) -> Rendered<'_> {
        if assigns.n > 2 {
            html!(r#"<strong class="chip big">{@label} x{@n}</strong>"#)
        } else {
            html!(r#"<span class="chip">{@label}<b :if={@n > 0}>{@n}</b></span>"#)
        }
    }
}

/// A component inside a hot `Card` only: comes and goes with its parent's props.
#[derive(Assigns)]
struct Star {
    count: usize,
}

impl LiveComponent for Star {
    type Props = usize;

    fn mount(count: &usize) -> Result<Self> {
        Ok(Star { count: *count })
    }

    fn update(socket: &mut ComponentSocket<Self>, count: usize) -> Result {
        socket.set_count(count);
        Ok(())
    }

    fn render(assigns: &Tracked<Self>, _myself: Myself) -> Rendered<'_> {
        html!(r#"<em class="star">{@count}</em>"#)
    }
}

/// The middle component: a keyed list of `Chip`s and, while hot, a `Star`.
#[derive(Assigns)]
struct Card {
    id: u32,
    title: String,
    hot: bool,
    chips: Vec<ChipData>,
}

impl LiveComponent for Card {
    type Props = CardData;

    fn mount(props: &CardData) -> Result<Self> {
        Ok(Card {
            id: props.id,
            title: String::new(),
            hot: false,
            chips: Vec::new(),
        })
    }

    fn update(socket: &mut ComponentSocket<Self>, props: CardData) -> Result {
        socket.set_title(props.title);
        socket.set_hot(props.hot);
        socket.set_chips(props.chips);
        Ok(())
    }

    fn render(assigns: &Tracked<Self>, _myself: Myself) -> Rendered<'_> {
        html!(
            r#"<article class={if @hot { "card hot" } else { "card" }}><h2>{@title}</h2><ul><li :for={chip in &@chips} :key={chip.id}>{live_component::<Chip>(chip.id.to_string(), chip.clone())}</li></ul>{footer(assigns)}</article>"#
        )
    }
}

fn footer(assigns: &Tracked<Card>) -> Rendered<'_> {
    if assigns.hot {
        html!(
            r#"<footer>{live_component::<Star>(assigns.id.to_string(), assigns.chips.len())}</footer>"#
        )
    } else {
        html!("<footer>-</footer>")
    }
}

#[derive(Assigns, Debug, Clone)]
struct Desk {
    heading: String,
    cards: Vec<CardData>,
    /// Cards removed, for `Restore` to bring back under the same ids.
    removed: Vec<CardData>,
    next_id: u32,
}

/// The desk a session mounts, and the ops its next `step` event applies: one case runs
/// at a time, and its session is the only one reading these.
static MOUNT: Mutex<Option<Desk>> = Mutex::new(None);
static PENDING: Mutex<Vec<Op>> = Mutex::new(Vec::new());

impl LiveView for Desk {
    type Info = ();

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(MOUNT.lock().unwrap().take().expect("a desk to mount"))
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<main><h1>{@heading}</h1><section :for={card in &@cards} :key={card.id}>{live_component::<Card>(card.id.to_string(), card.clone())}</section><p :if={@cards.is_empty()}>empty</p></main>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, _value: Value) -> Result {
        assert_eq!(event, "step");
        for op in std::mem::take(&mut *PENDING.lock().unwrap()) {
            apply(&mut socket.assigns, &op);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Changes
// ---------------------------------------------------------------------------------------

/// An index, taken modulo the length it indexes.
#[derive(Debug, Clone, Copy)]
struct At(u8);

impl At {
    fn of(self, len: usize) -> usize {
        usize::from(self.0) % len
    }
}

#[derive(Debug, Clone)]
enum Op {
    Heading(String),
    AddCard {
        at: At,
        title: String,
        hot: bool,
    },
    RemoveCard(At),
    /// Brings back the last removed card, under its id and with its chips.
    Restore,
    Retitle(At, String),
    Hot(At),
    Reverse,
    AddChip {
        card: At,
        label: String,
        n: u8,
    },
    RemoveChip {
        card: At,
        chip: At,
    },
    EditChip {
        card: At,
        chip: At,
        label: String,
        n: u8,
    },
    /// The same `Chip` (its id) moved to the end of another card.
    MoveChip {
        from: At,
        chip: At,
        to: At,
    },
}

fn apply(desk: &mut Tracked<Desk>, op: &Op) {
    match op {
        Op::Heading(heading) => desk.set_heading(heading.clone()),
        Op::AddCard { at, title, hot } => {
            let id = desk.next_id;
            desk.set_next_id(id + 1);
            desk.update_cards(|cards| {
                let at = at.of(cards.len() + 1);
                cards.insert(
                    at,
                    CardData {
                        id,
                        title: title.clone(),
                        hot: *hot,
                        chips: Vec::new(),
                    },
                );
            });
        }
        Op::RemoveCard(at) => {
            if !desk.cards.is_empty() {
                let at = at.of(desk.cards.len());
                let mut gone = None;
                desk.update_cards(|cards| gone = Some(cards.remove(at)));
                desk.update_removed(|removed| removed.extend(gone));
            }
        }
        Op::Restore => {
            if !desk.removed.is_empty() {
                let mut back = None;
                desk.update_removed(|removed| back = removed.pop());
                desk.update_cards(|cards| cards.extend(back));
            }
        }
        Op::Retitle(at, title) => with_card(desk, *at, |card| card.title.clone_from(title)),
        Op::Hot(at) => with_card(desk, *at, |card| card.hot = !card.hot),
        Op::Reverse => desk.update_cards(|cards| cards.reverse()),
        Op::AddChip { card, label, n } => {
            if !desk.cards.is_empty() {
                let id = desk.next_id;
                desk.set_next_id(id + 1);
                let chip = ChipData {
                    id,
                    label: label.clone(),
                    n: *n,
                };
                with_card(desk, *card, |card| card.chips.push(chip));
            }
        }
        Op::RemoveChip { card, chip } => with_card(desk, *card, |card| {
            if !card.chips.is_empty() {
                card.chips.remove(chip.of(card.chips.len()));
            }
        }),
        Op::EditChip {
            card,
            chip,
            label,
            n,
        } => with_card(desk, *card, |card| {
            if !card.chips.is_empty() {
                let len = card.chips.len();
                let chip = &mut card.chips[chip.of(len)];
                chip.label.clone_from(label);
                chip.n = *n;
            }
        }),
        Op::MoveChip { from, chip, to } => {
            let len = desk.cards.len();
            if len > 0 {
                let (from, to) = (from.of(len), to.of(len));
                desk.update_cards(|cards| {
                    if from != to && !cards[from].chips.is_empty() {
                        let chips = &mut cards[from].chips;
                        let moved = chips.remove(chip.of(chips.len()));
                        cards[to].chips.push(moved);
                    }
                });
            }
        }
    }
}

fn with_card(desk: &mut Tracked<Desk>, at: At, f: impl FnOnce(&mut CardData)) {
    if !desk.cards.is_empty() {
        let at = at.of(desk.cards.len());
        desk.update_cards(|cards| f(&mut cards[at]));
    }
}

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    "[a-c<&\"]{0,3}"
}

fn at() -> impl Strategy<Value = At> {
    (0..16u8).prop_map(At)
}

fn desk() -> impl Strategy<Value = Desk> {
    let chip = (text(), 0..5u8);
    let card = (text(), any::<bool>(), prop::collection::vec(chip, 0..3));
    (text(), prop::collection::vec(card, 0..3)).prop_map(|(heading, cards)| {
        let mut next_id = 1;
        let mut id = || {
            next_id += 1;
            next_id - 1
        };
        let cards = cards
            .into_iter()
            .map(|(title, hot, chips)| CardData {
                id: id(),
                title,
                hot,
                chips: chips
                    .into_iter()
                    .map(|(label, n)| ChipData { id: id(), label, n })
                    .collect(),
            })
            .collect();
        Desk {
            heading,
            cards,
            removed: Vec::new(),
            next_id: id(),
        }
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => text().prop_map(Op::Heading),
        2 => (at(), text(), any::<bool>()).prop_map(|(at, title, hot)| Op::AddCard { at, title, hot }),
        2 => at().prop_map(Op::RemoveCard),
        1 => Just(Op::Restore),
        1 => (at(), text()).prop_map(|(at, title)| Op::Retitle(at, title)),
        2 => at().prop_map(Op::Hot),
        1 => Just(Op::Reverse),
        3 => (at(), text(), 0..5u8).prop_map(|(card, label, n)| Op::AddChip { card, label, n }),
        2 => (at(), at()).prop_map(|(card, chip)| Op::RemoveChip { card, chip }),
        3 => (at(), at(), text(), 0..5u8)
            .prop_map(|(card, chip, label, n)| Op::EditChip { card, chip, label, n }),
        2 => (at(), at(), at()).prop_map(|(from, chip, to)| Op::MoveChip { from, chip, to }),
    ]
}

/// Steps: the ops of one event, and whether the destroy handshake follows it.
type Steps = Vec<(Vec<Op>, bool)>;

fn steps() -> impl Strategy<Value = Steps> {
    prop::collection::vec((prop::collection::vec(op(), 0..=3), any::<bool>()), 0..=12)
}

/// Sends a join or a diff to the client, then reads its HTML: normalized and raw (whose
/// `data-phx-component` attributes tell which cids are in the client's DOM).
fn step(
    client: &mut Oracle,
    reply: std::result::Result<oracle::Reply, String>,
) -> std::result::Result<(String, String), String> {
    let html = reply?.map_err(|e| format!("the client failed: {e}"))?;
    Ok((html, client.raw_html()?))
}

/// The cids in the client's DOM, from its raw HTML.
fn cids_in(raw: &str) -> BTreeSet<u64> {
    const ATTR: &str = "data-phx-component=\"";
    raw.match_indices(ATTR)
        .map(|(at, _)| {
            let rest = &raw[at + ATTR.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

/// Where a diff names a cid it must no longer use: a `"c"` key or shared statics.
fn destroyed_refs(diff: &Value, destroyed: &BTreeSet<u64>, found: &mut Vec<u64>) {
    match diff {
        Value::Object(map) => {
            if let Some(Value::Object(c)) = map.get("c") {
                found.extend(
                    c.keys()
                        .filter_map(|k| k.parse::<u64>().ok())
                        .filter(|cid| destroyed.contains(cid)),
                );
            }
            if let Some(s) = map.get("s").and_then(Value::as_i64)
                && destroyed.contains(&s.unsigned_abs())
            {
                found.push(s.unsigned_abs());
            }
            for value in map.values() {
                destroyed_refs(value, destroyed, found);
            }
        }
        Value::Array(items) => {
            for value in items {
                destroyed_refs(value, destroyed, found);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Running one case
// ---------------------------------------------------------------------------------------

fn fresh(desk: &Tracked<Desk>) -> String {
    Desk::render(&Tracked::new((**desk).clone())).to_html()
}

async fn run(initial: Desk, steps: &Steps) -> std::result::Result<(), String> {
    let mut client = Oracle::spawn(Stdio::inherit())?;
    let mut mirror = Tracked::new(initial.clone());
    *MOUNT.lock().unwrap() = Some(initial);
    let payload = json!({"url": "http://h/desk", "params": {}, "session": "", "static": null});
    let (mut session, reply) = Frames::join::<Desk>("lv:phx-desk", payload, None).await;
    let rendered = &reply[4]["response"]["rendered"];
    let mut log = format!("join: {rendered}\n");
    let fail = |log: &str, what: String| format!("{what}\n--- sent ---\n{log}");

    let joined = client.join(&rendered.to_string());
    let (mut html, raw) = step(&mut client, joined).map_err(|e| fail(&log, e))?;
    compare(&fresh(&mirror), &html).map_err(|e| fail(&log, format!("after the join: {e}")))?;
    let mut seen = cids_in(&raw);
    let mut destroyed = BTreeSet::new();

    for (i, (ops, handshake)) in steps.iter().enumerate() {
        PENDING.lock().unwrap().clone_from(ops);
        for op in ops {
            apply(&mut mirror, op);
        }
        let response = session
            .push(
                "event",
                json!({"type": "click", "event": "step", "value": {}}),
            )
            .await;
        assert_eq!(response[4]["status"], "ok", "{response}");
        let response = &response[4]["response"];
        log.push_str(&format!("step {i} {ops:?}: {response}\n"));
        let Some(diff) = response.get("diff") else {
            // Nothing changed, so nothing to merge: the client's HTML stays.
            compare(&fresh(&mirror), &html)
                .map_err(|e| fail(&log, format!("step {i} sent no diff: {e}")))?;
            continue;
        };
        if ops.is_empty() {
            return Err(fail(
                &log,
                format!("step {i} changed nothing but sent {diff}"),
            ));
        }
        let mut named = Vec::new();
        destroyed_refs(diff, &destroyed, &mut named);
        if !named.is_empty() {
            return Err(fail(
                &log,
                format!("step {i} names destroyed cids {named:?}"),
            ));
        }
        let raw;
        let merged = client.diff(&diff.to_string());
        (html, raw) =
            step(&mut client, merged).map_err(|e| fail(&log, format!("step {i}: {e}")))?;
        compare(&fresh(&mirror), &html).map_err(|e| fail(&log, format!("after step {i}: {e}")))?;
        let present = cids_in(&raw);
        seen.extend(&present);
        if *handshake {
            // The client's `maybePushComponentsDestroyed`: the cids gone from its DOM.
            let gone: Vec<u64> = seen
                .difference(&present)
                .filter(|cid| !destroyed.contains(*cid))
                .copied()
                .collect();
            if !gone.is_empty() {
                let will = session
                    .push("cids_will_destroy", json!({"cids": gone}))
                    .await;
                assert_eq!(will[4]["response"], json!({}), "{will}");
                let done = session.push("cids_destroyed", json!({"cids": gone})).await;
                log.push_str(&format!("destroyed {gone:?}: {}\n", done[4]["response"]));
                if done[4]["response"] != json!({"cids": gone}) {
                    return Err(fail(
                        &log,
                        format!("after step {i}: destroying {gone:?} answered {done}"),
                    ));
                }
                destroyed.extend(gone);
            }
        }
    }
    Ok(())
}

fn compare(server: &str, client: &str) -> std::result::Result<(), String> {
    if server == client {
        Ok(())
    } else {
        Err(format!(
            "the client's HTML differs from a fresh server render\nserver: {server:?}\nclient: {client:?}"
        ))
    }
}

/// Live components in live components: `Desk` > `Card` > `Chip` and `Star`.
#[test]
fn nested_live_component_diffs_match_the_client() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&(desk(), steps()), |(initial, steps)| {
        runtime
            .block_on(run(initial, &steps))
            .map_err(TestCaseError::fail)
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, (initial, steps))) => {
            panic!("minimal failing case:\ninitial: {initial:#?}\nsteps: {steps:#?}\n{reason}")
        }
        Err(TestError::Abort(reason)) => panic!("proptest aborted: {reason}"),
    }
}
