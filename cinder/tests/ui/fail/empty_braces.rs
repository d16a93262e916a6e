use cinder::{Rendered, html};

fn view() -> Rendered<'static> {
    html!("<p>Hello {  }!</p>")
}

fn main() {
    let _ = view();
}
