//! `/chat/:room?user=NAME`: messages through the pubsub, kept client-side in a stream,
//! and who is in the room (`#online`) from presence. When its node drains the session
//! moves (`snapshot`): the page keeps its messages (the client holds them), the room
//! keeps showing the user (the new node tracks them before the old one leaves), and
//! `#mounts` stays 1.

use cinder::presence::ClientPresence;
use cinder::pubsub::Message as Published;
use cinder::snapshot::Snapshots;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Stream, Tracked, html};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A chat room.
#[derive(Assigns, Serialize, Deserialize)]
pub struct Chat {
    room: String,
    user: String,
    /// The view-node serving this session.
    node: String,
    /// Set when messages may have been missed (the node's pubsub reconnected).
    gap: bool,
    /// The client holds the messages; a snapshot carries none.
    #[serde(skip, default = "messages")]
    messages: Stream<Line>,
    /// Who is in the room, sorted; one entry per user however many tabs they have open.
    online: Vec<String>,
    /// The room's presences as phoenix.js would hold them; not rendered. Rebuilt from
    /// the `presence_state` a restored session gets.
    #[serde(skip)]
    presence: ClientPresence,
    /// How many times the page mounted this view, this mount included.
    mounts: u64,
}

fn messages() -> Stream<Line> {
    Stream::new("messages").with_limit(-50)
}

/// What a connected session of `room` holds in the cluster: the room's messages and
/// presence, and the user's own presence.
fn join_room(effects: &mut cinder::Effects<Posted>, room: &str, user: &str) {
    let topic = topic(room);
    effects.subscribe_with_gaps(topic.clone());
    effects.subscribe_presence(topic.clone());
    effects.track(topic, user.to_owned(), json!({}));
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
            join_room(cx, &room, &user);
        }
        Ok(Chat {
            room,
            user,
            node: cx.node.to_owned(),
            gap: false,
            messages: messages(),
            online: Vec::new(),
            presence: ClientPresence::new(),
            mounts: cx.mounts + 1,
        })
    }

    fn snapshot() -> Option<Snapshots<Self>> {
        Some(Snapshots::serde(1))
    }

    fn resume(socket: &mut Socket<Self>, node: &str) -> Result {
        let (room, user) = (socket.room.clone(), socket.user.clone());
        join_room(socket.effects(), &room, &user);
        socket.set_node(node.to_owned());
        Ok(())
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
    <input type="text" name="body" autocomplete="off" value="" placeholder="Write a message" aria-label="Message">
    <button type="submit">Send</button>
  </form>
  <p class="meta">Mounted <span id="mounts">{@mounts}</span> times</p>
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
