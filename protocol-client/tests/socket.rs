//! The socket layer against a test double of the gateway (`support/mod.rs`, a
//! canned V2 WebSocket server — not the real gateway): the connect URL and headers,
//! heartbeats, raw frames in both directions, binary pushes, and how a close shows.
#![allow(clippy::unwrap_used, reason = "test code fails loudly")]

mod support;

use cinder_protocol_client::{Client, Error, Frame};
use serde_json::json;
use support::Double;

#[tokio::test]
async fn connects_with_params_vsn_origin_and_cookie() {
    let mut double = Double::start().await;
    let _client = Client::connect(
        &double.url,
        &[("_csrf_token", "a+b/c="), ("x", "é")],
        Some("_cinder_key=SFMyNTY.abc"),
    )
    .await
    .unwrap();
    let handshake = double.handshakes.recv().await.unwrap();
    assert_eq!(
        handshake.uri,
        "/live/websocket?_csrf_token=a%2Bb%2Fc%3D&x=%C3%A9&vsn=2.0.0"
    );
    let port = double
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    assert_eq!(
        handshake.origin.as_deref(),
        Some(format!("http://127.0.0.1:{port}").as_str())
    );
    assert_eq!(handshake.cookie.as_deref(), Some("_cinder_key=SFMyNTY.abc"));
}

#[tokio::test]
async fn heartbeats_are_answered_with_refs_from_one_counter() {
    let mut double = Double::start().await;
    let client = Client::connect(&double.url, &[], None).await.unwrap();
    let reply = client.heartbeat().await.unwrap();
    assert!(reply.is_ok());
    assert_eq!(reply.response, json!({}));
    client.heartbeat().await.unwrap();
    let first = double.received.recv().await.unwrap();
    let second = double.received.recv().await.unwrap();
    assert_eq!(first, json!([null, "1", "phoenix", "heartbeat", {}]));
    assert_eq!(second, json!([null, "2", "phoenix", "heartbeat", {}]));
    assert_eq!(client.next_ref(), "3");
}

#[tokio::test]
async fn background_heartbeats_keep_coming() {
    let mut double = Double::start().await;
    let client = Client::connect(&double.url, &[], None).await.unwrap();
    client.start_heartbeat(std::time::Duration::from_millis(5));
    for expected_ref in ["1", "2", "3"] {
        let frame = double.received.recv().await.unwrap();
        assert_eq!(
            frame,
            json!([null, expected_ref, "phoenix", "heartbeat", {}])
        );
    }
}

#[tokio::test]
async fn raw_frames_in_both_directions() {
    let double = Double::start().await;
    let client = Client::connect(&double.url, &[], None).await.unwrap();
    let msg_ref = client.next_ref();
    client
        .send_text(&format!(r#"[null,"{msg_ref}","phoenix","heartbeat",{{}}]"#))
        .await
        .unwrap();
    // Nobody waits for this reply, so it comes out as a raw frame.
    let frame = client.next_frame().await.unwrap();
    assert_eq!(
        frame,
        Frame::new(
            None,
            Some(&msg_ref),
            "phoenix",
            "phx_reply",
            json!({"status": "ok", "response": {}})
        )
    );

    // A join sent by hand: its reply is raw too, and so is the answer to a frame the
    // double does not speak.
    let join_ref = client.next_ref();
    client
        .send_frame(&Frame::new(
            Some(&join_ref),
            Some(&join_ref),
            "lv:nope",
            "phx_join",
            json!({}),
        ))
        .await
        .unwrap();
    let frame = client.next_frame().await.unwrap();
    assert_eq!(frame.join_ref.as_deref(), Some(join_ref.as_str()));
    assert_eq!(
        frame.payload,
        json!({"status": "error", "response": {"reason": "unmatched topic"}})
    );

    client.send_text("malformed").await.unwrap();
    assert!(matches!(
        client.next_frame().await,
        Err(Error::MalformedFrame(_))
    ));
}

#[tokio::test]
async fn binary_pushes_use_the_phoenix_layout() {
    let double = Double::start().await;
    let client = Client::connect(&double.url, &[], None).await.unwrap();
    let msg_ref = client.next_ref();
    let bytes = Frame::encode_binary("4", &msg_ref, "lvu:0", "chunk", &[7; 100]).unwrap();
    client.send_binary(&bytes).await.unwrap();
    let frame = client.next_frame().await.unwrap();
    assert_eq!(frame.topic, "lvu:0");
    assert_eq!(frame.msg_ref.as_deref(), Some(msg_ref.as_str()));
    assert_eq!(
        frame.payload["response"],
        json!({"kind": 0, "event": "chunk", "bytes": 100})
    );
}

#[tokio::test]
async fn a_server_close_shows_its_code_and_fails_what_waits() {
    let double = Double::start().await;
    let client = Client::connect(&double.url, &[], None).await.unwrap();
    let view = client.join("lv:counter", json!({})).await.unwrap();
    let push = view.click("close_socket", json!({})).await;
    let closed = client.wait_closed().await.unwrap();
    assert_eq!(closed.code, Some(4001));
    assert_eq!(closed.reason, "bye");
    assert!(
        matches!(&push, Err(Error::Closed(Some(c))) if c.code == Some(4001)),
        "{push:?}"
    );
    assert!(matches!(client.next_frame().await, Err(Error::Closed(_))));
    assert!(matches!(client.heartbeat().await, Err(Error::Closed(_))));
    assert!(matches!(
        view.click("inc", json!({})).await,
        Err(Error::ViewGone { .. })
    ));
}

#[tokio::test]
async fn the_client_closes_with_1000() {
    let double = Double::start().await;
    let client = Client::connect(&double.url, &[], None).await.unwrap();
    client.close().await.unwrap();
    let closed = client.wait_closed().await.unwrap();
    assert_eq!(closed.code, Some(1000));
}

#[tokio::test]
async fn an_unreachable_server_is_an_error() {
    let err = Client::connect("ws://127.0.0.1:1/live/websocket", &[], None).await;
    assert!(matches!(err, Err(Error::WebSocket(_))), "{err:?}");
    let err = Client::connect("not a url", &[], None).await;
    assert!(matches!(err, Err(Error::InvalidUrl { .. })), "{err:?}");
}
