//! One mount per page (`LiveView::ADOPT_DEAD_RENDER`): the join from the page a dead
//! render served takes over the state that render mounted, and `connected` does the
//! work that needs a connection. Another browser session, a rejoin, or a view that does
//! not opt in mounts as usual.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cinder::router::Router;
use cinder::{Assigns, LiveView, Mount, Params, Rendered, Result, Socket, Tracked, html};
use serde_json::{Value, json};
use tokio::sync::mpsc;

mod support;

const SECRET: &[u8] = b"dead render test secret of 32 bytes";

static MOUNTS: AtomicUsize = AtomicUsize::new(0);
static CONNECTED: AtomicUsize = AtomicUsize::new(0);

/// Mounts from the URL's `n` (a stand-in for a database read), and listens to `news`
/// once connected.
#[derive(Assigns)]
struct Once {
    n: i64,
    news: String,
}

/// A message on `news`.
struct News(String);

impl From<cinder::pubsub::Message> for News {
    fn from(message: cinder::pubsub::Message) -> Self {
        News(message.payload["text"].as_str().unwrap_or("").to_owned())
    }
}

impl LiveView for Once {
    type Info = News;
    const ADOPT_DEAD_RENDER: bool = true;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        MOUNTS.fetch_add(1, Ordering::SeqCst);
        let n = cx.params.get("n").and_then(Value::as_str).unwrap_or("0");
        Ok(Once {
            n: n.parse().unwrap_or(0),
            news: String::new(),
        })
    }

    fn connected(socket: &mut Socket<Self>) -> Result {
        CONNECTED.fetch_add(1, Ordering::SeqCst);
        socket.effects().subscribe("news");
        Ok(())
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(r#"<p id="n">{@n}</p><p id="news">{@news}</p>"#)
    }

    fn handle_params(_socket: &mut Socket<Self>, _params: &Params, _uri: &str) -> Result {
        Ok(())
    }

    fn handle_info(socket: &mut Socket<Self>, News(text): News) -> Result {
        socket.set_news(text);
        Ok(())
    }
}

async fn join(
    router: &Router,
    path: &str,
    view_id: &str,
    token: &str,
    csrf: &str,
    mounts: u64,
) -> (
    cinder::session::SessionHandle,
    mpsc::UnboundedReceiver<String>,
    Value,
) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let frame = support::frame(
        json!([mounts.to_string(), "1", format!("lv:{view_id}"), "phx_join", {
            "url": format!("http://h{path}"), "session": token, "static": null,
            "params": {"_csrf_token": csrf, "_mounts": mounts},
        }]),
    );
    let handle = router.join(frame, true, tx).unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    (handle, rx, reply)
}

// One test: the counters are the process's.
#[tokio::test]
async fn the_join_takes_over_what_its_dead_render_mounted() {
    let router = Router::new(SECRET).live::<Once>("/once");

    let token = support::session_token(&router, "/once?n=5", "phx-o1", "csrf-a");
    assert_eq!(MOUNTS.load(Ordering::SeqCst), 1, "the dead render mounted");
    let (_handle, mut rx, reply) = join(&router, "/once?n=5", "phx-o1", &token, "csrf-a", 0).await;
    assert_eq!(reply[4]["response"]["rendered"]["0"], "5");
    assert_eq!(MOUNTS.load(Ordering::SeqCst), 1, "the join mounted nothing");
    assert_eq!(CONNECTED.load(Ordering::SeqCst), 1);
    // `connected` subscribed the session.
    router
        .pubsub_handle()
        .publish("news", json!({"text": "hello"}));
    let push = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(push.contains("hello"), "{push}");

    // Another browser session's join for the same page mounts.
    let token = support::session_token(&router, "/once?n=6", "phx-o2", "csrf-a");
    assert_eq!(MOUNTS.load(Ordering::SeqCst), 2);
    join(&router, "/once?n=6", "phx-o2", &token, "csrf-b", 0).await;
    assert_eq!(
        MOUNTS.load(Ordering::SeqCst),
        3,
        "a stranger mounted afresh"
    );
    assert_eq!(CONNECTED.load(Ordering::SeqCst), 2);
    // ... and the page's own join, after that, still finds its state.
    join(&router, "/once?n=6", "phx-o2", &token, "csrf-a", 0).await;
    assert_eq!(MOUNTS.load(Ordering::SeqCst), 3);

    // A rejoin (the page mounted before) mounts: the state was taken.
    join(&router, "/once?n=6", "phx-o2", &token, "csrf-a", 1).await;
    assert_eq!(MOUNTS.load(Ordering::SeqCst), 4);
    assert_eq!(CONNECTED.load(Ordering::SeqCst), 4);
}
