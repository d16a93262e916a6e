//! The official client as an oracle for streams.
//!
//! A stream's entries do not stay in the client's tree: `Rendered` renders them into
//! the HTML it hands to the DOM patch and drops them, and the DOM patch places them by
//! the `stream` operations beside it. So, after the join and every step, this test asks
//! the client (`client/dist/oracle.cjs`, op `patch`) for what it patched:
//!
//! - the patch HTML must equal a fresh server render of the view holding exactly that
//!   step's inserts (each entry rendered by the client from the diff, shared statics and
//!   all, must be what the server would render);
//! - the `stream` operations the client read must be the step's operations, written
//!   independently here: `[ref, [[dom_id, at, limit, update_only]…], [deleted ids]]`,
//!   plus `true` after a reset (never `false`), the last insert of a DOM id winning;
//! - the client's whole tree afterwards must equal a fresh render with an empty stream:
//!   no entry lingers in the tree to be sent twice.
//!
//! Proptest mixes inserts at the end, the start and inside, updates (`update_only`),
//! deletes, resets with new items and changes to a plain assign, over streams with no
//! limit, a negative and a positive limit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use std::process::Stdio;

use cinder::diff::{Extras, Prints};
use cinder::{Assigns, Rendered, Stream, Tracked, html};
use proptest::prelude::*;
use serde_json::{Value, json};

use cinder_test_support::oracle;

use oracle::Oracle;

#[derive(Debug, Clone)]
struct Item {
    text: String,
    hot: bool,
}

#[derive(Assigns)]
struct Feed {
    title: String,
    items: Stream<Item>,
}

fn feed_view(assigns: &Tracked<Feed>) -> Rendered<'_> {
    html!(
        r#"<section><h1>{@title}</h1><ul id="items" phx-update="stream"><li :for={(dom_id, item) in @items} id={dom_id} class={if item.hot { "hot" } else { "cold" }}>{item.text}<b :if={item.hot}>!</b></li></ul></section>"#
    )
}

#[derive(Debug, Clone)]
enum Op {
    Title(String),
    Insert { id: u8, at: i64, item: Item },
    Update { id: u8, item: Item },
    Delete(u8),
    Reset(Vec<(u8, Item)>),
}

fn dom_id(id: u8) -> String {
    format!("items-{id}")
}

/// What a step must put on the wire for the stream, derived from its ops alone.
#[derive(Debug, Default)]
struct Expected {
    inserts: Vec<(String, i64, bool, Item)>,
    deletes: Vec<String>,
    reset: bool,
}

impl Expected {
    fn of(ops: &[Op]) -> Expected {
        let mut expected = Expected::default();
        for op in ops {
            match op {
                Op::Title(_) => {}
                Op::Insert { id, at, item } => {
                    expected
                        .inserts
                        .push((dom_id(*id), *at, false, item.clone()));
                }
                Op::Update { id, item } => {
                    expected.inserts.push((dom_id(*id), -1, true, item.clone()));
                }
                Op::Delete(id) => expected.deletes.push(dom_id(*id)),
                Op::Reset(items) => {
                    expected.inserts.clear();
                    expected.reset = true;
                    for (id, item) in items {
                        expected
                            .inserts
                            .push((dom_id(*id), -1, false, item.clone()));
                    }
                }
            }
        }
        // The last insert of a DOM id wins, in the order of those last inserts.
        let mut last = Vec::new();
        for insert in expected.inserts.into_iter().rev() {
            if !last
                .iter()
                .any(|(id, ..): &(String, i64, bool, Item)| *id == insert.0)
            {
                last.push(insert);
            }
        }
        last.reverse();
        expected.inserts = last;
        expected
    }

    fn touches_stream(ops: &[Op]) -> bool {
        ops.iter().any(|op| !matches!(op, Op::Title(_)))
    }

    /// The client's view of the ops: `[[ref, inserts, deletes, (true)]]`, or none when
    /// there is nothing to do (the client passes no empty op to the DOM patch).
    fn wire(&self, limit: Option<i64>) -> Value {
        if self.inserts.is_empty() && self.deletes.is_empty() && !self.reset {
            return json!([]);
        }
        let inserts: Vec<Value> = self
            .inserts
            .iter()
            .map(|(id, at, update_only, _)| json!([id, at, limit, update_only]))
            .collect();
        let mut op = json!(["items", inserts, self.deletes]);
        if self.reset {
            op.as_array_mut().unwrap().push(json!(true));
        }
        json!([op])
    }

    /// A fresh server render of the view holding exactly these inserts.
    fn html(&self, title: &str) -> String {
        let mut items = Stream::new("items");
        for (id, at, _, item) in &self.inserts {
            items.insert_at(id.clone(), item.clone(), *at);
        }
        feed_view(&Tracked::new(Feed {
            title: title.to_owned(),
            items,
        }))
        .to_html()
    }
}

fn apply(state: &mut Tracked<Feed>, op: &Op) {
    match op {
        Op::Title(title) => state.set_title(title.clone()),
        Op::Insert { id, at, item } => {
            state.items_mut().insert_at(dom_id(*id), item.clone(), *at);
        }
        Op::Update { id, item } => state.items_mut().update(dom_id(*id), item.clone()),
        Op::Delete(id) => state.items_mut().delete(dom_id(*id)),
        Op::Reset(items) => {
            let stream = state.items_mut();
            stream.reset();
            for (id, item) in items {
                stream.insert(dom_id(*id), item.clone());
            }
        }
    }
}

fn new_stream(limit: Option<i64>) -> Stream<Item> {
    let stream = Stream::new("items");
    match limit {
        Some(limit) => stream.with_limit(limit),
        None => stream,
    }
}

/// Joins with `initial` inserts, then runs `steps`, checking each patch and tree.
fn run(
    oracle: &mut Oracle,
    limit: Option<i64>,
    initial: &[Op],
    steps: &[Vec<Op>],
) -> Result<(), String> {
    let mut state = Tracked::new(Feed {
        title: "Feed".into(),
        items: new_stream(limit),
    });
    let mut prints = Prints::new();
    let mut log = String::new();
    let all = std::iter::once(initial.to_vec()).chain(steps.iter().cloned());
    for (i, ops) in all.enumerate() {
        for op in &ops {
            apply(&mut state, op);
        }
        let expected = Expected::of(&ops);
        let wire = prints.render(feed_view(&state), Extras::default());
        state.clear();
        log.push_str(&format!("step {i} {ops:?}: {wire}\n"));
        let fail = |what: String| format!("step {i}: {what}\n--- sent ---\n{log}");
        let reply = if i == 0 {
            oracle.join(&wire)
        } else {
            oracle.diff(&wire)
        };
        let tree = reply?.map_err(|e| fail(format!("the client failed: {e}")))?;
        let (patch, streams) = oracle.patch()?;
        if i == 0 || Expected::touches_stream(&ops) {
            let want = expected.html(&state.title);
            if patch != want {
                return Err(fail(format!(
                    "patch HTML\n client: {patch}\n server: {want}"
                )));
            }
            let want = expected.wire(limit);
            if streams != want {
                return Err(fail(format!(
                    "stream ops\n client: {streams}\n expected: {want}"
                )));
            }
        } else if streams != json!([]) {
            return Err(fail(format!(
                "no stream op expected, the client read {streams}"
            )));
        }
        let fresh = feed_view(&state).to_html();
        if tree != fresh {
            return Err(fail(format!("tree\n client: {tree}\n server: {fresh}")));
        }
    }
    Ok(())
}

fn item() -> impl Strategy<Value = Item> {
    ("[a-z<&]{0,4}", any::<bool>()).prop_map(|(text, hot)| Item { text, hot })
}

fn op() -> impl Strategy<Value = Op> {
    let id = 0_u8..6;
    prop_oneof![
        1 => "[A-Z]{1,3}".prop_map(Op::Title),
        4 => (id.clone(), prop_oneof![Just(-1_i64), Just(0), 1_i64..3], item())
            .prop_map(|(id, at, item)| Op::Insert { id, at, item }),
        1 => (id.clone(), item()).prop_map(|(id, item)| Op::Update { id, item }),
        2 => id.clone().prop_map(Op::Delete),
        1 => prop::collection::vec((id, item()), 0..3).prop_map(Op::Reset),
    ]
}

fn case() -> impl Strategy<Value = (Option<i64>, Vec<Op>, Vec<Vec<Op>>)> {
    (
        prop_oneof![Just(None), Just(Some(-3_i64)), Just(Some(3))],
        prop::collection::vec(op(), 0..4),
        prop::collection::vec(prop::collection::vec(op(), 0..4), 1..8),
    )
}

#[test]
fn stream_patches_match_the_client() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(60);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    // A fresh client per case: a failed step may leave a reply unread.
    let result = runner.run(&case(), |(limit, initial, steps)| {
        let mut oracle = Oracle::spawn(Stdio::inherit()).map_err(TestCaseError::fail)?;
        run(&mut oracle, limit, &initial, &steps).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
