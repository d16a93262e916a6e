//! A TEST DOUBLE of a Cinder gateway — not the gateway. A WebSocket server on
//! `127.0.0.1:0` (tokio-tungstenite) that speaks V2 framing with canned answers, so the
//! client's socket layer can be tested before the real gateway exists:
//!
//! - `heartbeat` → `ok {}`;
//! - `phx_join` on `lv:counter` → `ok` with a rendered counter (title, `p` templates,
//!   an event); on `lv:eager` a `diff` push is sent *before* the join reply; `lv:stale`
//!   → `error {"reason":"stale"}`; any other topic → `error {"reason":"unmatched topic"}`;
//! - `event` on a joined view, by event name: `inc` → `{"diff":{"0":count}}`;
//!   `inc_then_push` → the reply diff, then a server `diff` push; `hook` → a diff with
//!   `r`, `e` and `t`; `refuse` → `error`; `stale_push` → a push with a wrong join_ref,
//!   then a good one; `crash` → `phx_error`; `navigate` → `live_redirect` push;
//!   `close_socket` → closes the socket with code 4001 `"bye"`; `drop_two` → drops
//!   component 2 of `lv:components` (joined with two components sharing statics);
//!   `cids_will_destroy`/`cids_destroyed` → confirm every cid; form events echo their
//!   payload into slot 1; anything else → `ok {}`;
//! - `live_patch` → `{"diff":{"1":url}}`; `phx_leave` → `ok {}` then `phx_close`;
//! - a binary frame → an `ok` reply carrying the decoded header and payload length;
//! - `malformed` as text → the double answers with a frame that is not V2.
//!
//! Every handshake (path and query, `Origin`, `Cookie`) is reported on a channel.
#![allow(dead_code, reason = "each test file uses a part of the double")]
#![allow(
    clippy::needless_pass_by_value,
    clippy::result_large_err,
    clippy::unwrap_used,
    reason = "test code; the handshake callback's error type is tungstenite's"
)]

use std::collections::HashMap;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// What the double saw of one WebSocket handshake.
#[derive(Debug, Clone)]
pub(crate) struct Handshake {
    /// Path and query.
    pub(crate) uri: String,
    pub(crate) origin: Option<String>,
    pub(crate) cookie: Option<String>,
}

/// A running double.
pub(crate) struct Double {
    /// `ws://127.0.0.1:PORT/live/websocket`.
    pub(crate) url: String,
    /// One entry per accepted connection.
    pub(crate) handshakes: mpsc::UnboundedReceiver<Handshake>,
    /// Every text frame the double received, per connection in order.
    pub(crate) received: mpsc::UnboundedReceiver<Value>,
}

/// The rendered counter the double joins with.
pub(crate) fn counter_rendered() -> Value {
    json!({
        "0": "0", "1": "",
        "2": {"k": {"0": {"0": "a"}, "1": {"0": "b"}, "kc": 2}, "s": 0},
        "s": 1,
        "p": {"0": ["<li>", "</li>"], "1": ["<h1>Count: ", "</h1><p>", "</p><ul>", "</ul>"]},
        "t": "Counter",
        "e": [["mounted", {"at": 0}]],
    })
}

impl Double {
    pub(crate) async fn start() -> Double {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (handshake_tx, handshakes) = mpsc::unbounded_channel();
        let (received_tx, received) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handshake_tx = handshake_tx.clone();
                let received_tx = received_tx.clone();
                tokio::spawn(async move {
                    let Some(ws) = accept(stream, handshake_tx).await else {
                        return;
                    };
                    serve(ws, received_tx).await;
                });
            }
        });
        Double {
            url: format!("ws://127.0.0.1:{port}/live/websocket"),
            handshakes,
            received,
        }
    }
}

async fn accept(
    stream: TcpStream,
    report: mpsc::UnboundedSender<Handshake>,
) -> Option<WebSocketStream<TcpStream>> {
    let callback = move |request: &Request, response: Response| {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let _ = report.send(Handshake {
            uri: request.uri().to_string(),
            origin: header("origin"),
            cookie: header("cookie"),
        });
        Ok(response)
    };
    tokio_tungstenite::accept_hdr_async(stream, callback)
        .await
        .ok()
}

fn frame(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    event: &str,
    payload: Value,
) -> Message {
    Message::text(json!([join_ref, msg_ref, topic, event, payload]).to_string())
}

fn reply(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    status: &str,
    response: Value,
) -> Message {
    frame(
        join_ref,
        msg_ref,
        topic,
        "phx_reply",
        json!({"status": status, "response": response}),
    )
}

async fn serve(mut ws: WebSocketStream<TcpStream>, received: mpsc::UnboundedSender<Value>) {
    // The count of each joined counter, by topic.
    let mut counts: HashMap<String, i64> = HashMap::new();
    while let Some(Ok(message)) = ws.next().await {
        let out = match message {
            Message::Text(text) if text.as_str() == "malformed" => {
                vec![Message::text("{not a frame")]
            }
            Message::Text(text) => {
                let Ok(value) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let _ = received.send(value.clone());
                answer(&value, &mut counts)
            }
            Message::Binary(bytes) => binary_answer(&bytes),
            // Keep reading so the close reply goes out; the stream then ends.
            Message::Close(_) => continue,
            _ => continue,
        };
        for message in out {
            let close = matches!(message, Message::Close(_));
            if ws.send(message).await.is_err() || close {
                // Let the close handshake finish.
                while let Some(Ok(_)) = ws.next().await {}
                return;
            }
        }
    }
}

fn answer(value: &Value, counts: &mut HashMap<String, i64>) -> Vec<Message> {
    let text = |i: usize| value.get(i).and_then(Value::as_str);
    let (jr, r, topic, event) = (
        text(0),
        text(1),
        text(2).unwrap_or(""),
        text(3).unwrap_or(""),
    );
    let payload = value.get(4).cloned().unwrap_or(Value::Null);
    match (topic, event) {
        ("phoenix", "heartbeat") => vec![reply(None, r, topic, "ok", json!({}))],
        ("lv:counter" | "lv:eager", "phx_join") => {
            counts.insert(topic.to_owned(), 0);
            let join = reply(
                jr,
                r,
                topic,
                "ok",
                json!({"rendered": counter_rendered(), "liveview_version": "1.2.12"}),
            );
            if topic == "lv:eager" {
                vec![frame(jr, None, topic, "diff", json!({"1": "early"})), join]
            } else {
                vec![join]
            }
        }
        ("lv:components", "phx_join") => vec![reply(
            jr,
            r,
            topic,
            "ok",
            json!({"rendered": {
                "0": 1, "1": 2, "s": ["<div>", "", "</div>"],
                "c": {"1": {"0": "one", "s": ["<b>", "</b>"], "r": 1}, "2": {"0": "two", "s": 1, "r": 1}}
            }}),
        )],
        (_, "cids_will_destroy") => vec![reply(jr, r, topic, "ok", json!({}))],
        (_, "cids_destroyed") => vec![reply(jr, r, topic, "ok", json!({"cids": payload["cids"]}))],
        ("lv:stale", "phx_join") => vec![reply(jr, r, topic, "error", json!({"reason": "stale"}))],
        (_, "phx_join") => vec![reply(
            jr,
            r,
            topic,
            "error",
            json!({"reason": "unmatched topic"}),
        )],
        (_, "phx_leave") => vec![
            reply(jr, r, topic, "ok", json!({})),
            frame(jr, jr, topic, "phx_close", json!({})),
        ],
        (_, "live_patch") => vec![reply(
            jr,
            r,
            topic,
            "ok",
            json!({"diff": {"1": payload["url"]}}),
        )],
        (_, "event") => {
            let count = counts.entry(topic.to_owned()).or_default();
            let name = payload["event"].as_str().unwrap_or("");
            if payload["type"] == "form" {
                return vec![reply(
                    jr,
                    r,
                    topic,
                    "ok",
                    json!({"diff": {"1": payload.to_string()}}),
                )];
            }
            match name {
                "inc" => {
                    *count += 1;
                    vec![reply(
                        jr,
                        r,
                        topic,
                        "ok",
                        json!({"diff": {"0": count.to_string()}}),
                    )]
                }
                "inc_then_push" => {
                    *count += 1;
                    let first = count.to_string();
                    *count += 1;
                    vec![
                        reply(jr, r, topic, "ok", json!({"diff": {"0": first}})),
                        frame(
                            jr,
                            None,
                            topic,
                            "diff",
                            json!({"0": count.to_string(), "2": {"k": {"0": 1, "1": 0, "kc": 2, "km": true}}}),
                        ),
                    ]
                }
                "hook" => vec![reply(
                    jr,
                    r,
                    topic,
                    "ok",
                    json!({"diff": {"r": {"answer": 42}, "e": [["scrolled", {"y": 1}]], "t": "New title"}}),
                )],
                "drop_two" => vec![reply(jr, r, topic, "ok", json!({"diff": {"1": ""}}))],
                "refuse" => vec![reply(jr, r, topic, "error", json!({"reason": "no"}))],
                "stale_push" => vec![
                    reply(jr, r, topic, "ok", json!({})),
                    frame(Some("999"), None, topic, "diff", json!({"1": "stale"})),
                    frame(jr, None, topic, "diff", json!({"1": "fresh"})),
                ],
                "crash" => vec![
                    reply(jr, r, topic, "ok", json!({})),
                    frame(
                        jr,
                        jr,
                        topic,
                        "phx_error",
                        json!({"reason": "channel_crash"}),
                    ),
                ],
                "navigate" => vec![
                    reply(jr, r, topic, "ok", json!({})),
                    frame(
                        jr,
                        None,
                        topic,
                        "live_redirect",
                        json!({"to": "/other", "kind": "push"}),
                    ),
                ],
                "close_socket" => vec![Message::Close(Some(CloseFrame {
                    code: CloseCode::from(4001),
                    reason: "bye".into(),
                }))],
                _ => vec![reply(jr, r, topic, "ok", json!({}))],
            }
        }
        _ => vec![],
    }
}

/// Answers a binary push `[0, len×4, join_ref, ref, topic, event, bytes]` with a JSON
/// reply describing it.
fn binary_answer(bytes: &[u8]) -> Vec<Message> {
    let lens: Vec<usize> = bytes[1..5].iter().map(|&l| usize::from(l)).collect();
    let mut at = 5;
    let mut fields = Vec::new();
    for len in lens {
        fields.push(String::from_utf8_lossy(&bytes[at..at + len]).into_owned());
        at += len;
    }
    let response = json!({"kind": bytes[0], "event": fields[3], "bytes": bytes.len() - at});
    vec![reply(
        Some(&fields[0]),
        Some(&fields[1]),
        &fields[2],
        "ok",
        response,
    )]
}
