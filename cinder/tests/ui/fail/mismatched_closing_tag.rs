use cinder::{Rendered, html};

fn view() -> Rendered<'static> {
    html!("<div><b>bold</i></div>")
}

fn main() {
    let _ = view();
}
