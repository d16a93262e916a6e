//! Text and attribute dynamics, boolean attributes, optional attributes.

use cinder::{Assigns, Rendered, Tracked, html};

#[derive(Assigns)]
struct Form {
    name: String,
    age: u32,
    busy: bool,
    error: bool,
    hint: Option<&'static str>,
}

fn view(assigns: &Tracked<Form>) -> Rendered<'_> {
    html!(
        r#"<form class="f"><label for="name">Name: {@name}, {@age + 1} next year</label><input id="name" value={@name} maxlength={@age} disabled={@busy} required><p class={@error.then_some("error")} title={@hint}>{format!("{} is {}", @name, @age)}</p><button disabled={!@busy}>Save</button></form>"#
    )
}

fn main() {
    let idle = Tracked::new(Form {
        name: "Ada".into(),
        age: 36,
        busy: false,
        error: true,
        hint: None,
    });
    assert_eq!(
        view(&idle).to_html(),
        concat!(
            r#"<form class="f"><label for="name">Name: Ada, 37 next year</label>"#,
            r#"<input id="name" value="Ada" maxlength="36" required>"#,
            r#"<p class="error">Ada is 36</p>"#,
            r#"<button disabled>Save</button></form>"#,
        )
    );

    let busy = Tracked::new(Form {
        name: "Bob".into(),
        age: 7,
        busy: true,
        error: false,
        hint: Some("a hint"),
    });
    assert_eq!(
        view(&busy).to_html(),
        concat!(
            r#"<form class="f"><label for="name">Name: Bob, 8 next year</label>"#,
            r#"<input id="name" value="Bob" maxlength="7" disabled required>"#,
            r#"<p title="a hint">Bob is 7</p>"#,
            r#"<button>Save</button></form>"#,
        )
    );
}
