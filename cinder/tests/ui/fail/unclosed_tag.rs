use cinder::{Rendered, html};

fn view() -> Rendered<'static> {
    html!("<div><p>hi</p>")
}

fn main() {
    let _ = view();
}
