use cinder::{Assigns, Rendered, Tracked, html};

#[derive(Assigns)]
struct State {
    name: String,
}

fn view(assigns: &Tracked<State>) -> Rendered<'_> {
    html!("<p>Hello {@name</p>")
}

fn main() {
    let _ = view(&Tracked::new(State { name: String::new() }));
}
