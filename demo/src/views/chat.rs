//! `/chat/:room?user=NAME`: messages through the pubsub, kept client-side in a stream.

use std::sync::atomic::{AtomicU64, Ordering};

use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Stream, Tracked, html};
use cinder_pubsub::Message as Published;
use serde_json::{Value, json};

/// A chat room.
#[derive(Assigns)]
pub struct Chat {
    room: String,
    user: String,
    messages: Stream<Line>,
}

/// One message as rendered.
#[derive(Debug)]
pub struct Line {
    user: String,
    body: String,
}

/// A message published on the room's topic.
#[derive(Debug)]
pub struct Posted(Published);

impl From<Published> for Posted {
    fn from(message: Published) -> Self {
        Posted(message)
    }
}

/// Message ids: unique in this process. (A cluster-wide id comes with the Redis pubsub.)
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn topic(room: &str) -> String {
    format!("chat:{room}")
}

impl LiveView for Chat {
    type Info = Posted;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        let room = cx
            .params
            .get("room")
            .and_then(Value::as_str)
            .unwrap_or("lobby")
            .to_owned();
        let user = cx
            .params
            .get("user")
            .and_then(Value::as_str)
            .unwrap_or("anonymous")
            .to_owned();
        cx.put_title(format!("Chat: {room}"));
        if cx.connected {
            cx.subscribe(topic(&room));
        }
        Ok(Chat {
            room,
            user,
            messages: Stream::new("messages").with_limit(-50),
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<main id="chat">
  <h1>#{@room} <small>as {@user}</small></h1>
  <div id="messages" phx-update="stream">
    <p :for={(dom_id, line) in @messages} id={dom_id}>{line.user}: {line.body}</p>
  </div>
  <form id="chat-form" phx-submit="send">
    <input type="text" name="body" autocomplete="off" value="">
    <button type="submit">Send</button>
  </form>
</main>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: Value) -> Result {
        match event {
            "send" => {
                let body = value
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                if !body.is_empty() {
                    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                    let payload = json!({"id": id, "user": socket.user, "body": body});
                    let room = topic(&socket.room);
                    socket.broadcast(room, payload);
                }
                Ok(())
            }
            _ => Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
    }

    fn handle_info(socket: &mut Socket<Self>, Posted(message): Posted) -> Result {
        let payload = &message.payload;
        let text = |key: &str| {
            payload
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let id = payload.get("id").and_then(Value::as_u64).unwrap_or(0);
        let line = Line {
            user: text("user"),
            body: text("body"),
        };
        socket.update_messages(|messages| messages.insert(format!("messages-{id}"), line));
        Ok(())
    }
}
