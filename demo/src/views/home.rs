//! `/`: links to every demo, navigated live, and a few JS commands run by the client.

use cinder::js::JS;
use cinder::link::{Link, link};
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use serde_json::Value;

/// The index page.
#[derive(Assigns)]
pub struct Home {}

impl LiveView for Home {
    type Info = ();

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        cx.put_title("Cinder demos");
        Ok(Home {})
    }

    fn render(_assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r##"<main id="home">
  <h1>Cinder demos</h1>
  <ul>
    <li><a id="to-counter" href="/counter" data-phx-link="redirect" data-phx-link-state="push">Counter</a></li>
    <li><a id="to-form" href="/form" data-phx-link="redirect" data-phx-link-state="push">Form</a></li>
    <li><a id="to-chat" href="/chat/lobby?user=guest" data-phx-link="redirect" data-phx-link-state="push">Chat</a></li>
    <li><a id="to-clock" href="/clock" data-phx-link="redirect" data-phx-link-state="push">Clock</a></li>
    <li><.link navigate="/feed/news" id="to-feed">Feed</.link></li>
    <li><.link navigate="/todos" id="to-todos">Todos</.link></li>
    <li><.link navigate="/upload" id="to-upload">Upload</.link></li>
  </ul>
  <button id="toggle-about" phx-click={JS::new().toggle("#about")}>About</button>
  <button id="about-push" phx-click={JS::new().push("noop_about").add_class("seen", "#about")}>Mark seen</button>
  <p id="about" style="display: none">Cinder renders LiveView's JS commands as the JSON the official client runs.</p>
</main>"##
        )
    }

    fn handle_event(_socket: &mut Socket<Self>, event: &str, _value: Value) -> Result {
        match event {
            // Pushed by #about-push before its add_class; nothing changes on the server.
            "noop_about" => Ok(()),
            _ => Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
    }
}
