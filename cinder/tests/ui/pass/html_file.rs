//! `html_file!`: a template read from a file, with assigns, `:if` and `:for`.

use cinder::{Assigns, Rendered, Tracked, html_file};

#[derive(Assigns)]
struct Greeting {
    name: String,
    items: Vec<u32>,
    admin: bool,
}

// trybuild compiles this file inside its own generated crate at
// `<target>/tests/trybuild/cinder/`, and `html_file!` resolves paths against the
// *compiling* crate's `CARGO_MANIFEST_DIR`, so here the path climbs back out of
// `target/tests/trybuild/cinder` to this crate. (The crate-root-relative form,
// `html_file!("tests/ui/templates/…")`, is exercised by `tests/macros.rs` itself.)
fn view(assigns: &Tracked<Greeting>) -> Rendered<'_> {
    html_file!("../../../../cinder/tests/ui/templates/greeting.html")
}

fn main() {
    let state = Tracked::new(Greeting {
        name: "<Kim>".into(),
        items: vec![1, 2],
        admin: true,
    });
    assert_eq!(
        view(&state).to_html(),
        "<div class=\"greeting\">\n  <h1>Hello &lt;Kim&gt;!</h1>\n  <span class=\"admin\">admin</span>\n  <ul><li>1</li><li>2</li></ul>\n</div>"
    );
}
