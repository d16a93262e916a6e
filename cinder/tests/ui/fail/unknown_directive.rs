use cinder::{Assigns, Rendered, Tracked, html};

#[derive(Assigns)]
struct State {
    show: bool,
}

fn view(assigns: &Tracked<State>) -> Rendered<'_> {
    html!("<div :foo={@show}>x</div>")
}

fn main() {
    let _ = view(&Tracked::new(State { show: true }));
}
