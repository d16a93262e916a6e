//! The official client as an oracle: the server's diffs, merged by the `phoenix_live_view`
//! 1.2.12 client's own `Rendered` class, must give exactly the HTML the server renders
//! from scratch.
//!
//! The test drives `client/dist/oracle.cjs` (see `client/README.md`) over its line
//! protocol: one `join` with the first render, then for every step the diff followed by
//! `html`, compared byte for byte with `view(&state).to_html()`.
//!
//! Four views together use every template feature: escaped text and numbers, dynamic and
//! boolean attributes, `:if`, `if`/`else` and `match` switching between nested `html!`
//! templates, keyed and unkeyed `:for`, `:for` and `:if` inside `:for` entries, and a
//! function component with an inner block and a named slot, at top level, inside
//! `:for` entries and inside a switched branch. Proptest generates an initial state and
//! up to 12 steps of mutations (through the generated setters, so the change bits are
//! right), including steps that change nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use std::cell::RefCell;
use std::fmt::Debug;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use cinder::diff::{Extras, Prints};
use cinder::{Assigns, Rendered, Slot, Tracked, html, render_slot};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

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
    /// Starts the oracle. Its absence is an error (failing the test), never a skip.
    fn spawn() -> Result<Oracle, String> {
        let path = oracle_path();
        if !path.is_file() {
            return Err(format!(
                "the LiveView client oracle {} is missing; build it with \
                 `cd client && npm ci && npm run build:oracle` (CI does this before `cargo test`)",
                path.display()
            ));
        }
        let mut child = Command::new("node")
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot run `node {}`: {e}; the oracle test needs Node.js (>= 20) on PATH",
                    path.display()
                )
            })?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or("the oracle's stdout is not piped")?;
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Oracle {
            child,
            stdin,
            lines,
        })
    }

    fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("oracle stdin closed")?;
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("writing to the oracle failed: {e}"))
    }

    /// Reads the reply to `html`. A `join`/`diff` that failed prints its error first, so
    /// an error reply may be followed by another line: the caller then drops this oracle.
    fn reply(&mut self) -> Result<String, String> {
        let line = match self.lines.recv_timeout(REPLY_TIMEOUT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => return Err("the oracle did not answer".into()),
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.try_wait().ok().flatten();
                return Err(format!("the oracle exited ({status:?})"));
            }
        };
        let reply: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| format!("unreadable oracle reply {line:?}: {e}"))?;
        if let Some(html) = reply.get("html").and_then(|h| h.as_str()) {
            return Ok(html.to_owned());
        }
        match reply.get("error").and_then(|e| e.as_str()) {
            Some(error) => Err(format!("the client failed: {error}")),
            None => Err(format!("unexpected oracle reply {line}")),
        }
    }

    /// Joins with a server render (a JSON object, sent verbatim) and returns the HTML.
    fn join(&mut self, rendered: &str) -> Result<String, String> {
        self.send(&format!("{{\"op\":\"join\",\"rendered\":{rendered}}}"))?;
        self.send("{\"op\":\"html\"}")?;
        self.reply()
    }

    /// Applies a server diff (sent verbatim) and returns the HTML.
    fn diff(&mut self, diff: &str) -> Result<String, String> {
        self.send(&format!("{{\"op\":\"diff\",\"diff\":{diff}}}"))?;
        self.send("{\"op\":\"html\"}")?;
        self.reply()
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        // Closing stdin ends the oracle; kill it if it lingers.
        drop(self.stdin.take());
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The oracle shared by the cases of one test; replaced after any error, since a failed
/// step may leave a reply line unread.
struct Shared(RefCell<Option<Oracle>>);

impl Shared {
    fn new() -> Result<Shared, String> {
        Ok(Shared(RefCell::new(Some(Oracle::spawn()?))))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Oracle) -> Result<T, String>) -> Result<T, String> {
        let mut slot = self.0.borrow_mut();
        let oracle = match &mut *slot {
            Some(oracle) => oracle,
            None => slot.insert(Oracle::spawn()?),
        };
        let result = f(oracle);
        if result.is_err() {
            *slot = None;
        }
        result
    }
}

// ---------------------------------------------------------------------------------------
// Running one case
// ---------------------------------------------------------------------------------------

type View<S> = for<'a> fn(&'a Tracked<S>) -> Rendered<'a>;

/// Joins with `initial`, then applies each step's mutations, diffs, and compares the
/// client's HTML with a fresh server render. An empty step must give the empty diff `{}`.
fn run_case<S, O: Debug>(
    oracle: &mut Oracle,
    initial: S,
    steps: &[Vec<O>],
    view: View<S>,
    apply: fn(&mut Tracked<S>, &O),
) -> Result<Vec<String>, String> {
    let mut state = Tracked::new(initial);
    let mut prints = Prints::new();
    let mut log = String::new();
    let mut diffs = Vec::with_capacity(steps.len());
    let fail = |log: &str, what: String| format!("{what}\n--- diffs sent so far ---\n{log}");

    let join = prints.render(view(&state), Extras::default());
    let expected = view(&state).to_html();
    log.push_str(&format!("join: {join}\n"));
    let got = oracle.join(&join).map_err(|e| fail(&log, e))?;
    compare(&expected, &got).map_err(|e| fail(&log, format!("after the join: {e}")))?;
    state.clear();

    for (i, ops) in steps.iter().enumerate() {
        for op in ops {
            apply(&mut state, op);
        }
        let diff = prints.render(view(&state), Extras::default());
        log.push_str(&format!("step {i} {ops:?}: {diff}\n"));
        if ops.is_empty() && diff != "{}" {
            return Err(fail(
                &log,
                format!("step {i} changed nothing but sent {diff}"),
            ));
        }
        // The fresh render reads the same state, before its changes are forgotten.
        let expected = view(&state).to_html();
        let got = oracle
            .diff(&diff)
            .map_err(|e| fail(&log, format!("step {i}: {e}")))?;
        compare(&expected, &got).map_err(|e| fail(&log, format!("after step {i}: {e}")))?;
        state.clear();
        diffs.push(diff);
    }
    Ok(diffs)
}

fn compare(server: &str, client: &str) -> Result<(), String> {
    if server == client {
        return Ok(());
    }
    let at = server
        .char_indices()
        .zip(client.chars())
        .find(|((_, a), b)| a != b)
        .map_or(server.len().min(client.len()), |((i, _), _)| i);
    Err(format!(
        "the client's HTML differs from a fresh server render at byte {at}\n\
         server: {server:?}\nclient: {client:?}"
    ))
}

/// Runs `cases` generated cases of one view against one oracle process
/// (`PROPTEST_CASES=n` overrides the count, to hunt longer locally).
fn check<S, O>(
    cases: u32,
    strategy: impl Strategy<Value = (S, Vec<Vec<O>>)>,
    view: View<S>,
    apply: fn(&mut Tracked<S>, &O),
) -> Result<(), String>
where
    S: Clone + Debug,
    O: Clone + Debug,
{
    let oracle = Shared::new()?;
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
        oracle
            .with(|o| run_case(o, initial, &steps, view, apply).map(drop))
            .map_err(TestCaseError::fail)
    });
    result.map_err(|e| match e {
        TestError::Fail(reason, (initial, steps)) => {
            format!("minimal failing case:\ninitial: {initial:#?}\nsteps: {steps:#?}\n{reason}")
        }
        TestError::Abort(reason) => format!("proptest aborted: {reason}"),
    })
}

/// Up to 12 steps of 0 to 3 mutations each (0: a render with nothing changed).
fn steps<O: Debug>(op: impl Strategy<Value = O>) -> impl Strategy<Value = Vec<Vec<O>>> {
    prop::collection::vec(prop::collection::vec(op, 0..=3), 0..=12)
}

// ---------------------------------------------------------------------------------------
// Generated values
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

#[test]
fn profile_diffs_match_the_client() {
    if let Err(e) = check(
        50,
        (profile(), steps(profile_op())),
        profile_view,
        apply_profile,
    ) {
        panic!("{e}");
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

#[test]
fn board_diffs_match_the_client() {
    if let Err(e) = check(50, (board(), steps(board_op())), board_view, apply_board) {
        panic!("{e}");
    }
}

/// A fixed sequence on the keyed list, easy to read when it fails: reverse three rows,
/// edit one label, empty the list, refill it.
#[test]
fn keyed_list_replay() {
    let row = |id: u32, label: &str, flag: bool, tags: &[&str]| Row {
        id,
        label: label.to_owned(),
        flag,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    };
    let initial = Board {
        heading: "Tasks <&>".into(),
        rows: vec![
            row(1, "one", false, &["x"]),
            row(2, "two \"2\"", true, &[]),
            row(3, "three\n3", false, &["y", "z"]),
        ],
        tags: vec!["a".into(), "b".into()],
        filter: false,
    };
    let steps = vec![
        vec![BoardOp::Rows(RowsOp::Reverse)],
        vec![BoardOp::Rows(RowsOp::Edit(At(1), "deux & 2".into()))],
        vec![],
        vec![BoardOp::Rows(RowsOp::Clear)],
        vec![BoardOp::Rows(RowsOp::Refill(vec![
            row(3, "three again", true, &["w"]),
            row(4, "four", false, &[]),
        ]))],
    ];
    let mut oracle = Oracle::spawn().unwrap_or_else(|e| panic!("{e}"));
    let diffs = match run_case(&mut oracle, initial, &steps, board_view, apply_board) {
        Ok(diffs) => diffs,
        Err(e) => panic!("{e}"),
    };
    for (i, diff) in diffs.iter().enumerate() {
        println!("step {i}: {diff}");
    }
    // Reversing sends moves only; the unchanged step sends nothing.
    assert!(diffs[0].contains("\"km\":true"), "{}", diffs[0]);
    assert!(!diffs[0].contains("\"s\":"), "{}", diffs[0]);
    assert_eq!(diffs[2], "{}");
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

#[test]
fn deck_diffs_match_the_client() {
    if let Err(e) = check(50, (deck(), steps(deck_op())), deck_view, apply_deck) {
        panic!("{e}");
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

#[test]
fn shell_diffs_match_the_client() {
    if let Err(e) = check(50, (shell(), steps(shell_op())), shell_view, apply_shell) {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------
// Regression: a helper template taking the assigns
// ---------------------------------------------------------------------------------------

/// A helper template taking the assigns, like HEEx's `defp badge(assigns)`.
fn name_badge(assigns: &Tracked<Profile>) -> Rendered<'_> {
    html!("<b>{@name}</b>")
}

fn helper_view(assigns: &Tracked<Profile>) -> Rendered<'_> {
    html!("<div>{name_badge(assigns)} {@count}</div>")
}

/// `{name_badge(assigns)}` hands all assigns to a helper, so it may read any of them: the
/// macro evaluates it on every render, as HEEx does. (It used to be guarded by an empty
/// mask and never re-rendered.)
#[test]
fn helper_taking_assigns_is_rerendered() {
    let initial = Profile {
        name: "old".into(),
        bio: String::new(),
        count: 0,
        ratio: 0.0,
        active: false,
        show_bio: false,
        mode: 0,
        title: None,
    };
    let steps = vec![vec![ProfileOp::Name("new".into())]];
    let mut oracle = Oracle::spawn().unwrap_or_else(|e| panic!("{e}"));
    if let Err(e) = run_case(&mut oracle, initial, &steps, helper_view, apply_profile) {
        panic!("{e}");
    }
}
