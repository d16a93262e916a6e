//! Sessions kept through a reconnect (`LiveView::PARK`), through the router as the
//! view-node drives it: the client's connection goes away (`Router::disconnected`), the
//! session parks with its state and goes on taking messages, and the rejoin from the
//! same page adopts it without mounting. Another page, another CSRF token, a view that
//! does not park, a full cap or the end of the grace all mount afresh.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use std::time::Duration;

use cinder::router::Router;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use serde_json::{Value, json};
use tokio::sync::mpsc;

mod support;

const SECRET: &[u8] = b"park test secret of 32 bytes or more";

#[derive(Assigns)]
struct Kept {
    count: i64,
    mounts: u64,
}

/// A message on the topic `kept`: `{"add": n}`.
struct Add(i64);

impl From<cinder::pubsub::Message> for Add {
    fn from(message: cinder::pubsub::Message) -> Self {
        Add(message.payload["add"].as_i64().unwrap_or(0))
    }
}

impl LiveView for Kept {
    type Info = Add;
    const PARK: bool = true;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        if cx.connected {
            cx.subscribe("kept");
        }
        Ok(Kept {
            count: 0,
            mounts: cx.mounts + 1,
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(r#"<p id="count">{@count}</p><p id="mounts">{@mounts}</p>"#)
    }

    fn handle_event(socket: &mut Socket<Self>, _event: &str, _value: Value) -> Result {
        socket.update_count(|c| *c += 1);
        Ok(())
    }

    fn handle_info(socket: &mut Socket<Self>, Add(add): Add) -> Result {
        socket.update_count(|c| *c += add);
        Ok(())
    }
}

/// The same view, without `PARK`.
#[derive(Assigns)]
struct Dropped {
    count: i64,
}

impl LiveView for Dropped {
    type Info = ();

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Dropped { count: 0 })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(r#"<p id="count">{@count}</p>"#)
    }

    fn handle_event(socket: &mut Socket<Self>, _event: &str, _value: Value) -> Result {
        socket.update_count(|c| *c += 1);
        Ok(())
    }
}

fn router() -> Router {
    Router::new(SECRET)
        .live::<Kept>("/kept")
        .live::<Dropped>("/dropped")
}

/// The session token of `path`'s dead render as page `view_id`.
fn session(router: &Router, path: &str, view_id: &str) -> String {
    support::session_token(router, path, view_id, "csrf-a")
}

struct Joined {
    handle: cinder::session::SessionHandle,
    rx: mpsc::UnboundedReceiver<String>,
    reply: Value,
}

async fn join(
    router: &Router,
    path: &str,
    view_id: &str,
    session: &str,
    csrf: &str,
    mounts: u64,
) -> Joined {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let frame = support::frame(
        json!([mounts.to_string(), "1", format!("lv:{view_id}"), "phx_join", {
            "url": format!("http://h{path}"), "session": session, "static": null,
            "params": {"_csrf_token": csrf, "_mounts": mounts},
        }]),
    );
    let handle = router.join(frame, true, tx).expect("joined");
    let reply: Value = serde_json::from_str(&next(&mut rx).await).unwrap();
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    Joined { handle, rx, reply }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a frame in time")
        .expect("the session is there")
}

async fn click(joined: &mut Joined, msg_ref: u32) {
    let frame = support::frame(
        json!([joined.reply[0].clone(), msg_ref.to_string(), joined.reply[2].clone(), "event", {
            "type": "click", "event": "inc", "value": {},
        }]),
    );
    joined
        .handle
        .try_send(cinder::session::Input::Frame(Box::new(frame)))
        .unwrap();
    next(&mut joined.rx).await;
}

fn rendered(reply: &Value) -> (Value, Value) {
    let r = &reply[4]["response"]["rendered"];
    (r["0"].clone(), r.get("1").cloned().unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_rejoin_from_the_same_page_adopts_the_parked_session() {
    let router = router();
    let token = session(&router, "/kept", "phx-k1");
    let mut first = join(&router, "/kept", "phx-k1", &token, "csrf-a", 0).await;
    assert_eq!(rendered(&first.reply), (json!("0"), json!("1")));
    for n in 1..=7 {
        click(&mut first, n + 1).await;
    }
    let Joined { handle, mut rx, .. } = first;
    router.disconnected(handle);
    // Parked: a message still reaches its state, and its diff goes nowhere.
    router.pubsub_handle().publish("kept", json!({"add": 5}));
    let sent = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await;
    assert!(
        !matches!(sent, Ok(Some(_))),
        "a parked session sent {sent:?}"
    );

    // Another CSRF token (another browser session) does not adopt it: a fresh mount.
    let stranger = join(&router, "/kept", "phx-k1", &token, "csrf-b", 1).await;
    assert_eq!(rendered(&stranger.reply), (json!("0"), json!("2")));
    router.disconnected(stranger.handle);

    // The page's own rejoin adopts it: the count, and no second mount.
    let again = join(&router, "/kept", "phx-k1", &token, "csrf-a", 1).await;
    assert_eq!(
        rendered(&again.reply),
        (json!("12"), json!("1")),
        "{}",
        again.reply
    );
    assert_eq!(again.reply[0], "1", "answered on the rejoin's join ref");
}

#[tokio::test]
async fn a_view_that_does_not_park_ends_with_its_connection() {
    let router = router();
    let token = session(&router, "/dropped", "phx-d1");
    let mut first = join(&router, "/dropped", "phx-d1", &token, "csrf-a", 0).await;
    click(&mut first, 2).await;
    let Joined { handle, mut rx, .. } = first;
    router.disconnected(handle);
    assert!(
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .is_none()
    );
    let again = join(&router, "/dropped", "phx-d1", &token, "csrf-a", 1).await;
    assert_eq!(again.reply[4]["response"]["rendered"]["0"], "0");
}

#[tokio::test]
async fn a_parked_session_ends_after_its_grace_and_past_the_cap() {
    let router = router().park(Duration::from_millis(100), 1);
    let token = session(&router, "/kept", "phx-g1");
    let mut first = join(&router, "/kept", "phx-g1", &token, "csrf-a", 0).await;
    click(&mut first, 2).await;
    router.disconnected(first.handle);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let late = join(&router, "/kept", "phx-g1", &token, "csrf-a", 1).await;
    assert_eq!(
        rendered(&late.reply).0,
        json!("0"),
        "the grace ended: mounted afresh"
    );

    // The cap is one: a second parked session ends the first.
    let router = router.park(Duration::from_secs(30), 1);
    let (a, b) = (
        session(&router, "/kept", "phx-a"),
        session(&router, "/kept", "phx-b"),
    );
    let mut on_a = join(&router, "/kept", "phx-a", &a, "csrf-a", 0).await;
    click(&mut on_a, 2).await;
    let mut on_b = join(&router, "/kept", "phx-b", &b, "csrf-a", 0).await;
    click(&mut on_b, 2).await;
    router.disconnected(on_a.handle);
    router.disconnected(on_b.handle);
    let back_a = join(&router, "/kept", "phx-a", &a, "csrf-a", 1).await;
    assert_eq!(rendered(&back_a.reply).0, json!("0"), "a was evicted");
    let back_b = join(&router, "/kept", "phx-b", &b, "csrf-a", 1).await;
    assert_eq!(rendered(&back_b.reply).0, json!("1"), "b was kept");
}
