use cinder::{Assigns, Rendered, Tracked, html};

#[derive(Assigns)]
struct State {
    id: u32,
}

fn view(assigns: &Tracked<State>) -> Rendered<'_> {
    html!("<ul><li :key={@id}>x</li></ul>")
}

fn main() {
    let _ = view(&Tracked::new(State { id: 1 }));
}
