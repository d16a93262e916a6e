use cinder::{Assigns, Rendered, Tracked, html};

#[derive(Assigns)]
struct State {
    count: i64,
}

fn view(assigns: &Tracked<State>) -> Rendered<'_> {
    html!("<p>{@cuont}</p>")
}

fn main() {
    let _ = view(&Tracked::new(State { count: 1 }));
}
