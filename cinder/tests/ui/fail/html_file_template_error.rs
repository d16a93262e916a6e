use cinder::{Assigns, Rendered, Tracked, html_file};

#[derive(Assigns)]
struct State {
    items: Vec<u32>,
}

// trybuild compiles this file inside its own generated crate at
// `<target>/tests/trybuild/cinder/`, and `html_file!` resolves paths against the
// *compiling* crate's `CARGO_MANIFEST_DIR`, so here the path climbs back out of
// `target/tests/trybuild/cinder` to this crate. (The crate-root-relative form,
// `html_file!("tests/ui/templates/…")`, is exercised by `tests/macros.rs` itself.)
fn view(assigns: &Tracked<State>) -> Rendered<'_> {
    html_file!("../../../../cinder/tests/ui/templates/broken.html")
}

fn main() {
    let _ = view(&Tracked::new(State { items: vec![] }));
}
