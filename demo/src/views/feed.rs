//! `/feed/:name`: the latest message published on the topic `feed:<name>`, typically by
//! a service outside Cinder (`POST /api/topics/feed:<name>`). Shows `#last` (the
//! payload's `text`, or the whole payload) and `#received` (messages since mount).

use cinder::pubsub::Message as Published;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use serde_json::Value;

/// A live feed.
#[derive(Assigns)]
pub struct Feed {
    name: String,
    last: String,
    received: u64,
}

/// A message published on the feed's topic.
#[derive(Debug)]
pub struct Item(Published);

impl From<Published> for Item {
    fn from(message: Published) -> Self {
        Item(message)
    }
}

impl LiveView for Feed {
    type Info = Item;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        let name = cx
            .params
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("news")
            .to_owned();
        cx.put_title(format!("Feed: {name}"));
        if cx.connected {
            cx.subscribe(format!("feed:{name}"));
        }
        Ok(Feed {
            name,
            last: String::new(),
            received: 0,
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<main id="feed">
  <h1>feed:{@name}</h1>
  <section class="panel">
  <p class="eyebrow">Last message</p>
  <p id="last">{@last}</p>
  <p class="meta"><span id="received">{@received}</span> received</p>
  </section>
  <p class="meta">Publish to it with <code>POST /api/topics/feed:{@name}</code>: a JSON body, whose <code>text</code> shows here.</p>
</main>"#
        )
    }

    fn handle_info(socket: &mut Socket<Self>, Item(message): Item) -> Result {
        let last = match message.payload.get("text").and_then(Value::as_str) {
            Some(text) => text.to_owned(),
            None => message.payload.to_string(),
        };
        socket.set_last(last);
        socket.update_received(|n| *n += 1);
        Ok(())
    }
}
