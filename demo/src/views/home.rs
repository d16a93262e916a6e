//! `/`: a card for every demo, each linked live, and a few JS commands run by the client.

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
  <section class="hero">
    <h1>Cinder demos</h1>
    <p class="lead">Phoenix LiveView, rebuilt in Rust. Each page is a live view: the server keeps its state and sends the official LiveView client only what changed.</p>
  </section>
  <ul class="cards demos">
    <li class="card"><a id="to-counter" href="/counter" data-phx-link="redirect" data-phx-link-state="push">Counter</a><p>Clicks, a live patch, flash messages; the count survives a reconnect and its node's drain.</p></li>
    <li class="card"><a id="to-form" href="/form" data-phx-link="redirect" data-phx-link-state="push">Form</a><p>Validation as you type, errors only for fields you touched, recovery after a reconnect.</p></li>
    <li class="card"><a id="to-chat" href="/chat/lobby?user=guest" data-phx-link="redirect" data-phx-link-state="push">Chat</a><p>Rooms over pubsub, messages in a stream, who is online from presence, across nodes.</p></li>
    <li class="card"><a id="to-clock" href="/clock" data-phx-link="redirect" data-phx-link-state="push">Clock</a><p>The server pushes its time every second.</p></li>
    <li class="card"><.link navigate="/feed/news" id="to-feed">Feed</.link><p>The latest message published on a topic, from inside Cinder or through its topics API.</p></li>
    <li class="card"><.link navigate="/todos" id="to-todos">Todos</.link><p>Live components in a stream: add, check, edit and delete items.</p></li>
    <li class="card"><.link navigate="/upload" id="to-upload">Upload</.link><p>Live uploads with progress, image previews and validation.</p></li>
    <li class="card"><.link navigate="/dashboard" id="to-dashboard">Dashboard</.link><p>The cluster at work: its view-nodes, gateways and sessions, live.</p></li>
  </ul>
  <section class="panel js-commands">
    <h2>JS commands</h2>
    <p class="muted">These buttons run commands in the browser, as Phoenix's <code>JS</code> module writes them.</p>
    <div class="actions">
      <button class="secondary" id="toggle-about" phx-click={JS::new().toggle("#about")}>About</button>
      <button class="secondary" id="about-push" phx-click={JS::new().push("noop_about").add_class("seen", "#about")}>Mark seen</button>
    </div>
    <p id="about" style="display: none">Cinder renders LiveView's JS commands as the JSON the official client runs.</p>
  </section>
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
