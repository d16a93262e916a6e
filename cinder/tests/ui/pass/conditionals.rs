//! `:if`, and nested `html!` in `if`/`else` and `match`.
//! `@name` right after a keyword (`if @show`, `match @count`) is an assign, not a
//! pattern binding.

use cinder::{Assigns, Rendered, Tracked, html};

#[derive(Assigns)]
struct State {
    show: bool,
    count: i64,
    name: &'static str,
}

fn view(assigns: &Tracked<State>) -> Rendered<'_> {
    html!(
        r#"<div><p :if={@show} class="shown">Hi {@name}</p><span :if={!@show}>hidden</span>{if @show { html!("<b>yes {@count}</b>") } else { html!("<i>no</i>") }}|{match @count {
            0 => html!("<em>zero</em>"),
            n if n < 0 => html!("<em>negative {n}</em>"),
            n => html!("<em>{n} for {@name}</em>"),
        }}</div>"#
    )
}

fn state(show: bool, count: i64) -> Tracked<State> {
    Tracked::new(State {
        show,
        count,
        name: "Ann",
    })
}

fn main() {
    assert_eq!(
        view(&state(true, 3)).to_html(),
        r#"<div><p class="shown">Hi Ann</p><b>yes 3</b>|<em>3 for Ann</em></div>"#
    );
    assert_eq!(
        view(&state(false, 0)).to_html(),
        r#"<div><span>hidden</span><i>no</i>|<em>zero</em></div>"#
    );
    assert_eq!(
        view(&state(false, -2)).to_html(),
        r#"<div><span>hidden</span><i>no</i>|<em>negative -2</em></div>"#
    );
}
