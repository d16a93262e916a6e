//! Joined views against a test double of the gateway (`support/mod.rs`, a canned V2
//! WebSocket server — not the real gateway): join replies and refusals, event replies
//! merged with their title, events and hook reply, server pushes applied in order,
//! form and patch payloads as the browser builds them, leaving and crashing.
#![allow(clippy::unwrap_used, reason = "test code fails loudly")]

mod support;

use cinder_protocol_client::{Client, Error, PushedEvent, Status, View};
use serde_json::{Value, json};
use support::Double;

const JOINED: &str = "<h1>Count: 0</h1><p></p><ul><li>a</li><li>b</li></ul>";

async fn joined(double: &Double) -> (Client, View) {
    let client = Client::connect(&double.url, &[("_csrf_token", "tok")], None)
        .await
        .unwrap();
    let view = client
        .join_page(
            "counter",
            "SESSION",
            Some("STATIC"),
            "http://127.0.0.1/counter",
        )
        .await
        .unwrap();
    (client, view)
}

/// The frames the double received, skipping those before `skip`.
async fn received(double: &mut Double, skip: usize) -> Value {
    for _ in 0..skip {
        double.received.recv().await.unwrap();
    }
    double.received.recv().await.unwrap()
}

#[tokio::test]
async fn a_join_builds_the_view_from_rendered() {
    let mut double = Double::start().await;
    let (_client, view) = joined(&double).await;
    assert_eq!(view.html(), JOINED);
    assert_eq!(view.title().as_deref(), Some("Counter"));
    assert_eq!(view.status(), Status::Joined);
    assert_eq!(view.join_response(), json!({"liveview_version": "1.2.12"}));
    assert_eq!(
        (view.topic(), view.id(), view.join_ref()),
        ("lv:counter", "counter", "1")
    );
    assert_eq!(
        view.take_events(),
        vec![PushedEvent {
            name: "mounted".into(),
            payload: json!({"at": 0}),
            before_patch: false
        }]
    );
    // The join payload, as `phoenix_live_view` 1.2.12 builds it.
    assert_eq!(
        received(&mut double, 0).await,
        json!(["1", "1", "lv:counter", "phx_join", {
            "url": "http://127.0.0.1/counter",
            "params": {"_csrf_token": "tok", "_mounts": 0, "_mount_attempts": 0},
            "session": "SESSION", "static": "STATIC", "sticky": false
        }])
    );
}

#[tokio::test]
async fn refused_joins_carry_the_response() {
    let double = Double::start().await;
    let client = Client::connect(&double.url, &[], None).await.unwrap();
    let stale = client.join("lv:stale", json!({})).await;
    assert!(
        matches!(&stale, Err(Error::JoinRefused(r)) if *r == json!({"reason": "stale"})),
        "{stale:?}"
    );
    let unmatched = client.join("lv:nowhere", json!({})).await;
    assert!(
        matches!(&unmatched, Err(Error::JoinRefused(r)) if *r == json!({"reason": "unmatched topic"})),
        "{unmatched:?}"
    );
    // The socket is still fine.
    assert!(client.heartbeat().await.unwrap().is_ok());
}

#[tokio::test]
async fn an_event_reply_diff_is_merged() {
    let mut double = Double::start().await;
    let (_client, view) = joined(&double).await;
    let reply = view.click("inc", json!({"id": "7"})).await.unwrap();
    assert_eq!(reply.diff(), Some(&json!({"0": "1"})));
    assert_eq!(view.html(), JOINED.replace("Count: 0", "Count: 1"));
    assert_eq!(
        received(&mut double, 1).await,
        json!(["1", "2", "lv:counter", "event", {"type": "click", "event": "inc", "value": {"id": "7"}}])
    );
}

#[tokio::test]
async fn a_reply_carries_the_hook_reply_title_and_events() {
    let double = Double::start().await;
    let (_client, view) = joined(&double).await;
    view.take_events();
    let reply = view.event("hook", "hook", json!({})).await.unwrap();
    assert_eq!(reply.reply, Some(json!({"answer": 42})));
    assert_eq!(reply.title.as_deref(), Some("New title"));
    let scrolled = PushedEvent {
        name: "scrolled".into(),
        payload: json!({"y": 1}),
        before_patch: false,
    };
    assert_eq!(reply.events, vec![scrolled.clone()]);
    assert_eq!(view.title().as_deref(), Some("New title"));
    assert_eq!(view.take_events(), vec![scrolled]);
    assert_eq!(view.html(), JOINED);
}

#[tokio::test]
async fn a_server_push_after_a_reply_is_applied_after_it() {
    let double = Double::start().await;
    let (_client, view) = joined(&double).await;
    view.click("inc_then_push", json!({})).await.unwrap();
    let html = view
        .wait_for(|html| html.contains("Count: 2"))
        .await
        .unwrap();
    assert_eq!(
        html,
        "<h1>Count: 2</h1><p></p><ul><li>b</li><li>a</li></ul>"
    );
    let push = view.next_push().await.unwrap();
    assert_eq!(push.event, "diff");
    assert_eq!(push.payload["0"], "2");
}

#[tokio::test]
async fn pushes_for_a_stale_join_are_dropped() {
    let double = Double::start().await;
    let (_client, view) = joined(&double).await;
    view.click("stale_push", json!({})).await.unwrap();
    view.wait_for(|html| html.contains("fresh")).await.unwrap();
    let push = view.next_push().await.unwrap();
    assert_eq!(push.payload, json!({"1": "fresh"}));
    assert!(view.try_next_push().is_none());
}

#[tokio::test]
async fn a_diff_before_the_join_reply_is_merged_after_it() {
    let double = Double::start().await;
    let client = Client::connect(&double.url, &[], None).await.unwrap();
    let view = client.join("lv:eager", json!({})).await.unwrap();
    assert_eq!(view.html(), JOINED.replace("<p></p>", "<p>early</p>"));
}

#[tokio::test]
async fn forms_and_patches_are_sent_like_the_browser() {
    let double = Double::start().await;
    let (_client, view) = joined(&double).await;
    view.form_change("validate", "user%5Bname%5D=al", "user[name]")
        .await
        .unwrap();
    let echoed: Value = serde_json::from_str(&inner_text(&view.html())).unwrap();
    assert_eq!(
        echoed,
        json!({"type": "form", "event": "validate", "value": "user%5Bname%5D=al",
               "meta": {"_target": "user[name]"}, "uploads": {}})
    );
    view.submit("save", "user%5Bname%5D=al").await.unwrap();
    let echoed: Value = serde_json::from_str(&inner_text(&view.html())).unwrap();
    assert_eq!(
        echoed,
        json!({"type": "form", "event": "save", "value": "user%5Bname%5D=al", "meta": {}})
    );
    view.live_patch("/counter?page=2").await.unwrap();
    assert!(
        view.html()
            .contains("<p>http://127.0.0.1/counter?page=2</p>"),
        "{}",
        view.html()
    );
}

/// The text of the `<p>` the double echoes into.
fn inner_text(html: &str) -> String {
    html.split("<p>")
        .nth(1)
        .unwrap()
        .split("</p>")
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn refused_pushes_are_errors() {
    let double = Double::start().await;
    let (_client, view) = joined(&double).await;
    let err = view.click("refuse", json!({})).await;
    assert!(
        matches!(&err, Err(Error::PushRefused { event, response }) if event == "event" && *response == json!({"reason": "no"})),
        "{err:?}"
    );
}

#[tokio::test]
async fn leaving_ends_the_view() {
    let double = Double::start().await;
    let (client, view) = joined(&double).await;
    assert!(view.leave().await.unwrap().is_ok());
    assert_eq!(view.status(), Status::Left);
    assert!(matches!(
        view.click("inc", json!({})).await,
        Err(Error::ViewGone { .. })
    ));
    // The server's phx_close for the left channel is nobody's now.
    let close = client.next_frame().await.unwrap();
    assert_eq!(
        (close.topic.as_str(), close.event.as_str()),
        ("lv:counter", "phx_close")
    );
}

#[tokio::test]
async fn a_crash_and_a_redirect_are_recorded() {
    let double = Double::start().await;
    let (_client, view) = joined(&double).await;
    view.click("navigate", json!({})).await.unwrap();
    let push = view.next_push().await.unwrap();
    assert_eq!(
        (push.event.as_str(), &push.payload),
        ("live_redirect", &json!({"to": "/other", "kind": "push"}))
    );
    view.click("crash", json!({})).await.unwrap();
    let push = view.next_push().await.unwrap();
    assert_eq!(push.event, "phx_error");
    assert_eq!(view.status(), Status::Crashed);
    assert!(matches!(
        view.next_push().await,
        Err(Error::ViewGone { .. })
    ));
    assert!(matches!(
        view.wait_for(|_| false).await,
        Err(Error::ViewGone { .. })
    ));
}

#[tokio::test]
async fn orphaned_components_are_reported_and_forgotten() {
    let mut double = Double::start().await;
    let client = Client::connect(&double.url, &[], None).await.unwrap();
    let view = client.join("lv:components", json!({})).await.unwrap();
    assert_eq!(view.html(), "<div><b>one</b><b>two</b></div>");
    assert_eq!(
        view.destroy_orphan_components().await.unwrap(),
        Vec::<i64>::new()
    );
    view.click("drop_two", json!({})).await.unwrap();
    assert_eq!(view.html(), "<div><b>one</b></div>");
    assert_eq!(view.destroy_orphan_components().await.unwrap(), vec![2]);
    assert_eq!(
        view.tree()["c"],
        json!({"1": {"0": "one", "s": ["<b>", "</b>"], "r": 1}})
    );
    let events: Vec<String> = [
        received(&mut double, 2).await,
        received(&mut double, 0).await,
    ]
    .iter()
    .map(|frame| format!("{} {}", frame[3], frame[4]))
    .collect();
    assert_eq!(
        events,
        [
            r#""cids_will_destroy" {"cids":[2]}"#,
            r#""cids_destroyed" {"cids":[2]}"#
        ]
    );
}

#[tokio::test]
async fn a_second_join_of_the_same_topic_replaces_the_first() {
    let double = Double::start().await;
    let (client, first) = joined(&double).await;
    let second = client.join("lv:counter", json!({})).await.unwrap();
    assert_eq!(first.status(), Status::Closed);
    assert_eq!(second.status(), Status::Joined);
    second.click("inc", json!({})).await.unwrap();
    assert!(second.html().contains("Count: 1"));
}
