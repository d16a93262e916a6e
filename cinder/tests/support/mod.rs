//! A client of one session actor over real V2 frames, shared by the session tests
//! (`session.rs`, `components.rs`, `flash.rs`): it spawns the view for a `phx_join`,
//! pushes frames with increasing refs and reads the frames the session sends; and the
//! session token of a dead render, which the tests that join like a page need.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test file uses a part of it"
)]

use std::sync::Arc;
use std::time::Duration;

use cinder::LiveView;
use cinder::frame::ClientFrame;
use cinder::session::{self, Env, Input, SessionConfig, SessionHandle};
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub struct Frames {
    pub handle: SessionHandle,
    pub rx: mpsc::UnboundedReceiver<String>,
    topic: String,
    next_ref: u32,
}

impl Frames {
    /// Spawns `V` for a `phx_join` of `topic` with `payload` (in `env`, if any); returns
    /// the client and the whole join reply frame.
    pub async fn join<V: LiveView>(
        topic: &str,
        payload: Value,
        env: Option<Arc<Env>>,
    ) -> (Frames, Value) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let join = frame(json!(["1", "1", topic, "phx_join", payload]));
        let handle = session::spawn_in::<V, _>(join, tx, SessionConfig::default(), env);
        let reply = read(&mut rx).await;
        let frames = Frames {
            handle,
            rx,
            topic: topic.to_owned(),
            next_ref: 1,
        };
        (frames, reply)
    }

    /// Pushes `event` with the next ref and returns the next frame the session sends.
    pub async fn push(&mut self, event: &str, payload: Value) -> Value {
        self.next_ref += 1;
        let r = self.next_ref.to_string();
        let f = frame(json!(["1", r, self.topic, event, payload]));
        self.handle.try_send(Input::Frame(Box::new(f))).unwrap();
        self.read().await
    }

    /// The next frame the session sends.
    pub async fn read(&mut self) -> Value {
        read(&mut self.rx).await
    }
}

pub fn frame(value: Value) -> ClientFrame {
    ClientFrame::parse(&value.to_string()).unwrap()
}

async fn read(rx: &mut mpsc::UnboundedReceiver<String>) -> Value {
    let text = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a frame")
        .expect("open");
    serde_json::from_str(&text).unwrap()
}

/// The `data-phx-session` token of a dead render's page.
pub fn session_of(page: &str) -> String {
    let at = page.find("data-phx-session=\"").expect("a session token") + 18;
    let end = page[at..].find('"').expect("the token's end");
    page[at..at + end].to_owned()
}

/// The session token of `path`'s dead render by `router`, as page `view_id` with CSRF
/// token `csrf`.
pub fn session_token(
    router: &cinder::router::Router,
    path: &str,
    view_id: &str,
    csrf: &str,
) -> String {
    session_of(
        &router
            .render(&format!("http://h{path}"), view_id, csrf, None)
            .body,
    )
}
