//! `/chat/:room?user=NAME`: messages through the pubsub, kept client-side in a stream,
//! and who is in the room (`#online`) from presence.

use cinder::presence::ClientPresence;
use cinder::pubsub::Message as Published;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Stream, Tracked, html};
use serde_json::{Value, json};

/// A chat room.
#[derive(Assigns)]
pub struct Chat {
    room: String,
    user: String,
    /// The view-node serving this session.
    node: String,
    /// Set when messages may have been missed (the node's pubsub reconnected).
    gap: bool,
    messages: Stream<Line>,
    /// Who is in the room, sorted; one entry per user however many tabs they have open.
    online: Vec<String>,
    /// The room's presences as phoenix.js would hold them; not rendered.
    presence: ClientPresence,
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
            let topic = topic(&room);
            cx.subscribe_with_gaps(topic.clone());
            cx.subscribe_presence(topic.clone());
            cx.track(topic, user.clone(), json!({}));
        }
        Ok(Chat {
            room,
            user,
            node: cx.node.to_owned(),
            gap: false,
            messages: Stream::new("messages").with_limit(-50),
            online: Vec::new(),
            presence: ClientPresence::new(),
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<main id="chat">
  <h1>#{@room} <small>as {@user}, served by <span id="node">{@node}</span></small></h1>
  <p :if={@gap} id="gap">Reconnected: messages sent meanwhile may be missing.</p>
  <ul id="online">
    <li :for={name in &@online} :key={name} id={format!("online-{name}")}>{name}</li>
  </ul>
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
                    // Random, so that ids minted on different view-nodes never collide.
                    let id = format!("{:016x}", rand::random::<u64>());
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
        let presence = payload.get("payload").unwrap_or(&Value::Null);
        match payload.get("event").and_then(Value::as_str) {
            Some("presence_state") => {
                socket.update_presence(|p| {
                    p.sync_state(presence);
                });
                return show_online(socket);
            }
            Some("presence_diff") => {
                socket.update_presence(|p| p.sync_diff(presence));
                return show_online(socket);
            }
            Some("gap") => {
                socket.set_gap(true);
                return Ok(());
            }
            _ => {}
        }
        let text = |key: &str| {
            payload
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let id = payload.get("id").and_then(Value::as_str).unwrap_or("0");
        let line = Line {
            user: text("user"),
            body: text("body"),
        };
        socket.update_messages(|messages| messages.insert(format!("messages-{id}"), line));
        Ok(())
    }
}

fn show_online(socket: &mut Socket<Chat>) -> Result {
    let online: Vec<String> = socket.presence.state().keys().cloned().collect();
    if online != socket.online {
        socket.set_online(online);
    }
    Ok(())
}
