//! The generated views, value strategies and mutations shared by the two oracle tests
//! (`cinder/tests/oracle.rs` checks the server's diffs against the official client,
//! `protocol-client/tests/oracle.rs` checks the Rust port of the client against it), and
//! the runner of their generated cases. Needs the feature `views`.
//!
//! Four views together use every template feature: escaped text and numbers, dynamic and
//! boolean attributes, `:if`, `if`/`else` and `match` switching between nested `html!`
//! templates, keyed and unkeyed `:for`, `:for` and `:if` inside `:for` entries, and a
//! function component with an inner block and a named slot, at top level, inside
//! `:for` entries and inside a switched branch. Mutations go through the generated
//! setters, so the change bits are right.
#![allow(
    missing_docs,
    reason = "each view's section says what it exercises; its fields, mutations and \
              strategies are named after what they set, and a doc line each would repeat it"
)]

use std::fmt::Debug;

use cinder::{
    Assigns, Comprehension, Dynamic, Rendered, Slot, Template, Tracked, html, render_slot,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

// ---------------------------------------------------------------------------------------
// Running generated cases
// ---------------------------------------------------------------------------------------

/// A view: the render of a tracked state.
pub type View<S> = for<'a> fn(&'a Tracked<S>) -> Rendered<'a>;

/// Up to 12 steps of 0 to 3 mutations each (0: a render with nothing changed).
pub fn steps<O: Debug>(op: impl Strategy<Value = O>) -> impl Strategy<Value = Vec<Vec<O>>> {
    prop::collection::vec(prop::collection::vec(op, 0..=3), 0..=12)
}

/// Runs `cases` generated cases, each an initial state and its steps handed to `run`
/// (`PROPTEST_CASES=n` overrides the count, to hunt longer locally). The error describes
/// the minimal failing case.
pub fn run_cases<S, O>(
    cases: u32,
    strategy: impl Strategy<Value = (S, Vec<Vec<O>>)>,
    run: impl Fn(S, &[Vec<O>]) -> Result<(), String>,
) -> Result<(), String>
where
    S: Clone + Debug,
    O: Clone + Debug,
{
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
        run(initial, &steps).map_err(TestCaseError::fail)
    });
    result.map_err(|e| match e {
        TestError::Fail(reason, (initial, steps)) => {
            format!("minimal failing case:\ninitial: {initial:#?}\nsteps: {steps:#?}\n{reason}")
        }
        TestError::Abort(reason) => format!("proptest aborted: {reason}"),
    })
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
pub struct At(pub u8);

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
pub struct Row {
    pub id: u32,
    pub label: String,
    pub flag: bool,
    pub tags: Vec<String>,
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
pub enum RowsOp {
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
pub struct Profile {
    pub name: String,
    pub bio: String,
    pub count: i64,
    pub ratio: f64,
    pub active: bool,
    pub show_bio: bool,
    pub mode: u8,
    pub title: Option<String>,
}

pub fn profile_view(assigns: &Tracked<Profile>) -> Rendered<'_> {
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
pub enum ProfileOp {
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

pub fn profile() -> impl Strategy<Value = Profile> {
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

pub fn profile_op() -> impl Strategy<Value = ProfileOp> {
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

pub fn apply_profile(state: &mut Tracked<Profile>, op: &ProfileOp) {
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
pub struct Board {
    pub heading: String,
    pub rows: Vec<Row>,
    pub tags: Vec<String>,
    pub filter: bool,
}

pub fn board_view(assigns: &Tracked<Board>) -> Rendered<'_> {
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
pub enum BoardOp {
    Rows(RowsOp),
    Heading(String),
    Tags(Vec<String>),
    PushTag(String),
    PopTag,
    Filter(bool),
}

pub fn board() -> impl Strategy<Value = Board> {
    (text(), rows(6), texts(4), any::<bool>()).prop_map(|(heading, rows, tags, filter)| Board {
        heading,
        rows,
        tags,
        filter,
    })
}

pub fn board_op() -> impl Strategy<Value = BoardOp> {
    prop_oneof![
        8 => rows_op().prop_map(BoardOp::Rows),
        1 => text().prop_map(BoardOp::Heading),
        1 => texts(4).prop_map(BoardOp::Tags),
        1 => text().prop_map(BoardOp::PushTag),
        1 => Just(BoardOp::PopTag),
        1 => any::<bool>().prop_map(BoardOp::Filter),
    ]
}

pub fn apply_board(state: &mut Tracked<Board>, op: &BoardOp) {
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
pub struct Deck {
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
pub fn deck_view(assigns: &Tracked<Deck>) -> Rendered<'_> {
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
pub enum DeckOp {
    Items(RowsOp),
    Title(String),
    Body(String),
    Notes(Vec<String>),
    PushNote(String),
    ShowExtra(bool),
    Total(i64),
}

pub fn deck() -> impl Strategy<Value = Deck> {
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

pub fn deck_op() -> impl Strategy<Value = DeckOp> {
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

pub fn apply_deck(state: &mut Tracked<Deck>, op: &DeckOp) {
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
pub struct Shell {
    tab: u8,
    open: bool,
    rows: Vec<Row>,
    matrix: Vec<Vec<u8>>,
    label: String,
    score: u32,
}

#[allow(clippy::needless_update)]
pub fn shell_view(assigns: &Tracked<Shell>) -> Rendered<'_> {
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
pub enum ShellOp {
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

pub fn shell() -> impl Strategy<Value = Shell> {
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

pub fn shell_op() -> impl Strategy<Value = ShellOp> {
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

pub fn apply_shell(state: &mut Tracked<Shell>, op: &ShellOp) {
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

// ---------------------------------------------------------------------------------------
// View 5: live components in a keyed list, with two templates
// ---------------------------------------------------------------------------------------

/// A view of live components; only `cinder/tests/oracle.rs` renders it.
pub mod roster {
    use super::*;

    /// The body of the members' comprehension: just the component's cid.
    static MEMBER_ENTRY: Template = Template {
        statics: &["", ""],
        fingerprint: 0x5eed_c0de_0001,
        root: false,
    };

    /// A `Member` live component: one of two templates, by the row's flag. Rendered
    /// eagerly, so its text is compared by hash and an unchanged member sends nothing.
    fn member(row: &Row, wide: bool) -> Dynamic<'_> {
        let rendered = if row.flag {
            html!(
                r#"<article class={if wide { "hot wide" } else { "hot" }} data-id={row.id}>{row.label} <b :for={t in &row.tags}>{t}</b></article>"#
            )
        } else {
            html!(r#"<p class="cold">{row.label} ({row.tags.len()})<i :if={wide}>wide</i></p>"#)
        };
        Dynamic::component("Member", row.id.to_string(), rendered.into_owned())
    }

    fn members(rows: &[Row], wide: bool) -> Comprehension<'_> {
        let mut list = Comprehension::with_capacity(&MEMBER_ENTRY, rows.len());
        for row in rows {
            list.push_keyed(&row.id, vec![member(row, wide)]);
        }
        list
    }

    /// A `Summary` live component, shown only when wide.
    fn summary(heading: &str, count: usize) -> Dynamic<'_> {
        let rendered = html!(r#"<aside class="summary">{heading}: {count}</aside>"#);
        Dynamic::component("Summary", "top", rendered.into_owned())
    }

    #[derive(Assigns, Debug, Clone)]
    pub struct Roster {
        pub heading: String,
        pub members: Vec<Row>,
        pub wide: bool,
    }

    pub fn roster_view(assigns: &Tracked<Roster>) -> Rendered<'_> {
        html!(
            r#"<div class="roster"><h2>{@heading}</h2>{if @wide { Some(summary(&@heading, @members.len())) } else { None }}<div class="members">{members(&@members, @wide)}</div></div>"#
        )
    }

    /// A `Badge` component inside a `Member`: components nested in components.
    fn badge(row: &Row) -> Dynamic<'_> {
        let rendered = html!(r#"<em class="badge">{row.tags.len()}</em>"#);
        Dynamic::component("Badge", row.id.to_string(), rendered.into_owned())
    }

    /// A member whose hot template holds a `Badge`.
    fn badged_member(row: &Row, wide: bool) -> Dynamic<'_> {
        let rendered = if row.flag {
            html!(r#"<article class="hot">{row.label} {badge(row)}</article>"#)
        } else {
            html!(r#"<p class="cold">{row.label}<i :if={wide}>wide</i></p>"#)
        };
        Dynamic::component("Member", row.id.to_string(), rendered.into_owned())
    }

    fn badged_members(rows: &[Row], wide: bool) -> Comprehension<'_> {
        let mut list = Comprehension::with_capacity(&MEMBER_ENTRY, rows.len());
        for row in rows {
            list.push_keyed(&row.id, vec![badged_member(row, wide)]);
        }
        list
    }

    /// A `Team` component holding the members (and their badges), two levels deep.
    fn team<'a>(heading: &'a str, rows: &'a [Row], wide: bool) -> Dynamic<'a> {
        let rendered = html!(
            r#"<section class="team"><h3>{heading}</h3>{badged_members(rows, wide)}</section>"#
        );
        Dynamic::component("Team", "team", rendered.into_owned())
    }

    /// The roster as nested components: a `Team` component, its `Member` components,
    /// and a `Badge` inside each hot member.
    pub fn team_view(assigns: &Tracked<Roster>) -> Rendered<'_> {
        html!(r#"<div class="teams">{team(&@heading, &@members, @wide)}</div>"#)
    }

    #[derive(Debug, Clone)]
    pub enum RosterOp {
        Members(RowsOp),
        Heading(String),
        Wide(bool),
    }

    pub fn roster() -> impl Strategy<Value = Roster> {
        (text(), rows(6), any::<bool>()).prop_map(|(heading, members, wide)| Roster {
            heading,
            members,
            wide,
        })
    }

    pub fn roster_op() -> impl Strategy<Value = RosterOp> {
        prop_oneof![
            6 => rows_op().prop_map(RosterOp::Members),
            1 => text().prop_map(RosterOp::Heading),
            1 => any::<bool>().prop_map(RosterOp::Wide),
        ]
    }

    pub fn apply_roster(state: &mut Tracked<Roster>, op: &RosterOp) {
        match op {
            RosterOp::Members(op) => state.update_members(|rows| apply_rows(rows, op)),
            RosterOp::Heading(v) => state.set_heading(v.clone()),
            RosterOp::Wide(v) => state.set_wide(*v),
        }
    }
}
