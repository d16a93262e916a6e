//! The official client as an oracle for the Rust port of its `Rendered`: every diff
//! sequence is merged both by `cinder_client::Rendered` and by the `phoenix_live_view`
//! 1.2.12 client's own `Rendered` class (through `client/dist/oracle.cjs`, see
//! `client/README.md`), and the two HTMLs must be byte-identical after the join and
//! after every step. Where the official client throws, the port must fail too.
//!
//! The sequences come from the real server engine (the `cinder` crate): proptest
//! generates an initial state and up to 12 steps of mutations for four views (copied
//! from `view-node/tests/oracle.rs`) that together use every template feature the
//! engine has — nested templates switching, keyed and unkeyed comprehensions with
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

use std::fmt::Debug;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use cinder::diff::{Extras, Prints};
use cinder::{Assigns, Rendered, Slot, Tracked, html, render_slot};
use cinder_client::{Diff, Rendered as ClientRendered};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// The oracle process
// ---------------------------------------------------------------------------------------

/// How long one oracle reply may take before the test gives up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

fn oracle_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../client/dist/oracle.cjs")
}

/// One `node client/dist/oracle.cjs` process, driven line by line.
struct Oracle {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Oracle {
    /// Starts the oracle. Its absence fails the test with instructions, never skips it.
    fn spawn() -> Oracle {
        let path = oracle_path();
        assert!(
            path.is_file(),
            "the LiveView client oracle {} is missing; build it with \
             `cd client && npm ci && npm run build:oracle` (CI does this before `cargo test`)",
            path.display()
        );
        let mut child = Command::new("node")
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `node {}`: {e}; the oracle test needs Node.js (>= 20) on PATH",
                    path.display()
                )
            });
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Oracle {
            child,
            stdin,
            lines,
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("oracle stdin open");
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush())
            .expect("writing to the oracle");
    }

    /// Sends `op` then `html`, and reads the first answer: the HTML, or the error of
    /// `op` (after which the oracle's state is unknown and it must be replaced).
    fn step(&mut self, op: &str) -> Result<String, String> {
        self.send(op);
        self.send(r#"{"op":"html"}"#);
        let line = match self.lines.recv_timeout(REPLY_TIMEOUT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!("the oracle did not answer"),
            Err(RecvTimeoutError::Disconnected) => {
                panic!("the oracle exited ({:?})", self.child.try_wait())
            }
        };
        let reply: Value = serde_json::from_str(&line).expect("an oracle reply is JSON");
        if let Some(html) = reply.get("html").and_then(Value::as_str) {
            return Ok(html.to_owned());
        }
        match reply.get("error").and_then(Value::as_str) {
            Some(error) => Err(error.lines().next().unwrap_or_default().to_owned()),
            None => panic!("unexpected oracle reply {line}"),
        }
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
            oracle: Oracle::spawn(),
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
        let theirs = self
            .oracle
            .step(&format!(r#"{{"op":"join","rendered":{rendered}}}"#));
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
        let theirs = self
            .oracle
            .step(&format!(r#"{{"op":"diff","diff":{diff}}}"#));
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
                self.oracle = Oracle::spawn();
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
fn settle(rendered: &mut ClientRendered, html: String) -> cinder_client::Result<String> {
    if rendered.take_streams().is_empty() {
        Ok(html)
    } else {
        rendered.render()
    }
}

// ---------------------------------------------------------------------------------------
// Running generated cases through the engine
// ---------------------------------------------------------------------------------------

type View<S> = for<'a> fn(&'a Tracked<S>) -> Rendered<'a>;

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

/// Runs `cases` generated cases of one view against one oracle process
/// (`PROPTEST_CASES=n` overrides the count, to hunt longer locally).
fn check<S, O>(
    cases: u32,
    strategy: impl Strategy<Value = (S, Vec<Vec<O>>)>,
    view: View<S>,
    apply: fn(&mut Tracked<S>, &O),
) where
    S: Clone + Debug,
    O: Clone + Debug,
{
    let pair = std::cell::RefCell::new(Pair::new());
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |(initial, steps)| {
        run_case(&mut pair.borrow_mut(), initial, &steps, view, apply).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        match e {
            TestError::Fail(reason, (initial, steps)) => {
                panic!("minimal failing case:\ninitial: {initial:#?}\nsteps: {steps:#?}\n{reason}")
            }
            TestError::Abort(reason) => panic!("proptest aborted: {reason}"),
        }
    }
}

/// Up to 12 steps of 0 to 3 mutations each (0: a render with nothing changed).
fn steps<O: Debug>(op: impl Strategy<Value = O>) -> impl Strategy<Value = Vec<Vec<O>>> {
    prop::collection::vec(prop::collection::vec(op, 0..=3), 0..=12)
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

// ---------------------------------------------------------------------------------------
// Generated values and the views (copied from `view-node/tests/oracle.rs`)
// ---------------------------------------------------------------------------------------

/// Text needing HTML and JSON escaping, unicode and control characters among plain words.
fn text() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        "a", "b", "Zed", "42", " ", "<", ">", "&", "\"", "'", "\\", "\n", "\r\n", "\t", "é",
        "日本", "🔥", "\u{2028}", "\u{0}", "\u{7f}", "&amp;", "</p>", "<b>", "{", "}", "\\n",
        "\\u0041",
    ];
    prop_oneof![
        1 => Just(String::new()),
        3 => "[a-z]{1,5}",
        4 => prop::collection::vec(prop::sample::select(PIECES), 1..6).prop_map(|p| p.concat()),
    ]
}

fn texts(max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(text(), 0..=max)
}

/// A position in a list, taken modulo its length (readable and shrinking to 0).
#[derive(Debug, Clone, Copy)]
struct At(u8);

impl At {
    fn of(self, len: usize) -> usize {
        usize::from(self.0) % len
    }
}

fn at() -> impl Strategy<Value = At> {
    (0..16u8).prop_map(At)
}

/// One entry of a keyed list.
#[derive(Debug, Clone)]
struct Row {
    id: u32,
    label: String,
    flag: bool,
    tags: Vec<String>,
}

const MAX_ID: u32 = 16;

fn row() -> impl Strategy<Value = Row> {
    (0..MAX_ID, text(), any::<bool>(), texts(3)).prop_map(|(id, label, flag, tags)| Row {
        id,
        label,
        flag,
        tags,
    })
}

/// Rows with distinct ids (duplicates dropped), so `:key` identifies them.
fn rows(max: usize) -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(row(), 0..=max).prop_map(|mut rows| {
        let mut seen = Vec::new();
        rows.retain(|r| {
            let fresh = !seen.contains(&r.id);
            seen.push(r.id);
            fresh
        });
        rows
    })
}

/// A mutation of a keyed list of rows.
#[derive(Debug, Clone)]
enum RowsOp {
    /// Inserts a row at a position; its id becomes the first free one from `row.id` on.
    Insert(At, Row),
    Delete(At),
    Move(At, At),
    /// Swaps pairs of positions: a shuffle that shrinks well.
    Shuffle(Vec<(At, At)>),
    Reverse,
    Edit(At, String),
    Flag(At),
    Tags(At, Vec<String>),
    Clear,
    Refill(Vec<Row>),
    /// Marks the list changed without changing it.
    Touch,
}

fn rows_op() -> impl Strategy<Value = RowsOp> {
    prop_oneof![
        4 => (at(), row()).prop_map(|(i, r)| RowsOp::Insert(i, r)),
        3 => at().prop_map(RowsOp::Delete),
        2 => (at(), at()).prop_map(|(a, b)| RowsOp::Move(a, b)),
        2 => prop::collection::vec((at(), at()), 1..4).prop_map(RowsOp::Shuffle),
        1 => Just(RowsOp::Reverse),
        3 => (at(), text()).prop_map(|(i, t)| RowsOp::Edit(i, t)),
        2 => at().prop_map(RowsOp::Flag),
        2 => (at(), texts(3)).prop_map(|(i, t)| RowsOp::Tags(i, t)),
        1 => Just(RowsOp::Clear),
        1 => rows(5).prop_map(RowsOp::Refill),
        1 => Just(RowsOp::Touch),
    ]
}

fn apply_rows(rows: &mut Vec<Row>, op: &RowsOp) {
    let len = rows.len();
    match op {
        RowsOp::Insert(at, row) => {
            if len >= MAX_ID as usize {
                return;
            }
            let mut row = row.clone();
            while rows.iter().any(|r| r.id == row.id) {
                row.id = (row.id + 1) % MAX_ID;
            }
            rows.insert(at.of(len + 1), row);
        }
        RowsOp::Delete(at) if len > 0 => {
            rows.remove(at.of(len));
        }
        RowsOp::Move(from, to) if len > 0 => {
            let row = rows.remove(from.of(len));
            rows.insert(to.of(len), row);
        }
        RowsOp::Shuffle(swaps) if len > 0 => {
            for (a, b) in swaps {
                rows.swap(a.of(len), b.of(len));
            }
        }
        RowsOp::Reverse => rows.reverse(),
        RowsOp::Edit(at, label) if len > 0 => rows[at.of(len)].label.clone_from(label),
        RowsOp::Flag(at) if len > 0 => {
            let row = &mut rows[at.of(len)];
            row.flag = !row.flag;
        }
        RowsOp::Tags(at, tags) if len > 0 => rows[at.of(len)].tags.clone_from(tags),
        RowsOp::Clear => rows.clear(),
        RowsOp::Refill(new) => rows.clone_from(new),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// The function component
// ---------------------------------------------------------------------------------------

#[derive(Assigns, Default)]
struct Card<'a> {
    title: &'a str,
    inner_block: Slot<'a>,
    footer: Vec<Slot<'a>>,
}

fn card<'p>(assigns: &'p Card<'_>) -> Rendered<'p> {
    html!(
        r#"<div class="card"><h3>{@title}</h3><div class="body">{render_slot(&@inner_block)}</div><footer :for={f in &@footer} class={f.attr("kind")}>{render_slot(f)}</footer></div>"#
    )
}

// ---------------------------------------------------------------------------------------
// View 1: text, numbers, attributes, `:if` and switched branches
// ---------------------------------------------------------------------------------------

#[derive(Assigns, Debug, Clone)]
struct Profile {
    name: String,
    bio: String,
    count: i64,
    ratio: f64,
    active: bool,
    show_bio: bool,
    mode: u8,
    title: Option<String>,
}

fn profile_view(assigns: &Tracked<Profile>) -> Rendered<'_> {
    html!(
        r##"
        <section id="profile" class={format!("mode-{}", @mode)} data-title={@title.as_deref()}>
          <h1 title={@name.as_str()} data-active={@active}>{@name}</h1>
          <p :if={@show_bio} class="bio">{@bio}</p>
          <span class="count">{@count}</span> / <span>{@ratio}</span>
          {if @active { html!(r#"<b data-n={@count}>{@name} is active</b>"#) } else { html!("<i>inactive: {@bio}</i>") }}
          {match @mode {
            0 => html!("<em>zero</em>"),
            1 => html!(r#"<strong title={@bio.as_str()}>{@count} one {@name}</strong>"#),
            2 => html!("<u :if={@show_bio}>{@bio}</u>"),
            _ => html!("plain {@count} text"),
          }}
          {if @show_bio { Some(html!("<small>{@title.as_deref().unwrap_or(\"untitled\")}</small>")) } else { None }}
          <input type="checkbox" checked={@active} disabled={!@active} value={@title.as_deref()} />
        </section>
        "##
    )
}

#[derive(Debug, Clone)]
enum ProfileOp {
    Name(String),
    Bio(String),
    Count(i64),
    Bump,
    Ratio(f64),
    Active(bool),
    ShowBio(bool),
    Mode(u8),
    Title(Option<String>),
    /// Sets every field to its current value: all bits marked, nothing changed.
    Touch,
}

fn profile() -> impl Strategy<Value = Profile> {
    (
        (text(), text(), any::<i64>(), -1e6..1e6f64),
        (
            any::<bool>(),
            any::<bool>(),
            0..5u8,
            prop::option::of(text()),
        ),
    )
        .prop_map(
            |((name, bio, count, ratio), (active, show_bio, mode, title))| Profile {
                name,
                bio,
                count,
                ratio,
                active,
                show_bio,
                mode,
                title,
            },
        )
}

fn profile_op() -> impl Strategy<Value = ProfileOp> {
    prop_oneof![
        text().prop_map(ProfileOp::Name),
        text().prop_map(ProfileOp::Bio),
        any::<i64>().prop_map(ProfileOp::Count),
        Just(ProfileOp::Bump),
        prop_oneof![Just(0.5), Just(-0.0), -1e3..1e3f64].prop_map(ProfileOp::Ratio),
        any::<bool>().prop_map(ProfileOp::Active),
        any::<bool>().prop_map(ProfileOp::ShowBio),
        (0..5u8).prop_map(ProfileOp::Mode),
        prop::option::of(text()).prop_map(ProfileOp::Title),
        Just(ProfileOp::Touch),
    ]
}

fn apply_profile(state: &mut Tracked<Profile>, op: &ProfileOp) {
    match op {
        ProfileOp::Name(v) => state.set_name(v.clone()),
        ProfileOp::Bio(v) => state.set_bio(v.clone()),
        ProfileOp::Count(v) => state.set_count(*v),
        ProfileOp::Bump => state.update_count(|c| *c = c.wrapping_add(1)),
        ProfileOp::Ratio(v) => state.set_ratio(*v),
        ProfileOp::Active(v) => state.set_active(*v),
        ProfileOp::ShowBio(v) => state.set_show_bio(*v),
        ProfileOp::Mode(v) => state.set_mode(*v),
        ProfileOp::Title(v) => state.set_title(v.clone()),
        ProfileOp::Touch => {
            let p: Profile = (**state).clone();
            state.set_name(p.name);
            state.set_bio(p.bio);
            state.set_count(p.count);
            state.set_ratio(p.ratio);
            state.set_active(p.active);
            state.set_show_bio(p.show_bio);
            state.set_mode(p.mode);
            state.set_title(p.title);
        }
    }
}

// ---------------------------------------------------------------------------------------
// View 2: keyed and unkeyed `:for`, `:for` and `:if` inside entries
// ---------------------------------------------------------------------------------------

#[derive(Assigns, Debug, Clone)]
struct Board {
    heading: String,
    rows: Vec<Row>,
    tags: Vec<String>,
    filter: bool,
}

fn board_view(assigns: &Tracked<Board>) -> Rendered<'_> {
    html!(
        r#"
        <div id="board" class={if @filter { "filtered" } else { "all" }}>
          <h2>{@heading} ({@rows.len()})</h2>
          <ul class="rows">
            <li :for={row in &@rows} :key={row.id} id={format!("row-{}", row.id)} data-flag={row.flag}>
              <span class="label">{row.label}</span>
              <em :if={row.flag}>flagged: {row.label}</em>
              <small :for={t in &row.tags}>#{t}</small>
              {if row.tags.is_empty() { html!("<i>no tags</i>") } else { html!("<b>{row.tags.len()} tags</b>") }}
            </li>
          </ul>
          <p :if={@rows.is_empty()}>empty</p>
          <ol><li :for={t in &@tags} class={if @filter { "f" } else { "n" }}>{t}</li></ol>
        </div>
        "#
    )
}

#[derive(Debug, Clone)]
enum BoardOp {
    Rows(RowsOp),
    Heading(String),
    Tags(Vec<String>),
    PushTag(String),
    PopTag,
    Filter(bool),
}

fn board() -> impl Strategy<Value = Board> {
    (text(), rows(6), texts(4), any::<bool>()).prop_map(|(heading, rows, tags, filter)| Board {
        heading,
        rows,
        tags,
        filter,
    })
}

fn board_op() -> impl Strategy<Value = BoardOp> {
    prop_oneof![
        8 => rows_op().prop_map(BoardOp::Rows),
        1 => text().prop_map(BoardOp::Heading),
        1 => texts(4).prop_map(BoardOp::Tags),
        1 => text().prop_map(BoardOp::PushTag),
        1 => Just(BoardOp::PopTag),
        1 => any::<bool>().prop_map(BoardOp::Filter),
    ]
}

fn apply_board(state: &mut Tracked<Board>, op: &BoardOp) {
    match op {
        BoardOp::Rows(op) => state.update_rows(|rows| apply_rows(rows, op)),
        BoardOp::Heading(v) => state.set_heading(v.clone()),
        BoardOp::Tags(v) => state.set_tags(v.clone()),
        BoardOp::PushTag(v) => state.update_tags(|t| t.push(v.clone())),
        BoardOp::PopTag => {
            state.update_tags(Vec::pop);
        }
        BoardOp::Filter(v) => state.set_filter(*v),
    }
}

// ---------------------------------------------------------------------------------------
// View 3: the function component at top level and inside `:for` entries
// ---------------------------------------------------------------------------------------

#[derive(Assigns, Debug, Clone)]
struct Deck {
    title: String,
    body: String,
    notes: Vec<String>,
    items: Vec<Row>,
    show_extra: bool,
    total: i64,
}

// `html!` completes component props with `..Default::default()` even when every field
// is given; the generated code should allow `clippy::needless_update` itself.
#[allow(clippy::needless_update)]
fn deck_view(assigns: &Tracked<Deck>) -> Rendered<'_> {
    html!(
        r#"
        <div class="deck">
          <.card title={@title.as_str()}>
            <p>{@body}</p> total={@total}
            <:footer kind="count">{@notes.len()} notes</:footer>
            <:footer>{@notes.join(" | ")}</:footer>
          </.card>
          <.card :if={@show_extra} title="extra">extra {@total}</.card>
          <section :for={item in &@items} :key={item.id} class="item">
            <.card title={item.label.as_str()}>
              #{item.id}<b :if={item.flag}>!</b>
              <u :for={t in &item.tags}>{t}</u>
              <:footer kind={if item.flag { "hot" } else { "cold" }}>{item.tags.join(",")}</:footer>
            </.card>
          </section>
          <ul><li :for={n in &@notes}><.card title={n.as_str()}>{n}</.card></li></ul>
        </div>
        "#
    )
}

#[derive(Debug, Clone)]
enum DeckOp {
    Items(RowsOp),
    Title(String),
    Body(String),
    Notes(Vec<String>),
    PushNote(String),
    ShowExtra(bool),
    Total(i64),
}

fn deck() -> impl Strategy<Value = Deck> {
    (
        text(),
        text(),
        texts(3),
        rows(5),
        any::<bool>(),
        -1000..1000i64,
    )
        .prop_map(|(title, body, notes, items, show_extra, total)| Deck {
            title,
            body,
            notes,
            items,
            show_extra,
            total,
        })
}

fn deck_op() -> impl Strategy<Value = DeckOp> {
    prop_oneof![
        6 => rows_op().prop_map(DeckOp::Items),
        1 => text().prop_map(DeckOp::Title),
        1 => text().prop_map(DeckOp::Body),
        1 => texts(3).prop_map(DeckOp::Notes),
        1 => text().prop_map(DeckOp::PushNote),
        1 => any::<bool>().prop_map(DeckOp::ShowExtra),
        1 => (-1000..1000i64).prop_map(DeckOp::Total),
    ]
}

fn apply_deck(state: &mut Tracked<Deck>, op: &DeckOp) {
    match op {
        DeckOp::Items(op) => state.update_items(|rows| apply_rows(rows, op)),
        DeckOp::Title(v) => state.set_title(v.clone()),
        DeckOp::Body(v) => state.set_body(v.clone()),
        DeckOp::Notes(v) => state.set_notes(v.clone()),
        DeckOp::PushNote(v) => state.update_notes(|n| n.push(v.clone())),
        DeckOp::ShowExtra(v) => state.set_show_extra(*v),
        DeckOp::Total(v) => state.set_total(*v),
    }
}

// ---------------------------------------------------------------------------------------
// View 4: structure switching — lists, components and nested `:for` inside branches
// ---------------------------------------------------------------------------------------

#[derive(Assigns, Debug, Clone)]
struct Shell {
    tab: u8,
    open: bool,
    rows: Vec<Row>,
    matrix: Vec<Vec<u8>>,
    label: String,
    score: u32,
}

#[allow(clippy::needless_update)]
fn shell_view(assigns: &Tracked<Shell>) -> Rendered<'_> {
    html!(
        r##"
        <main data-tab={@tab} hidden={!@open}>
          {match @tab {
            0 => html!(r#"<section class="list"><ul :if={@open}><li :for={row in &@rows} :key={row.id}>{row.label}<.card title={row.label.as_str()}>{row.id}<:footer>f{row.id}</:footer></.card></li></ul></section>"#),
            1 => html!(r#"<section class="grid"><div :for={line in &@matrix} data-len={line.len()}><span :for={cell in line}>{cell}</span><em :if={line.is_empty()}>-</em></div></section>"#),
            2 => html!(r#"<.card title={@label.as_str()}>{@label} {@score}<:footer kind="x">{@score}</:footer></.card>"#),
            _ => html!(r#"<section class="list"><p :for={row in &@rows} :key={row.id} :if={row.flag}>{row.label}</p></section>"#),
          }}
          <p :if={@open}>{@label}<span :for={row in &@rows} :key={row.id}>{row.id}:{row.label};</span></p>
          <footer>{@score}</footer>
        </main>
        "##
    )
}

#[derive(Debug, Clone)]
enum ShellOp {
    Tab(u8),
    Open(bool),
    Rows(RowsOp),
    Matrix(Vec<Vec<u8>>),
    Cell(At, At, u8),
    Label(String),
    Score(u32),
}

fn matrix() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..4), 0..4)
}

fn shell() -> impl Strategy<Value = Shell> {
    (
        0..4u8,
        any::<bool>(),
        rows(5),
        matrix(),
        text(),
        any::<u32>(),
    )
        .prop_map(|(tab, open, rows, matrix, label, score)| Shell {
            tab,
            open,
            rows,
            matrix,
            label,
            score,
        })
}

fn shell_op() -> impl Strategy<Value = ShellOp> {
    prop_oneof![
        2 => (0..4u8).prop_map(ShellOp::Tab),
        1 => any::<bool>().prop_map(ShellOp::Open),
        4 => rows_op().prop_map(ShellOp::Rows),
        1 => matrix().prop_map(ShellOp::Matrix),
        2 => (at(), at(), any::<u8>()).prop_map(|(a, b, v)| ShellOp::Cell(a, b, v)),
        1 => text().prop_map(ShellOp::Label),
        1 => any::<u32>().prop_map(ShellOp::Score),
    ]
}

fn apply_shell(state: &mut Tracked<Shell>, op: &ShellOp) {
    match op {
        ShellOp::Tab(v) => state.set_tab(*v),
        ShellOp::Open(v) => state.set_open(*v),
        ShellOp::Rows(op) => state.update_rows(|rows| apply_rows(rows, op)),
        ShellOp::Matrix(v) => state.set_matrix(v.clone()),
        ShellOp::Cell(row, col, v) => state.update_matrix(|m| {
            if m.is_empty() {
                return;
            }
            let len = m.len();
            let line = &mut m[row.of(len)];
            match line.len() {
                0 => line.push(*v),
                len => line[col.of(len)] = *v,
            }
        }),
        ShellOp::Label(v) => state.set_label(v.clone()),
        ShellOp::Score(v) => state.set_score(*v),
    }
}
