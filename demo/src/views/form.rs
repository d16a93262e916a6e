//! `/form`: validation on change, errors only for touched fields, a submit.
//!
//! The view keeps the last params the client sent ([`form::Form`]) and the errors found in
//! them; the template shows an error only once its input was touched. After a rejoin the
//! client replays `validate` with the inputs' values, which rebuilds both: the form
//! recovers with no code of its own. Through a dropped socket the session parks
//! (`PARK`), and through its node's drain it moves (`snapshot`), so even what the
//! inputs do not hold (`#signup-ok`) survives; `#mounts` counts the page's mounts. The
//! join takes over what the dead render mounted (`ADOPT_DEAD_RENDER`).

use cinder::form::{self, Errors};
use cinder::snapshot::Snapshots;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A sign-up form.
#[derive(Assigns, Serialize, Deserialize)]
pub struct Form {
    /// The `user` params of the last form event, `_unused_` markers included.
    form: form::Form,
    /// What is wrong with them, per field.
    errors: Errors,
    /// The name of the last valid submit.
    saved: Option<String>,
    /// How many times the page mounted this view, this mount included.
    mounts: u64,
}

/// What the form holds.
#[derive(Default, Deserialize)]
#[serde(default)]
struct User {
    name: String,
    email: String,
}

impl User {
    fn errors(&self) -> Errors {
        let mut errors = Errors::new();
        errors
            .check(
                "name",
                self.name.trim().chars().count() >= 2,
                "must have at least 2 characters",
            )
            .check("email", self.email.contains('@'), "must contain @");
        errors
    }
}

impl LiveView for Form {
    type Info = ();
    const PARK: bool = true;
    const ADOPT_DEAD_RENDER: bool = true;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        cx.put_title("Sign up");
        Ok(Form {
            form: form::Form::new("user"),
            errors: Errors::new(),
            saved: None,
            mounts: cx.mounts + 1,
        })
    }

    fn snapshot() -> Option<Snapshots<Self>> {
        Some(Snapshots::serde(1))
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<main id="form">
  <h1>Sign up</h1>
  <p class="lead">Errors show once you leave a field, and go as soon as it is fixed.</p>
  <form class="panel" id="signup" phx-change="validate" phx-submit="save">
    <label>Name <input type="text" name="user[name]" value={@form.get("name")}></label>
    <p :if={@errors.shown("name", &@form).is_some()} id="name-error" class="error">Name {@errors.shown("name", &@form).unwrap_or("")}</p>
    <label>Email <input type="email" name="user[email]" value={@form.get("email")}></label>
    <p :if={@errors.shown("email", &@form).is_some()} id="email-error" class="error">Email {@errors.shown("email", &@form).unwrap_or("")}</p>
    <button type="submit">Sign up</button>
  </form>
  <p :if={@saved.is_some()} id="signup-ok">Welcome, {@saved.as_deref().unwrap_or("")}!</p>
  <p class="meta">Mounted <span id="mounts">{@mounts}</span> times</p>
</main>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: Value) -> Result {
        let form = form::Form::from_event(&value, "user");
        let user: User = form.decode()?;
        let errors = user.errors();
        match event {
            "validate" => {}
            // A submit sends no `_unused_` markers: every error shows.
            "save" => {
                if errors.is_empty() {
                    socket.set_saved(Some(user.name.trim().to_owned()));
                }
            }
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        socket.set_form(form);
        socket.set_errors(errors);
        Ok(())
    }
}
