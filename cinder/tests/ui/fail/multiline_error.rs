use cinder::{Assigns, Rendered, Tracked, html};

#[derive(Assigns)]
struct State {
    items: Vec<String>,
}

// Line 1 of the template is the (empty) rest of the line after r#".
// The stray </span> is on template line 5, column 20.
fn view(assigns: &Tracked<State>) -> Rendered<'_> {
    html!(
        r#"
<section>
  <ul>
    <li :for={item in &@items}>{item}</li>
    <li>static item</span>
  </ul>
</section>
"#
    )
}

fn main() {
    let _ = view(&Tracked::new(State { items: vec![] }));
}
