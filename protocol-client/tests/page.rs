//! Fetching a LiveView page over HTTP from a test double (a canned HTTP/1.1 server on
//! `127.0.0.1:0` — not the real gateway) and joining its main view, with the page's
//! tokens and cookie, on the WebSocket double of `support/mod.rs`.
#![allow(clippy::unwrap_used, reason = "test code fails loudly")]

mod support;

use cinder_protocol_client::{Client, Error, Page};
use serde_json::json;
use support::Double;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en"><head>
<meta name="csrf-token" content="CSRF+tok/en=">
<title>Counter</title>
</head><body>
<div id="counter" data-phx-main data-phx-session="SESSION.sig" data-phx-static="STATIC.sig"><h1>Count: 0</h1></div>
</body></html>"#;

/// Serves one canned response; reports the request it read.
async fn http_double(response: String) -> (String, oneshot::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/counter?x=1", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let _ = tx.send(String::from_utf8_lossy(&request).into_owned());
        stream.write_all(response.as_bytes()).await.unwrap();
        stream.shutdown().await.unwrap();
    });
    (url, rx)
}

fn ok_response(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nset-cookie: _cinder_key=SFMy.abc; path=/; HttpOnly\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn fetches_a_page_and_reads_its_tokens() {
    let (url, request) = http_double(ok_response(PAGE)).await;
    let page = Page::fetch(&url).await.unwrap();
    let request = request.await.unwrap();
    assert!(
        request.starts_with("GET /counter?x=1 HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request.contains(&format!("Host: {}\r\n", url.split('/').nth(2).unwrap())),
        "{request}"
    );
    assert_eq!(page.view_id, "counter");
    assert_eq!(page.session, "SESSION.sig");
    assert_eq!(page.static_token.as_deref(), Some("STATIC.sig"));
    assert_eq!(page.csrf, "CSRF+tok/en=");
    assert_eq!(page.cookie.as_deref(), Some("_cinder_key=SFMy.abc"));
    assert_eq!(page.url, url);
    assert!(page.socket_url().unwrap().ends_with("/live/websocket"));
}

#[tokio::test]
async fn reads_a_chunked_page() {
    let (first, second) = PAGE.split_at(100);
    let response = format!(
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\n\r\n",
        first.len(),
        second.len()
    );
    let (url, _) = http_double(response).await;
    let page = Page::fetch(&url).await.unwrap();
    assert_eq!(page.html, PAGE);
    assert_eq!(page.cookie, None);
}

#[tokio::test]
async fn a_redirect_is_an_error() {
    let (url, _) =
        http_double("HTTP/1.1 302 Found\r\nlocation: /login\r\ncontent-length: 0\r\n\r\n".into())
            .await;
    let err = Page::fetch(&url).await;
    assert!(
        matches!(&err, Err(Error::Page(m)) if m.contains("302") && m.contains("/login")),
        "{err:?}"
    );
}

#[tokio::test]
async fn joins_the_page_main_view_with_its_tokens() {
    let (url, _) = http_double(ok_response(PAGE)).await;
    let page = Page::fetch(&url).await.unwrap();
    let mut double = Double::start().await;
    let client = Client::connect(
        &double.url,
        &[("_csrf_token", &page.csrf)],
        page.cookie.as_deref(),
    )
    .await
    .unwrap();
    let view = page.join(&client).await.unwrap();
    assert!(view.html().starts_with("<h1>Count: 0</h1>"));
    let handshake = double.handshakes.recv().await.unwrap();
    assert_eq!(handshake.cookie.as_deref(), Some("_cinder_key=SFMy.abc"));
    assert!(
        handshake
            .uri
            .contains("_csrf_token=CSRF%2Btok%2Fen%3D&vsn=2.0.0")
    );
    let join = double.received.recv().await.unwrap();
    assert_eq!(
        join[4],
        json!({"url": url, "params": {"_csrf_token": "CSRF+tok/en=", "_mounts": 0, "_mount_attempts": 0},
               "session": "SESSION.sig", "static": "STATIC.sig", "sticky": false})
    );
}
