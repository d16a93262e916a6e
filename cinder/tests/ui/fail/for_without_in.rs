use cinder::{Assigns, Rendered, Tracked, html};

#[derive(Assigns)]
struct State {
    items: Vec<u32>,
}

fn view(assigns: &Tracked<State>) -> Rendered<'_> {
    html!("<ul><li :for={@items}>x</li></ul>")
}

fn main() {
    let _ = view(&Tracked::new(State { items: vec![] }));
}
