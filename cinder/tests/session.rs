//! The session actor over real frames: join, events, timers, patches, failures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use std::time::Duration;

use std::sync::Arc;

use cinder::route::Pattern;
use cinder::session::Env;
use cinder::{Assigns, LiveView, Mount, Params, Rendered, Result, Socket, Tracked, html};
use serde_json::{Value, json};

mod support;

use support::Frames;

#[derive(Assigns)]
struct Counter {
    count: i64,
    step: i64,
}

enum Tick {
    Bump,
}

impl LiveView for Counter {
    type Info = Tick;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        cx.put_title("Counter");
        Ok(Counter { count: 0, step: 1 })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<div><h1 id="count">{@count}</h1><button id="inc" phx-click="inc">+{@step}</button></div>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: Value) -> Result {
        match event {
            "inc" => {
                let step = socket.step;
                socket.update_count(|c| *c += step);
            }
            "later" => socket.send_after(Duration::from_millis(5), Tick::Bump),
            "hook" => socket.reply(json!({"ok": value})),
            "boom" => panic!("app bug"),
            "patch" => socket.push_patch("/counter?step=5"),
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        Ok(())
    }

    fn handle_info(socket: &mut Socket<Self>, info: Tick) -> Result {
        match info {
            Tick::Bump => socket.update_count(|c| *c += 100),
        }
        Ok(())
    }

    fn handle_params(socket: &mut Socket<Self>, params: &Params, _uri: &str) -> Result {
        let step = params
            .get("step")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        socket.set_step(step);
        Ok(())
    }
}

type Client = Frames;

impl Frames {
    async fn join_url(url: &str) -> (Client, Value) {
        Self::join_in(url, None).await
    }

    /// Joins as a view mounted at a route (`env`).
    async fn join_in(url: &str, env: Option<Arc<Env>>) -> (Client, Value) {
        let payload = json!({"url": url, "params": {}, "session": "", "static": null});
        Frames::join::<Counter>("lv:phx-test", payload, env).await
    }

    async fn click(&mut self, event: &str) -> Value {
        self.push(
            "event",
            json!({"type": "click", "event": event, "value": {"value": ""}}),
        )
        .await
    }
}

#[tokio::test]
async fn join_replies_with_the_full_render() {
    let (_client, reply) = Client::join_url("http://localhost/counter").await;
    assert_eq!(
        reply,
        json!(["1", "1", "lv:phx-test", "phx_reply", {"status": "ok", "response": {
            "rendered": {"0": "0", "1": "1", "s": 0, "t": "Counter",
                "p": {"0": ["<div><h1 id=\"count\">", "</h1><button id=\"inc\" phx-click=\"inc\">+", "</button></div>"]}},
            "liveview_version": "1.2.12"
        }}])
    );
}

#[tokio::test]
async fn an_event_replies_with_only_the_changed_dynamic() {
    let (mut client, _) = Client::join_url("http://localhost/counter").await;
    let reply = client.click("inc").await;
    assert_eq!(
        reply,
        json!(["1", "2", "lv:phx-test", "phx_reply", {"status": "ok", "response": {"diff": {"0": "1"}}}])
    );
}

#[tokio::test]
async fn params_apply_on_mount_and_patch() {
    let (mut client, reply) = Client::join_url("http://localhost/counter?step=3").await;
    assert_eq!(reply[4]["response"]["rendered"]["1"], "3");
    let reply = client
        .push(
            "live_patch",
            json!({"url": "http://localhost/counter?step=7"}),
        )
        .await;
    assert_eq!(reply[4]["response"], json!({"diff": {"1": "7"}}));
    let reply = client.click("inc").await;
    assert_eq!(reply[4]["response"], json!({"diff": {"0": "7"}}));
}

#[tokio::test]
async fn a_patch_to_another_view_s_url_is_a_link_redirect() {
    let env = Env {
        route: Some(Pattern::new("/counter")),
        pubsub: None,
        presence: None,
        signer: None,
    };
    let (mut client, _) = Client::join_in("http://localhost/counter", Some(Arc::new(env))).await;
    let reply = client
        .push("live_patch", json!({"url": "http://localhost/form"}))
        .await;
    assert_eq!(reply[4]["response"], json!({"link_redirect": true}));
    // The view is unchanged and still answers.
    let reply = client
        .push(
            "live_patch",
            json!({"url": "http://localhost/counter?step=2"}),
        )
        .await;
    assert_eq!(reply[4]["response"], json!({"diff": {"1": "2"}}));
}

#[tokio::test]
async fn push_patch_sends_live_patch_before_the_reply() {
    let (mut client, _) = Client::join_url("http://localhost/counter").await;
    let push = client.click("patch").await;
    assert_eq!(
        push,
        json!(["1", null, "lv:phx-test", "live_patch", {"to": "/counter?step=5", "kind": "push"}])
    );
    let reply = client.read().await;
    assert_eq!(reply[4]["response"], json!({"diff": {"1": "5"}}));
}

#[tokio::test]
async fn timers_push_a_diff() {
    let (mut client, _) = Client::join_url("http://localhost/counter").await;
    let reply = client.click("later").await;
    assert_eq!(reply[4]["response"], json!({}));
    let push = client.read().await;
    assert_eq!(
        push,
        json!(["1", null, "lv:phx-test", "diff", {"0": "100"}])
    );
}

#[tokio::test]
async fn hook_replies_travel_in_r() {
    let (mut client, _) = Client::join_url("http://localhost/counter").await;
    let reply = client
        .push(
            "event",
            json!({"type": "hook", "event": "hook", "value": {"a": 1}}),
        )
        .await;
    assert_eq!(
        reply[4]["response"],
        json!({"diff": {"r": {"ok": {"a": 1}}}})
    );
}

#[tokio::test]
async fn unknown_and_malformed_events_get_error_replies_and_the_session_goes_on() {
    let (mut client, _) = Client::join_url("http://localhost/counter").await;
    let reply = client.click("nope").await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "unknown event \"nope\""}})
    );
    let reply = client.push("event", json!("not an object")).await;
    assert_eq!(reply[4]["status"], "error");
    let reply = client.push("no_such_channel_event", json!({})).await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "unmatched event"}})
    );
    let reply = client.click("inc").await;
    assert_eq!(reply[4]["response"], json!({"diff": {"0": "1"}}));
}

#[tokio::test]
async fn a_panic_ends_only_that_session_with_phx_error() {
    let (mut doomed, _) = Client::join_url("http://localhost/counter").await;
    let (mut bystander, _) = Client::join_url("http://localhost/counter").await;
    let error = doomed.click("boom").await;
    assert_eq!(
        error,
        json!(["1", "1", "lv:phx-test", "phx_error", {"reason": "channel_crash"}])
    );
    assert!(doomed.rx.recv().await.is_none(), "the crashed session ends");
    let reply = bystander.click("inc").await;
    assert_eq!(reply[4]["response"], json!({"diff": {"0": "1"}}));
}

#[tokio::test]
async fn leave_replies_and_ends_the_session() {
    let (mut client, _) = Client::join_url("http://localhost/counter").await;
    let reply = client.push("phx_leave", json!({})).await;
    assert_eq!(reply[4], json!({"status": "ok", "response": {}}));
    assert!(client.rx.recv().await.is_none());
    assert!(client.handle.is_closed());
}
