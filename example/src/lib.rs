//! The smallest Cinder app, as an app author writes one: a live view and its routes.
//! `main.rs` turns them into a binary with `cinder-runtime`.
//!
//! `/` counts clicks for everyone at once: each click is broadcast on the topic
//! `clicks`, and every page open on it (on any view-node of a cluster) counts it.

use cinder::router::Router;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use serde_json::Value;

/// The topic clicks travel on.
const TOPIC: &str = "clicks";

/// The app's routes.
pub fn routes(router: Router) -> Router {
    router.live::<Clicks>("/")
}

/// Clicks seen since this page mounted, its own and everyone else's.
#[derive(Assigns)]
pub struct Clicks {
    seen: u64,
    mine: u64,
}

impl LiveView for Clicks {
    /// Messages on the topic.
    type Info = cinder::pubsub::Message;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        cx.put_title("Clicks");
        if cx.connected {
            cx.subscribe(TOPIC);
        }
        Ok(Clicks { seen: 0, mine: 0 })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<main id="clicks">
  <h1>Clicks seen: <span id="seen">{@seen}</span></h1>
  <p>Yours: <span id="mine">{@mine}</span></p>
  <button id="click" phx-click="click">Click</button>
</main>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, _value: Value) -> Result {
        match event {
            "click" => {
                socket.update_mine(|n| *n += 1);
                socket.broadcast(TOPIC, serde_json::json!({"event": "click"}));
                Ok(())
            }
            _ => Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
    }

    fn handle_info(socket: &mut Socket<Self>, _click: Self::Info) -> Result {
        socket.update_seen(|n| *n += 1);
        Ok(())
    }
}
