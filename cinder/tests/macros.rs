//! Compile tests for `html!`, `html_file!` and `#[derive(Assigns)]`.
//!
//! `tests/ui/pass/*.rs` must compile and run (each asserts its rendered HTML);
//! `tests/ui/fail/*.rs` must fail to compile with the error pinned in its `.stderr`.
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p cinder --test macros`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use cinder::{Assigns, Rendered, Tracked, html_file};

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}

#[derive(Assigns)]
struct Greeting {
    name: String,
    items: Vec<u32>,
    admin: bool,
}

fn greeting(assigns: &Tracked<Greeting>) -> Rendered<'_> {
    html_file!("tests/ui/templates/greeting.html")
}

/// `html_file!` paths are relative to the crate root (`view-node/`). trybuild's cases
/// are compiled in a generated crate elsewhere, so this form is checked here instead.
#[test]
fn html_file_is_relative_to_the_crate_root() {
    let state = Tracked::new(Greeting {
        name: "<Kim>".into(),
        items: vec![1, 2],
        admin: false,
    });
    assert_eq!(
        greeting(&state).to_html(),
        "<div class=\"greeting\">\n  <h1>Hello &lt;Kim&gt;!</h1>\n  \n  <ul><li>1</li><li>2</li></ul>\n</div>"
    );
}
