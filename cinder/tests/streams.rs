//! Streams on the wire: inserts rendered once with their ops, nothing kept afterwards.
#![allow(clippy::unwrap_used, reason = "test code fails loudly")]

use cinder::diff::{Extras, Prints};
use cinder::{Assigns, Rendered, Stream, Tracked, html};
use serde_json::{Value, json};

struct Msg {
    user: String,
    body: String,
}

#[derive(Assigns)]
struct Chat {
    room: String,
    messages: Stream<Msg>,
}

fn chat(assigns: &Tracked<Chat>) -> Rendered<'_> {
    html!(
        r#"<div id="messages" phx-update="stream"><p :for={(dom_id, msg) in @messages} id={dom_id}>{msg.user}: {msg.body}</p></div><h2>{@room}</h2>"#
    )
}

fn render(prints: &mut Prints, state: &mut Tracked<Chat>) -> Value {
    let json = prints.render(chat(state), Extras::default());
    state.clear();
    serde_json::from_str(&json).unwrap()
}

fn msg(user: &str, body: &str) -> Msg {
    Msg {
        user: user.into(),
        body: body.into(),
    }
}

#[test]
fn inserts_are_sent_once_with_the_stream_ops() {
    let mut messages = Stream::new("messages").with_limit(-50);
    messages.insert("messages-1", msg("ann", "hi <3"));
    let mut state = Tracked::new(Chat {
        room: "lobby".into(),
        messages,
    });
    let mut prints = Prints::new();
    let join = render(&mut prints, &mut state);
    assert_eq!(
        join,
        json!({
            "0": {"k": {"0": {"0": " id=\"messages-1\"", "1": "ann", "2": "hi &lt;3"}, "kc": 1}, "s": 0,
                  "stream": ["messages", [["messages-1", -1, -50, false]], []]},
            "1": "lobby",
            "s": 1,
            "p": {"0": ["<p", ">", ": ", "</p>"], "1": ["<div id=\"messages\" phx-update=\"stream\">", "</div><h2>", "</h2>"]}
        })
    );

    state
        .mark(0b10)
        .messages
        .insert("messages-2", msg("bob", "yo"));
    let diff = render(&mut prints, &mut state);
    assert_eq!(
        diff,
        json!({"0": {"k": {"0": {"0": " id=\"messages-2\"", "1": "bob", "2": "yo"}, "kc": 1},
                     "stream": ["messages", [["messages-2", -1, -50, false]], []]}})
    );

    // A delete alone still sends the (empty) entries and the op.
    state.mark(0b10).messages.delete("messages-1");
    let diff = render(&mut prints, &mut state);
    assert_eq!(
        diff,
        json!({"0": {"k": {"kc": 0}, "stream": ["messages", [], ["messages-1"]]}})
    );

    // Unrelated changes leave the stream alone, and a reset carries `true`, never `false`.
    state.mark(0b01).room = "x".into();
    assert_eq!(render(&mut prints, &mut state), json!({"1": "x"}));
    state.mark(0b10).messages.reset();
    assert_eq!(
        render(&mut prints, &mut state),
        json!({"0": {"k": {"kc": 0}, "stream": ["messages", [], [], true]}})
    );
}

#[test]
fn the_dead_render_shows_the_items() {
    let mut messages = Stream::new("messages");
    messages.insert("messages-7", msg("ann", "hello"));
    let state = Tracked::new(Chat {
        room: "r".into(),
        messages,
    });
    assert_eq!(
        chat(&state).to_html(),
        r#"<div id="messages" phx-update="stream"><p id="messages-7">ann: hello</p></div><h2>r</h2>"#
    );
}
