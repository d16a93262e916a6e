//! Hostile input against the real platform (issue 11, items 1 and 2): the demo's embedded
//! gateway and view-node on 127.0.0.1:0, one link between them, spoken to by the Rust
//! protocol client. Each probe gets its error, and a session beside it on the same link
//! goes on as if nothing happened.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use std::net::SocketAddr;
use std::time::Duration;

use cinder::params::{MAX_DEPTH, ParamsError};
use cinder_protocol_client::{Client, Error, Page, Reply, Status, View};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// No step waits longer than this.
const STEP: Duration = Duration::from_secs(20);

async fn start() -> SocketAddr {
    let app = cinder_test::TestApp::start(cinder_demo::routes)
        .await
        .unwrap();
    let addr = app.addr();
    // Serves for the rest of the test process.
    Box::leak(Box::new(app));
    addr
}

/// A joined view of `path`, on a socket of its own.
async fn joined(addr: SocketAddr, path: &str) -> (Page, Client, View) {
    let page = Page::fetch(&format!("http://{addr}{path}")).await.unwrap();
    let client = page.connect().await.unwrap();
    let view = page.join(&client).await.unwrap();
    (page, client, view)
}

/// The neighbour still counts: its click is answered and rendered.
async fn still_counts(view: &View, count: u32) {
    let reply = view.click("inc", json!({})).await.unwrap();
    assert!(reply.is_ok(), "{reply:?}");
    let expected = format!(r#"<h1 id="count">{count}</h1>"#);
    assert!(view.html().contains(&expected), "{}", view.html());
    assert_eq!(view.status(), Status::Joined);
}

/// The status code of a raw `GET target`.
async fn status_of(addr: SocketAddr, target: &str) -> u16 {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(STEP, tcp.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    let head = String::from_utf8_lossy(&response[..response.len().min(64)]).into_owned();
    head.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"))
}

/// The push was answered with an error reply giving `reason`.
fn assert_refused(result: Result<Reply, Error>, reason: &str) {
    match result {
        Err(Error::PushRefused { response, .. }) => {
            assert_eq!(response, json!({ "reason": reason }));
        }
        other => panic!("expected an error reply, got {other:?}"),
    }
}

fn deep_key(levels: usize) -> String {
    format!("a{}=1", "[]".repeat(levels))
}

#[tokio::test]
async fn a_deep_query_string_is_a_bad_request_and_the_node_goes_on() {
    let addr = start().await;
    let (_, _neighbour_socket, neighbour) = joined(addr, "/counter").await;
    let over = format!("/counter?{}", deep_key(MAX_DEPTH + 1));
    assert_eq!(status_of(addr, &over).await, 400);
    // The issue's probe: 25,000 levels (a 50 KB URL) aborted the whole process.
    let probe = format!("/counter?{}", deep_key(25_000));
    let status = status_of(addr, &probe).await;
    assert!((400..500).contains(&status), "{status}");
    let at_bound = format!("/counter?{}", deep_key(MAX_DEPTH));
    assert_eq!(status_of(addr, &at_bound).await, 200);
    still_counts(&neighbour, 1).await;
}

#[tokio::test]
async fn a_deep_form_event_gets_an_error_reply_and_the_session_goes_on() {
    let addr = start().await;
    let (_, _neighbour_socket, neighbour) = joined(addr, "/counter").await;
    let (_, _socket, view) = joined(addr, "/counter").await;
    let over = view.form_change("x", &deep_key(MAX_DEPTH + 1), "a").await;
    assert_refused(over, &format!("invalid payload: {}", ParamsError::TooDeep));
    // The issue's probe: 400,000 levels in one frame aborted the whole process.
    let probe = view.form_change("x", &deep_key(400_000), "a").await;
    assert_refused(
        probe,
        &format!("invalid payload: {}", ParamsError::KeyTooLong),
    );
    still_counts(&view, 1).await;
    still_counts(&neighbour, 1).await;
}

#[tokio::test]
async fn a_join_or_patch_with_deep_params_is_refused_and_the_socket_goes_on() {
    let addr = start().await;
    let (page, client, view) = joined(addr, "/counter").await;
    let deep_url = format!("{}?{}", page.url, deep_key(MAX_DEPTH + 1));
    let reason = json!({ "reason": ParamsError::TooDeep.to_string() });
    assert_refused(
        view.live_patch(&deep_url).await,
        &ParamsError::TooDeep.to_string(),
    );
    still_counts(&view, 1).await;

    let other = Page::fetch(&format!("http://{addr}/counter"))
        .await
        .unwrap();
    let payload = client.join_payload(&other.session, other.static_token.as_deref(), &deep_url);
    match client.join(&format!("lv:{}", other.view_id), payload).await {
        Err(Error::JoinRefused(response)) => assert_eq!(response, reason),
        result => panic!("expected a refusal, got {result:?}"),
    }
    // The same socket joins that page with its own URL, and the first view goes on.
    let second = other.join(&client).await.unwrap();
    still_counts(&second, 1).await;
    still_counts(&view, 2).await;
}

/// Issue 11, item 2: a chat message whose escaped diff is larger than the link carries
/// (900,000 `&` become 4.5 MB of `&amp;`) broke the link, and every session on it got
/// `phx_error` `node_down`. Now only the session that would send it fails.
#[tokio::test]
async fn a_frame_over_the_link_limit_fails_its_session_and_not_the_link() {
    let addr = start().await;
    let (_, _neighbour_socket, neighbour) = joined(addr, "/counter").await;
    let (_, _socket, chat) = joined(addr, "/chat/hostile-input?user=eve").await;
    let body = "&".repeat(900_000);
    let reply = chat.click("send", json!({ "body": body })).await.unwrap();
    assert!(reply.is_ok(), "{reply:?}");
    let push = loop {
        let push = chat.next_push_within(STEP).await.unwrap();
        if push.event != "diff" {
            break push;
        }
    };
    assert_eq!(push.event, "phx_error");
    assert_eq!(push.payload, json!({"reason": "frame_too_large"}));
    assert_eq!(chat.status(), Status::Crashed);
    still_counts(&neighbour, 1).await;
    // The room works again for a session that joins it afresh.
    let (_, _socket, again) = joined(addr, "/chat/hostile-input?user=bob").await;
    let reply = again.click("send", json!({"body": "hello"})).await.unwrap();
    assert!(reply.is_ok(), "{reply:?}");
    // Messages arrive as stream inserts, which the view's HTML does not keep.
    loop {
        let patches = again.take_stream_patches();
        if patches
            .iter()
            .any(|patch| patch.html.contains("bob: hello"))
        {
            break;
        }
        again.next_push_within(STEP).await.unwrap();
    }
}
