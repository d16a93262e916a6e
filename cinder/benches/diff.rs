//! Render + diff time and diff bytes: a counter change, a 1,000-row keyed table with one
//! row changed, and the same table with 10 rows moved.
//!
//! Run: `cargo bench -p cinder --bench diff`. Each case first prints its diff in bytes.

use cinder::diff::{Extras, Prints};
use cinder::{Assigns, Rendered, Tracked, html};
use criterion::{BatchSize, Criterion, criterion_main};

#[derive(Assigns)]
struct Counter {
    count: i64,
}

fn counter(assigns: &Tracked<Counter>) -> Rendered<'_> {
    html!(r#"<div><h1 id="count">{@count}</h1><button id="inc" phx-click="inc">+</button></div>"#)
}

struct Row {
    id: u32,
    name: String,
    score: u32,
}

#[derive(Assigns)]
struct Table {
    rows: Vec<Row>,
}

fn table(assigns: &Tracked<Table>) -> Rendered<'_> {
    html!(
        r#"<table><tbody>
          <tr :for={row in &@rows} :key={row.id} id={format!("row-{}", row.id)}><td>{row.name}</td><td>{row.score}</td></tr>
        </tbody></table>"#
    )
}

fn rows() -> Vec<Row> {
    (0..1000)
        .map(|id| Row {
            id,
            name: format!("row {id}"),
            score: id * 7,
        })
        .collect()
}

/// Joins, applies `change`, and returns the prints and state ready for the measured diff.
fn prepared<V>(
    state: V,
    view: fn(&Tracked<V>) -> Rendered<'_>,
    change: fn(&mut Tracked<V>),
) -> (Prints, Tracked<V>) {
    let mut state = Tracked::new(state);
    let mut prints = Prints::new();
    prints.render(view(&state), Extras::default());
    state.clear();
    change(&mut state);
    (prints, state)
}

fn bench_case<V>(
    c: &mut Criterion,
    name: &str,
    state: fn() -> V,
    view: fn(&Tracked<V>) -> Rendered<'_>,
    change: fn(&mut Tracked<V>),
) {
    let (mut prints, state_now) = prepared(state(), view, change);
    let diff = prints.render(view(&state_now), Extras::default());
    #[expect(clippy::print_stdout, reason = "a benchmark prints its figure")]
    {
        println!(
            "{name}: diff {} bytes: {}",
            diff.len(),
            if diff.len() < 200 {
                &diff
            } else {
                &diff[..200]
            }
        );
    }
    c.bench_function(name, |b| {
        b.iter_batched(
            || prepared(state(), view, change),
            |(mut prints, state)| prints.render(view(&state), Extras::default()),
            BatchSize::LargeInput,
        );
    });
}

fn benches(c: &mut Criterion) {
    bench_case(
        c,
        "counter +1",
        || Counter { count: 0 },
        counter,
        |s| s.mark(1).count += 1,
    );
    bench_case(
        c,
        "table 1000 rows, 1 changed",
        || Table { rows: rows() },
        table,
        |s| {
            s.mark(1).rows[500].name = "changed".into();
        },
    );
    bench_case(
        c,
        "table 1000 rows, 10 moved",
        || Table { rows: rows() },
        table,
        |s| {
            let rows = &mut s.mark(1).rows;
            for i in 0..10 {
                rows.swap(i * 97, 999 - i * 89);
            }
        },
    );
    // The time of the render + diff alone, without setting up: a counter click loop.
    let mut state = Tracked::new(Counter { count: 0 });
    let mut prints = Prints::new();
    prints.render(counter(&state), Extras::default());
    c.bench_function("counter click loop", |b| {
        b.iter(|| {
            state.clear();
            state.mark(1).count += 1;
            prints.render(counter(&state), Extras::default())
        });
    });
}

// The benchmark group; criterion generates an undocumented function.
mod group {
    #![allow(missing_docs)]
    use super::benches;
    criterion::criterion_group!(diff, benches);
}
criterion_main!(group::diff);
