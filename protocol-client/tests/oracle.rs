//! The official client as an oracle for the Rust port of its `Rendered`: every diff
//! sequence is merged both by `cinder_protocol_client::Rendered` and by the `phoenix_live_view`
//! 1.2.12 client's own `Rendered` class (through `client/dist/oracle.cjs`, see
//! `client/README.md`), and the two HTMLs must be byte-identical after the join and
//! after every step. Where the official client throws, the port must fail too.
//!
//! The sequences come from the real server engine (the `cinder` crate): proptest
//! generates an initial state and up to 12 steps of mutations for four views (shared
//! with `cinder/tests/oracle.rs` through `cinder_test_support::views`, as is the
//! oracle process, `cinder_test_support::oracle`) that together use every template feature
//! the engine has — nested templates switching, keyed and unkeyed comprehensions with
//! moves, function components with slots, the root `"p"` table. 4 × 50 cases.
//! What the engine does not emit (components `"c"` with ±cid sharing, components-only
//! diffs, templates on comprehensions, streams, the failures) is covered by hand-written
//! sequences in `fixed_sequences_match_the_client`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use std::cell::RefCell;
use std::fmt::Debug;
use std::process::Stdio;

use cinder::Tracked;
use cinder::diff::{Extras, Prints};
use cinder_protocol_client::{Diff, Rendered as ClientRendered};
use proptest::prelude::*;
use serde_json::{Value, json};

use cinder_test_support::{oracle, views};

use oracle::{Oracle, Reply};
use views::{
    View, apply_board, apply_deck, apply_profile, apply_shell, board, board_op, board_view, deck,
    deck_op, deck_view, profile, profile_op, profile_view, run_cases, shell, shell_op, shell_view,
    steps,
};

// ---------------------------------------------------------------------------------------
// The oracle process
// ---------------------------------------------------------------------------------------

/// Starts the oracle; failing to is fatal. Its stderr is dropped: the failing sequences
/// make the client log what it throws on there.
fn spawn() -> Oracle {
    Oracle::spawn(Stdio::null()).unwrap_or_else(|e| panic!("{e}"))
}

/// The official client's HTML, or the first line of what it threw; the oracle process
/// failing fails the test.
fn theirs(reply: Result<Reply, String>) -> Result<String, String> {
    reply
        .unwrap_or_else(|e| panic!("{e}"))
        .map_err(|error| error.lines().next().unwrap_or_default().to_owned())
}

// ---------------------------------------------------------------------------------------
// Comparing one sequence
// ---------------------------------------------------------------------------------------

/// The two clients side by side over one diff sequence.
struct Pair {
    oracle: Oracle,
    rendered: Option<ClientRendered>,
    html: String,
    log: String,
}

/// How a step went on both sides.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Both rendered the same HTML.
    Same,
    /// Both failed (the official client threw); the sequence cannot go on.
    BothFailed,
}

impl Pair {
    fn new() -> Pair {
        Pair {
            oracle: spawn(),
            rendered: None,
            html: String::new(),
            log: String::new(),
        }
    }

    /// A join, as `View.onJoin` does it.
    fn join(&mut self, rendered: &str) -> Result<Outcome, String> {
        self.log = format!("join: {rendered}\n");
        let value: Value = serde_json::from_str(rendered).map_err(|e| e.to_string())?;
        let mine = Diff::extract(&value).and_then(|(diff, _)| ClientRendered::join(diff));
        let mine = mine.and_then(|(mut tree, html)| {
            let html = settle(&mut tree, html)?;
            self.rendered = Some(tree);
            self.html = html.clone();
            Ok(html)
        });
        let theirs = theirs(self.oracle.join(rendered));
        self.compare("the join", mine.map_err(|e| e.to_string()), theirs)
    }

    /// An update, as `View.update` does it; the HTML compared is what `View::html`
    /// shows (the last render).
    fn diff(&mut self, step: usize, diff: &str, title: Option<&str>) -> Result<Outcome, String> {
        self.log.push_str(&format!("step {step}: {diff}\n"));
        let value: Value = serde_json::from_str(diff).map_err(|e| e.to_string())?;
        let rendered = self.rendered.as_mut().expect("joined");
        let mine = Diff::extract(&value).and_then(|(diff, extras)| {
            assert_eq!(extras.title.as_deref(), title, "the title is taken off");
            match rendered.update(diff)? {
                Some(html) => settle(rendered, html),
                None => Ok(self.html.clone()),
            }
        });
        if let Ok(html) = &mine {
            self.html.clone_from(html);
        }
        let theirs = theirs(self.oracle.diff(diff));
        self.compare(
            &format!("step {step}"),
            mine.map_err(|e| e.to_string()),
            theirs,
        )
    }

    fn compare(
        &mut self,
        what: &str,
        mine: Result<String, String>,
        theirs: Result<String, String>,
    ) -> Result<Outcome, String> {
        let fail =
            |message: String| Err(format!("{message}\n--- sequence so far ---\n{}", self.log));
        match (mine, theirs) {
            (Ok(mine), Ok(theirs)) if mine == theirs => Ok(Outcome::Same),
            (Ok(mine), Ok(theirs)) => {
                let at = mine
                    .bytes()
                    .zip(theirs.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(mine.len().min(theirs.len()));
                fail(format!(
                    "after {what} the port's HTML differs from the official client's at byte {at}\n\
                     port:   {mine:?}\nclient: {theirs:?}"
                ))
            }
            (Err(_), Err(_)) => {
                // The oracle's state is now unknown: start a fresh one.
                self.oracle = spawn();
                Ok(Outcome::BothFailed)
            }
            (Ok(mine), Err(theirs)) => fail(format!(
                "after {what} the official client failed ({theirs}) but the port rendered {mine:?}"
            )),
            (Err(mine), Ok(theirs)) => fail(format!(
                "after {what} the port failed ({mine}) but the official client rendered {theirs:?}"
            )),
        }
    }
}

/// What `View` shows after a render: stream entries are dropped once rendered, so a
/// render that brought some is followed by one without (as the oracle's `html` is).
fn settle(rendered: &mut ClientRendered, html: String) -> cinder_protocol_client::Result<String> {
    if rendered.take_streams().is_empty() {
        Ok(html)
    } else {
        rendered.render()
    }
}

// ---------------------------------------------------------------------------------------
// Running generated cases through the engine
// ---------------------------------------------------------------------------------------

/// Joins with `initial`, then applies each step's mutations and diffs, comparing the
/// port with the client after each. Every third step also carries a title.
fn run_case<S, O: Debug>(
    pair: &mut Pair,
    initial: S,
    steps: &[Vec<O>],
    view: View<S>,
    apply: fn(&mut Tracked<S>, &O),
) -> Result<(), String> {
    let mut state = Tracked::new(initial);
    let mut prints = Prints::new();
    let join = prints.render(view(&state), Extras::default());
    expect_same(pair.join(&join)?)?;
    state.clear();
    for (i, ops) in steps.iter().enumerate() {
        for op in ops {
            apply(&mut state, op);
        }
        let title = format!("step {i}");
        let title = (i % 3 == 2).then_some(title.as_str());
        let extras = Extras {
            title,
            ..Extras::default()
        };
        let diff = prints.render(view(&state), extras);
        expect_same(pair.diff(i, &diff, title)?)?;
        state.clear();
    }
    Ok(())
}

fn expect_same(outcome: Outcome) -> Result<(), String> {
    match outcome {
        Outcome::Same => Ok(()),
        Outcome::BothFailed => Err("both clients failed on a diff from the engine".into()),
    }
}

/// Runs `cases` generated cases of one view against one oracle process.
fn check<S, O>(
    cases: u32,
    strategy: impl Strategy<Value = (S, Vec<Vec<O>>)>,
    view: View<S>,
    apply: fn(&mut Tracked<S>, &O),
) where
    S: Clone + Debug,
    O: Clone + Debug,
{
    let pair = RefCell::new(Pair::new());
    let result = run_cases(cases, strategy, |initial, steps| {
        run_case(&mut pair.borrow_mut(), initial, steps, view, apply)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn profile_diffs_merge_like_the_client() {
    check(
        50,
        (profile(), steps(profile_op())),
        profile_view,
        apply_profile,
    );
}

#[test]
fn board_diffs_merge_like_the_client() {
    check(50, (board(), steps(board_op())), board_view, apply_board);
}

#[test]
fn deck_diffs_merge_like_the_client() {
    check(50, (deck(), steps(deck_op())), deck_view, apply_deck);
}

#[test]
fn shell_diffs_merge_like_the_client() {
    check(50, (shell(), steps(shell_op())), shell_view, apply_shell);
}

// ---------------------------------------------------------------------------------------
// Hand-written sequences: what the engine does not emit
// ---------------------------------------------------------------------------------------

/// One sequence: a join and diffs, and whether the last step makes both clients fail.
struct Sequence {
    name: &'static str,
    join: Value,
    diffs: Vec<Value>,
    fails_at_the_end: bool,
}

fn sequence(name: &'static str, join: Value, diffs: Vec<Value>) -> Sequence {
    Sequence {
        name,
        join,
        diffs,
        fails_at_the_end: false,
    }
}

fn failing(name: &'static str, join: Value, diffs: Vec<Value>) -> Sequence {
    Sequence {
        fails_at_the_end: true,
        ..sequence(name, join, diffs)
    }
}

fn sequences() -> Vec<Sequence> {
    let card =
        |title: &str| json!({"0": title, "s": ["<div class=\"card\"><h3>", "</h3></div>"], "r": 1});
    vec![
        sequence(
            "components share statics with ±cids and update alone",
            json!({"0": 1, "1": 2, "s": ["<main>", "", "</main>"],
                   "c": {"1": card("one"), "2": {"0": "two", "s": 1, "r": 1}}}),
            vec![
                json!({"c": {"2": {"0": "deux"}}}),
                json!({"1": 3, "c": {"3": {"0": "three", "s": -1, "r": 1}}}),
                json!({"c": {"1": {"0": "uno"}, "3": {"0": "tres"}}}),
                json!({"0": {"0": 3, "s": ["<section>", "</section>"]}, "c": {"3": {"0": {"0": "x", "s": ["<i>", "</i>"]}}}}),
                json!({"c": {"4": {"0": "four", "s": -3, "r": 1}}, "1": 4}),
                json!({"t": "only a title"}),
                json!({"1": "<p>gone</p>"}),
            ],
        ),
        sequence(
            "components inside keyed entries with templates",
            json!({"0": {"k": {"0": {"0": 1}, "1": {"0": 2}, "kc": 2}, "s": 0}, "s": ["<ul>", "</ul>"],
                   "p": {"0": ["<li>", "</li>"]},
                   "c": {"1": {"0": {"0": "a", "s": 0}, "s": ["<b>", "</b>"], "r": 1, "p": {"0": ["<u>", "</u>"]}},
                         "2": {"0": {"0": "b", "s": ["<em>", "</em>"]}, "s": 1, "r": 1}}}),
            vec![
                json!({"0": {"k": {"0": 1, "1": 0, "kc": 2, "km": true}}}),
                json!({"c": {"1": {"0": {"0": "A"}}}}),
                json!({"0": {"k": {"2": {"0": 3}, "kc": 3}}, "c": {"3": {"0": {"0": "c", "s": 0}, "s": -2, "r": 1, "p": {"0": ["<s>", "</s>"]}}}}),
                json!({"0": {"k": {"0": [2, {"0": 1}], "kc": 1, "km": true}}}),
            ],
        ),
        sequence(
            "templates on a comprehension and renumbered root templates",
            json!({"0": {"k": {"0": {"0": {"0": "x", "s": 0}}, "kc": 1}, "s": ["<p>", "</p>"], "p": {"0": ["<i>", "</i>"]}},
                   "1": {"0": "y", "s": 0}, "s": 1, "p": {"0": ["<b>", "</b>"], "1": ["<div>", "", "</div>"]}}),
            vec![
                json!({"1": {"0": "z", "s": 0}, "p": {"0": ["<u>", "</u>"]}}),
                json!({"0": {"k": {"1": {"0": {"0": "w", "s": 0}}, "kc": 2}}, "p": {"0": ["<s>", "</s>"]}}),
                json!({"0": {"k": {"0": {"0": {"0": "v"}}, "kc": 2}}}),
            ],
        ),
        sequence(
            "nested moves, cuts, regrowth and string/node swaps",
            json!({"0": {"k": {"0": {"0": "a", "1": {"k": {"0": {"0": "1"}, "1": {"0": "2"}, "kc": 2}, "s": ["<i>", "</i>"]}},
                                "1": {"0": "b", "1": {"k": {"kc": 0}, "s": ["<i>", "</i>"]}}, "kc": 2},
                         "s": ["<li>", "", "</li>"]},
                   "1": "text", "s": ["<ol>", "</ol>", ""]}),
            vec![
                json!({"0": {"k": {"0": {"1": {"k": {"0": 1, "1": 0, "kc": 2, "km": true}}}, "1": [0, {"0": "b2"}], "kc": 2, "km": true}}}),
                json!({"0": {"k": {"kc": 1}}, "1": {"0": "now a node", "s": ["<span>", "</span>"], "r": 1}}),
                json!({"1": {"0": "patched"}}),
                json!({"0": {"k": {"1": {"0": "new", "1": {"k": {"0": {"0": "9"}, "kc": 1}, "s": ["<b>", "</b>"]}}, "kc": 2}}, "1": "text again"}),
                json!({"s": ["<p>", "</p>"], "0": "a new root"}),
            ],
        ),
        sequence(
            "odd dynamic values are written as JavaScript writes them",
            json!({"0": true, "1": null, "2": ["a", null, 3], "s": ["<p>", "|", "|", "|", "</p>"]}),
            vec![json!({"0": false, "2": []})],
        ),
        sequence(
            "streams drop their entries after rendering",
            json!({"0": {"k": {"0": {"0": "m-1"}, "kc": 1}, "s": ["<li id=\"", "\"></li>"],
                          "stream": ["s", [["m-1", -1, null, false]], [], false]},
                   "1": "n", "s": ["<ul>", "</ul>", ""]}),
            vec![
                json!({"1": "m"}),
                json!({"0": {"k": {"0": {"0": "m-2"}, "kc": 1}, "stream": ["s", [["m-2", -1, null, false]], ["m-1"], false]}}),
            ],
        ),
        failing(
            "a move without km",
            json!({"0": {"k": {"0": {"0": "a"}, "1": {"0": "b"}, "kc": 2}, "s": ["<i>", "</i>"]}, "s": ["", ""]}),
            vec![json!({"0": {"k": {"0": 1, "1": 0, "kc": 2}}})],
        ),
        failing(
            "a root that is not a tag",
            json!({"0": "x", "s": ["<p>", "</p>"]}),
            vec![json!({"0": {"0": "y", "s": ["text ", ""], "r": 1}})],
        ),
        failing(
            "a component-only diff whose component is not a tag",
            json!({"0": 1, "s": ["<p>", "</p>"], "c": {"1": {"0": "x", "s": ["<b>", "</b>"]}}}),
            vec![json!({"c": {"1": {"0": "y", "s": ["plain ", ""]}}})],
        ),
        failing(
            "a missing component",
            json!({"0": "x", "s": ["<p>", "</p>"]}),
            vec![json!({"0": 9})],
        ),
        failing(
            "a node without statics in place of text",
            json!({"0": "x", "s": ["<p>", "</p>"]}),
            vec![json!({"0": {"0": "y"}})],
        ),
        failing(
            "an unknown template",
            json!({"0": "x", "s": ["<p>", "</p>"]}),
            vec![json!({"0": {"0": "y", "s": 4}, "p": {"0": ["<i>", "</i>"]}})],
        ),
        failing(
            "a join whose root is not a tag",
            json!({"0": {"0": "y", "s": ["text ", ""], "r": 1}, "s": ["", ""]}),
            vec![],
        ),
    ]
}

#[test]
fn fixed_sequences_match_the_client() {
    let mut pair = Pair::new();
    for sequence in sequences() {
        let name = sequence.name;
        let steps = sequence.diffs.len();
        let mut outcomes = vec![
            pair.join(&sequence.join.to_string())
                .unwrap_or_else(|e| panic!("{name}: {e}")),
        ];
        for (i, diff) in sequence.diffs.iter().enumerate() {
            if outcomes.last() == Some(&Outcome::BothFailed) {
                break;
            }
            let title = diff.get("t").and_then(Value::as_str);
            outcomes.push(
                pair.diff(i, &diff.to_string(), title)
                    .unwrap_or_else(|e| panic!("{name}: {e}")),
            );
        }
        let expected: Vec<Outcome> = (0..=steps)
            .map(|i| {
                if sequence.fails_at_the_end && i == steps {
                    Outcome::BothFailed
                } else {
                    Outcome::Same
                }
            })
            .collect();
        assert_eq!(outcomes, expected, "{name}");
    }
}
