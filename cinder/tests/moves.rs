//! Sessions that move between nodes (`LiveView::snapshot`), through the router as the
//! view-node drives it: a drain asks the session to move, `Migrate` writes its snapshot,
//! and another node's router restores it and renders it whole, without mounting. What a
//! deploy may change in between (a field added, the version raised), a snapshot that is
//! not one, and a view that takes none.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use std::time::Duration;

use cinder::router::Router;
use cinder::session::{Input, Outbox, SessionHandle};
use cinder::snapshot::{RestoreError, Snapshots};
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;

mod support;

const SECRET: &[u8] = b"moves test secret of 32 bytes or more";

/// What a session handed its outbox.
#[derive(Debug)]
enum Out {
    Frame(Value),
    Moving,
    Moved(Vec<u8>),
    Closed,
}

struct Probe(mpsc::UnboundedSender<Out>);

impl Outbox for Probe {
    async fn send(&mut self, frame: String) -> bool {
        self.0
            .send(Out::Frame(serde_json::from_str(&frame).unwrap()))
            .is_ok()
    }

    async fn close(&mut self) {
        let _ = self.0.send(Out::Closed);
    }

    async fn moving(&mut self) -> bool {
        self.0.send(Out::Moving).is_ok()
    }

    async fn moved(&mut self, snapshot: Vec<u8>) -> bool {
        self.0.send(Out::Moved(snapshot)).is_ok()
    }
}

/// A counter that moves, at snapshot version 1.
#[derive(Assigns, Serialize, Deserialize)]
struct Moves {
    count: i64,
    mounts: u64,
}

impl LiveView for Moves {
    type Info = ();
    const PARK: bool = true;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Moves {
            count: 0,
            mounts: cx.mounts + 1,
        })
    }

    fn snapshot() -> Option<Snapshots<Self>> {
        Some(Snapshots::serde(1))
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(r#"<p id="count">{@count}</p><p id="mounts">{@mounts}</p>"#)
    }

    fn handle_event(socket: &mut Socket<Self>, _event: &str, _value: Value) -> Result {
        socket.update_count(|c| *c += 1);
        Ok(())
    }
}

/// The same view after a deploy that added a field with a default.
#[derive(Assigns, Serialize, Deserialize)]
struct Added {
    count: i64,
    mounts: u64,
    #[serde(default)]
    label: String,
}

impl LiveView for Added {
    type Info = ();

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        panic!("a restored session is not mounted");
    }

    fn snapshot() -> Option<Snapshots<Self>> {
        Some(Snapshots::serde(1))
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(r#"<p id="count">{@count}</p><p id="label">[{@label}]</p>"#)
    }
}

/// The same view after a deploy that changed a field's type and raised the version.
#[derive(Assigns, Serialize, Deserialize)]
struct Raised {
    count: String,
}

impl LiveView for Raised {
    type Info = ();

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Raised {
            count: String::new(),
        })
    }

    fn snapshot() -> Option<Snapshots<Self>> {
        Some(Snapshots::serde(2))
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(r#"<p id="count">{@count}</p>"#)
    }
}

/// A view that takes no snapshots.
#[derive(Assigns)]
struct Stays {
    count: i64,
}

impl LiveView for Stays {
    type Info = ();

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Stays { count: 0 })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(r#"<p id="count">{@count}</p>"#)
    }
}

fn session_token(router: &Router, path: &str, view_id: &str) -> String {
    support::session_token(router, path, view_id, "csrf-a")
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Out>) -> Out {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("output in time")
        .expect("the session is there")
}

async fn frame(rx: &mut mpsc::UnboundedReceiver<Out>) -> Value {
    match next(rx).await {
        Out::Frame(frame) => frame,
        other => panic!("expected a frame, got {other:?}"),
    }
}

/// A session of `path` joined as page `view_id` with `clicks` clicks made.
async fn joined(
    router: &Router,
    path: &str,
    view_id: &str,
    clicks: u32,
) -> (SessionHandle, mpsc::UnboundedReceiver<Out>) {
    let token = session_token(router, path, view_id);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let join = support::frame(json!(["4", "4", format!("lv:{view_id}"), "phx_join", {
        "url": format!("http://h{path}"), "session": token, "static": null,
        "params": {"_csrf_token": "csrf-a", "_mounts": 0},
    }]));
    let handle = router.join(join, true, Probe(tx)).unwrap();
    assert_eq!(frame(&mut rx).await[4]["status"], "ok");
    for n in 0..clicks {
        click(&handle, &mut rx, view_id, n + 5).await;
    }
    (handle, rx)
}

async fn click(
    handle: &SessionHandle,
    rx: &mut mpsc::UnboundedReceiver<Out>,
    view_id: &str,
    msg_ref: u32,
) -> Value {
    let event = support::frame(
        json!(["4", msg_ref.to_string(), format!("lv:{view_id}"), "event", {
            "type": "click", "event": "inc", "value": {},
        }]),
    );
    handle.try_send(Input::Frame(Box::new(event))).unwrap();
    frame(rx).await
}

/// Drains the session of `handle` and returns its snapshot.
async fn migrate(handle: SessionHandle, rx: &mut mpsc::UnboundedReceiver<Out>) -> Vec<u8> {
    handle.control(Input::Drain).unwrap();
    assert!(matches!(next(rx).await, Out::Moving));
    handle.control(Input::Migrate(handle.identity())).unwrap();
    let Out::Moved(snapshot) = next(rx).await else {
        panic!("no snapshot");
    };
    assert!(matches!(next(rx).await, Out::Closed));
    snapshot
}

#[tokio::test]
async fn a_drained_session_resumes_on_another_node_as_it_was() {
    let old = Router::new(SECRET).live::<Moves>("/moves");
    let (handle, mut rx) = joined(&old, "/moves", "phx-m1", 7).await;
    let snapshot = migrate(handle, &mut rx).await;

    let new = Router::new(SECRET).live::<Moves>("/moves");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = new.resume(&snapshot, Probe(tx)).unwrap();
    // One push of the whole page, on the same channel, with the state as it was.
    let push = frame(&mut rx).await;
    assert_eq!(push[0], "4");
    assert_eq!(push[2], "lv:phx-m1");
    assert_eq!(push[3], "diff");
    let rendered = &push[4];
    assert!(rendered.get("s").is_some(), "a whole render: {push}");
    assert_eq!((&rendered["0"], &rendered["1"]), (&json!("7"), &json!("1")));
    let reply = click(&handle, &mut rx, "phx-m1", 20).await;
    assert_eq!(reply[4]["response"]["diff"]["0"], "8", "{reply}");

    // Who may adopt it after a reconnect moved along: the page's rejoin on the new node
    // adopts it, count and all, without mounting.
    new.disconnected(handle);
    let token = session_token(&new, "/moves", "phx-m1");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let rejoin = support::frame(json!(["5", "5", "lv:phx-m1", "phx_join", {
        "url": "http://h/moves", "session": token, "static": null,
        "params": {"_csrf_token": "csrf-a", "_mounts": 1},
    }]));
    new.join(rejoin, true, Probe(tx)).unwrap();
    let reply = frame(&mut rx).await;
    let rendered = &reply[4]["response"]["rendered"];
    assert_eq!((&rendered["0"], &rendered["1"]), (&json!("8"), &json!("1")));
}

#[tokio::test]
async fn a_deploy_may_add_fields_with_defaults_but_another_version_mounts_afresh() {
    let old = Router::new(SECRET).live::<Moves>("/moves");
    let (handle, mut rx) = joined(&old, "/moves", "phx-m2", 3).await;
    let snapshot = migrate(handle, &mut rx).await;

    let added = Router::new(SECRET).live::<Added>("/moves");
    let (tx, mut rx) = mpsc::unbounded_channel();
    added.resume(&snapshot, Probe(tx)).unwrap();
    let push = frame(&mut rx).await;
    assert_eq!((&push[4]["0"], &push[4]["1"]), (&json!("3"), &json!("")));

    let raised = Router::new(SECRET).live::<Raised>("/moves");
    let (tx, _rx) = mpsc::unbounded_channel();
    let refused = raised.resume(&snapshot, Probe(tx)).unwrap_err();
    assert_eq!(
        refused,
        RestoreError::Version {
            found: 1,
            expected: 2
        }
    );
}

#[tokio::test]
async fn what_is_not_a_snapshot_of_a_route_here_is_refused() {
    let old = Router::new(SECRET).live::<Moves>("/moves");
    let (handle, mut rx) = joined(&old, "/moves", "phx-m3", 1).await;
    let snapshot = migrate(handle, &mut rx).await;

    let elsewhere = Router::new(SECRET).live::<Moves>("/elsewhere");
    let (tx, _rx) = mpsc::unbounded_channel();
    assert!(matches!(
        elsewhere.resume(&snapshot, Probe(tx)),
        Err(RestoreError::NoRoute(_))
    ));
    let (tx, _rx) = mpsc::unbounded_channel();
    assert!(matches!(
        old.resume(b"{\"format\":1}", Probe(tx)),
        Err(RestoreError::Undecodable(_))
    ));
    let stays = Router::new(SECRET).live::<Stays>("/moves");
    let (tx, _rx) = mpsc::unbounded_channel();
    assert_eq!(
        stays.resume(&snapshot, Probe(tx)).unwrap_err(),
        RestoreError::NotSnapshotted
    );
}

#[tokio::test]
async fn a_session_that_takes_no_snapshots_fails_its_channel_at_the_drain() {
    let router = Router::new(SECRET).live::<Stays>("/stays");
    let (handle, mut rx) = joined(&router, "/stays", "phx-s1", 0).await;
    handle.control(Input::Drain).unwrap();
    let error = frame(&mut rx).await;
    assert_eq!(error[3], "phx_error", "{error}");
    assert!(matches!(next(&mut rx).await, Out::Closed));
}
