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
//! right), including steps that change nothing. The views and their strategies are in
//! `cinder_test_support::views`, shared with `protocol-client/tests/oracle.rs`, and so is
//! the oracle process (`cinder_test_support::oracle`).
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

use cinder::diff::{Extras, Prints};
use cinder::{Rendered, Tracked, html};
use proptest::prelude::*;

use cinder_test_support::{oracle, views};

use oracle::{Oracle, Reply};
use views::roster::{Roster, RosterOp, apply_roster, roster, roster_op, roster_view, team_view};
use views::{
    At, Board, BoardOp, Profile, ProfileOp, Row, RowsOp, View, apply_board, apply_deck,
    apply_profile, apply_shell, board, board_op, board_view, deck, deck_op, deck_view, profile,
    profile_op, profile_view, run_cases, shell, shell_op, shell_view, steps,
};

// ---------------------------------------------------------------------------------------
// The oracle process
// ---------------------------------------------------------------------------------------

/// Starts the oracle, its stderr shown with the test's output.
fn spawn() -> Result<Oracle, String> {
    Oracle::spawn(Stdio::inherit())
}

/// The client's HTML, or why it has none.
fn html_of(reply: Result<Reply, String>) -> Result<String, String> {
    reply?.map_err(|error| format!("the client failed: {error}"))
}

/// The oracle shared by the cases of one test; replaced after any error, since a failed
/// step may leave a reply line unread.
struct Shared(RefCell<Option<Oracle>>);

impl Shared {
    fn new() -> Result<Shared, String> {
        Ok(Shared(RefCell::new(Some(spawn()?))))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Oracle) -> Result<T, String>) -> Result<T, String> {
        let mut slot = self.0.borrow_mut();
        let oracle = match &mut *slot {
            Some(oracle) => oracle,
            None => slot.insert(spawn()?),
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
    let got = html_of(oracle.join(&join)).map_err(|e| fail(&log, e))?;
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
        let got = html_of(oracle.diff(&diff)).map_err(|e| fail(&log, format!("step {i}: {e}")))?;
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

/// Runs `cases` generated cases of one view against one oracle process.
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
    run_cases(cases, strategy, |initial, steps| {
        oracle.with(|o| run_case(o, initial, steps, view, apply).map(drop))
    })
}

// ---------------------------------------------------------------------------------------
// The four views (in `cinder_test_support::views`)
// ---------------------------------------------------------------------------------------

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
    let mut oracle = spawn().unwrap_or_else(|e| panic!("{e}"));
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

#[test]
fn deck_diffs_match_the_client() {
    if let Err(e) = check(50, (deck(), steps(deck_op())), deck_view, apply_deck) {
        panic!("{e}");
    }
}

#[test]
fn shell_diffs_match_the_client() {
    if let Err(e) = check(50, (shell(), steps(shell_op())), shell_view, apply_shell) {
        panic!("{e}");
    }
}

/// Live components: a keyed list of `Member` components with two templates (switching
/// templates and new members share statics with `"s": ±cid`) and a `Summary` component
/// coming and going.
#[test]
fn roster_diffs_match_the_client() {
    if let Err(e) = check(
        50,
        (roster(), steps(roster_op())),
        roster_view,
        apply_roster,
    ) {
        panic!("{e}");
    }
}

/// Nested components: a `Team` component holding `Member` components, each hot member
/// holding a `Badge` component; members switching templates add and drop badges.
#[test]
fn nested_component_diffs_match_the_client() {
    if let Err(e) = check(50, (roster(), steps(roster_op())), team_view, apply_roster) {
        panic!("{e}");
    }
}

/// Nested components in a fixed sequence: a member turning hot brings a `Badge`
/// component into the `Member` inside the `Team`, each under its own cid.
#[test]
fn nested_components_replay() {
    let row = |id: u32, label: &str| Row {
        id,
        label: label.to_owned(),
        flag: false,
        tags: vec!["t".into()],
    };
    let initial = Roster {
        heading: "Team".into(),
        members: vec![row(1, "one"), row(2, "two")],
        wide: false,
    };
    let steps = vec![
        vec![RosterOp::Members(RowsOp::Flag(At(0)))],
        vec![RosterOp::Members(RowsOp::Flag(At(1)))],
        vec![RosterOp::Members(RowsOp::Flag(At(0)))],
    ];
    let mut oracle = spawn().unwrap_or_else(|e| panic!("{e}"));
    let diffs = match run_case(&mut oracle, initial, &steps, team_view, apply_roster) {
        Ok(diffs) => diffs,
        Err(e) => panic!("{e}"),
    };
    // Cids 1 (team), 2 and 3 (members) exist; the first badge is cid 4, the second
    // shares its statics.
    assert!(
        diffs[0].contains(r#""4":{"0":"1","r":1,"s":["<em class=\"badge\">","</em>"]}"#),
        "{}",
        diffs[0]
    );
    assert!(diffs[1].contains(r#""5":{"0":"1","s":-4}"#), "{}", diffs[1]);
}

/// A fixed sequence on the components, easy to read when it fails.
#[test]
fn components_replay() {
    let row = |id: u32, label: &str, flag: bool| Row {
        id,
        label: label.to_owned(),
        flag,
        tags: vec!["t".into()],
    };
    let initial = Roster {
        heading: "Team".into(),
        members: vec![
            row(1, "one", false),
            row(2, "two", true),
            row(3, "three", false),
        ],
        wide: false,
    };
    let steps = vec![
        vec![RosterOp::Members(RowsOp::Reverse)],
        vec![RosterOp::Members(RowsOp::Edit(At(0), "drei".into()))],
        vec![],
        vec![RosterOp::Members(RowsOp::Flag(At(1)))],
        vec![RosterOp::Members(RowsOp::Insert(
            At(0),
            row(9, "nine", false),
        ))],
        vec![RosterOp::Wide(true)],
        vec![RosterOp::Wide(false), RosterOp::Members(RowsOp::Clear)],
        vec![RosterOp::Members(RowsOp::Refill(vec![row(
            1,
            "one again",
            true,
        )]))],
    ];
    let mut oracle = spawn().unwrap_or_else(|e| panic!("{e}"));
    let diffs = match run_case(&mut oracle, initial, &steps, roster_view, apply_roster) {
        Ok(diffs) => diffs,
        Err(e) => panic!("{e}"),
    };
    for (i, diff) in diffs.iter().enumerate() {
        println!("step {i}: {diff}");
    }
    // Reversing moves the entries holding the cids and sends no component; editing one
    // member sends only its changed text; the unchanged step sends nothing; a member
    // switching templates and a new member share cid 1's statics as the client held
    // them. (`"1":""` is the absent summary, re-evaluated with the members.)
    assert_eq!(
        diffs[0],
        r#"{"1":"","2":{"k":{"0":2,"2":0,"kc":3,"km":true}}}"#
    );
    assert_eq!(diffs[1], r#"{"1":"","c":{"3":{"0":"drei"}}}"#);
    assert_eq!(diffs[2], "{}");
    assert!(
        diffs[3].contains(r#""c":{"2":{"0":"two","1":"1","2":"","s":-1}}"#),
        "{}",
        diffs[3]
    );
    assert!(
        diffs[4].contains(r#""c":{"4":{"0":"nine","1":"1","2":"","s":-1}}"#),
        "{}",
        diffs[4]
    );
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
    let mut oracle = spawn().unwrap_or_else(|e| panic!("{e}"));
    if let Err(e) = run_case(&mut oracle, initial, &steps, helper_view, apply_profile) {
        panic!("{e}");
    }
}
