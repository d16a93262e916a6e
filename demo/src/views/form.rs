//! `/form`: validation on change, errors only for touched fields, a submit.

use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use serde_json::Value;

/// A sign-up form.
#[derive(Assigns)]
pub struct Form {
    name: String,
    email: String,
    /// Fields the user has touched; errors show only for them.
    touched: (bool, bool),
    saved: Option<String>,
}

fn name_error(name: &str) -> Option<&'static str> {
    (name.trim().chars().count() < 2).then_some("must have at least 2 characters")
}

fn email_error(email: &str) -> Option<&'static str> {
    (!email.contains('@')).then_some("must contain @")
}

/// The `user` params of a form event, and which fields the client marks untouched.
fn fields(value: &Value) -> (String, String, bool, bool) {
    let user = &value["user"];
    let text = |key: &str| {
        user.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let untouched = |key: &str| user.get(format!("_unused_{key}")).is_some();
    (
        text("name"),
        text("email"),
        !untouched("name"),
        !untouched("email"),
    )
}

impl LiveView for Form {
    type Info = ();

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        cx.put_title("Sign up");
        Ok(Form {
            name: String::new(),
            email: String::new(),
            touched: (false, false),
            saved: None,
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<main id="form">
  <form id="signup" phx-change="validate" phx-submit="save">
    <label>Name <input type="text" name="user[name]" value={@name}></label>
    <p :if={@touched.0 && name_error(&@name).is_some()} id="name-error" class="error">Name {name_error(&@name).unwrap_or("")}</p>
    <label>Email <input type="email" name="user[email]" value={@email}></label>
    <p :if={@touched.1 && email_error(&@email).is_some()} id="email-error" class="error">Email {email_error(&@email).unwrap_or("")}</p>
    <button type="submit">Sign up</button>
  </form>
  <p :if={@saved.is_some()} id="signup-ok">Welcome, {@saved.as_deref().unwrap_or("")}!</p>
</main>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: Value) -> Result {
        let (name, email, name_touched, email_touched) = fields(&value);
        match event {
            "validate" => {
                socket.set_name(name);
                socket.set_email(email);
                socket.set_touched((name_touched, email_touched));
            }
            "save" => {
                let valid = name_error(&name).is_none() && email_error(&email).is_none();
                socket.set_touched((true, true));
                if valid {
                    socket.set_saved(Some(name.trim().to_owned()));
                }
                socket.set_name(name);
                socket.set_email(email);
            }
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        Ok(())
    }
}
