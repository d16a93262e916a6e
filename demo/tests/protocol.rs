//! The wire protocol against the real platform: the demo's embedded gateway and
//! view-node on 127.0.0.1:0, spoken to by the Rust protocol client.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use std::net::SocketAddr;

use cinder_protocol_client::{Client, Error, Page};
use serde_json::json;

async fn start() -> SocketAddr {
    let app = cinder_test::TestApp::start(cinder_demo::routes)
        .await
        .unwrap();
    let addr = app.addr();
    // Serves for the rest of the test process.
    Box::leak(Box::new(app));
    addr
}

async fn page(addr: SocketAddr) -> (Page, Client) {
    let page = Page::fetch(&format!("http://{addr}/counter"))
        .await
        .unwrap();
    let client = page.connect().await.unwrap();
    (page, client)
}

#[tokio::test]
async fn heartbeats_are_answered() {
    let (_, client) = page(start().await).await;
    let reply = client.heartbeat().await.unwrap();
    assert!(reply.is_ok());
    assert_eq!(reply.response, json!({}));
}

#[tokio::test]
async fn a_join_of_an_unknown_topic_is_unmatched() {
    let (_, client) = page(start().await).await;
    match client.join("room:lobby", json!({})).await {
        Err(Error::JoinRefused(response)) => {
            assert_eq!(response, json!({"reason": "unmatched topic"}));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_forged_session_token_gets_stale() {
    let (page, client) = page(start().await).await;
    let payload = client.join_payload("forged.token", None, &page.url);
    match client.join(&format!("lv:{}", page.view_id), payload).await {
        Err(Error::JoinRefused(response)) => {
            assert_eq!(response, json!({"reason": "stale"}));
        }
        other => panic!("expected stale, got {other:?}"),
    }
    // The same socket still joins with the real token.
    let view = page.join(&client).await.unwrap();
    assert!(view.html().contains(r#"<h1 id="count">0</h1>"#));
}

#[tokio::test]
async fn a_socket_without_a_valid_csrf_token_joins_stale() {
    let addr = start().await;
    let page = Page::fetch(&format!("http://{addr}/counter"))
        .await
        .unwrap();
    let client = Client::connect(
        &page.socket_url().unwrap().replace(&page.csrf, "bad"),
        &[("_csrf_token", "bad")],
        page.cookie.as_deref(),
    )
    .await
    .unwrap();
    match page.join(&client).await {
        Err(Error::JoinRefused(response)) => {
            assert_eq!(response, json!({"reason": "stale"}));
        }
        other => panic!("expected stale, got {other:?}"),
    }
}

#[tokio::test]
async fn an_event_before_join_is_unmatched() {
    let (page, client) = page(start().await).await;
    let topic = format!("lv:{}", page.view_id);
    let reply = client
        .request(
            None,
            &topic,
            "event",
            json!({"type": "click", "event": "inc", "value": {}}),
        )
        .await
        .unwrap();
    assert!(!reply.is_ok());
    assert_eq!(reply.response, json!({"reason": "unmatched topic"}));
}

#[tokio::test]
async fn malformed_json_closes_only_that_socket_with_a_reason() {
    let addr = start().await;
    let (page, bystander) = page(addr).await;
    let view = page.join(&bystander).await.unwrap();
    let (_, offender) = self::page(addr).await;
    offender
        .send_text("[\"1\",\"2\",\"lv:x\",\"event\",{not json")
        .await
        .unwrap();
    let closed = offender.wait_closed().await.unwrap();
    assert_eq!(closed.code, Some(1007), "{closed:?}");
    view.click("inc", json!({})).await.unwrap();
    assert!(view.html().contains(r#"<h1 id="count">1</h1>"#));
}

#[tokio::test]
async fn an_oversized_frame_closes_the_socket_with_1009() {
    let (page, client) = page(start().await).await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let frame =
        json!(["1", "2", format!("lv:{}", page.view_id), "event", {"value": huge}]).to_string();
    client.send_text(&frame).await.unwrap();
    let closed = client.wait_closed().await.unwrap();
    assert_eq!(closed.code, Some(1009), "{closed:?}");
}

#[tokio::test]
async fn a_second_join_closes_the_first_channel_and_mounts_afresh() {
    let (page, client) = page(start().await).await;
    let first = page.join(&client).await.unwrap();
    first.click("inc", json!({})).await.unwrap();
    assert!(first.html().contains(r#"<h1 id="count">1</h1>"#));
    let topic = format!("lv:{}", page.view_id);
    let payload = client.join_payload(&page.session, page.static_token.as_deref(), &page.url);
    let second = client.join(&topic, payload).await.unwrap();
    assert!(
        second.html().contains(r#"<h1 id="count">0</h1>"#),
        "a rejoin mounts a new session"
    );
    second.click("inc", json!({})).await.unwrap();
    assert!(second.html().contains(r#"<h1 id="count">1</h1>"#));
}
