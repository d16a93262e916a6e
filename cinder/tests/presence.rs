//! Presence through the session actor: `track`, `subscribe_presence`, the
//! `presence_state` / `presence_diff` messages in `handle_info`, and the untrack when a
//! session ends. Real tracker over the in-process pubsub.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cinder::frame::ClientFrame;
use cinder::presence::{ClientPresence, SessionId, Tracker, TrackerOptions};
use cinder::session::{self, Env, Input, SessionConfig, SessionHandle};
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use cinder_pubsub::{Delivery, Local, Message, PubSub};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

#[derive(Assigns)]
struct Room {
    online: String,
    presence: ClientPresence,
}

struct Seen(Message);

impl From<Message> for Seen {
    fn from(message: Message) -> Self {
        Seen(message)
    }
}

impl LiveView for Room {
    type Info = Seen;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        let user = cx
            .params
            .get("user")
            .and_then(Value::as_str)
            .unwrap_or("x")
            .to_owned();
        cx.subscribe("control");
        cx.subscribe_presence("room");
        cx.track("room", user.clone(), json!({"v": 1}));
        // Tracking again replaces the meta instead of failing or duplicating.
        cx.track("room", user, json!({"v": 2}));
        Ok(Room {
            online: String::new(),
            presence: ClientPresence::new(),
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(r#"<p id="online">{@online}</p>"#)
    }

    fn handle_info(socket: &mut Socket<Self>, Seen(message): Seen) -> Result {
        let payload = message
            .payload
            .get("payload")
            .cloned()
            .unwrap_or(Value::Null);
        match message.payload.get("event").and_then(Value::as_str) {
            Some("presence_state") => socket.update_presence(|p| {
                p.sync_state(&payload);
            }),
            Some("presence_diff") => socket.update_presence(|p| p.sync_diff(&payload)),
            // Holds the session until the test lets go of `GATE`; the worker's other
            // tasks (the tracker's, the timers) move to another thread meanwhile.
            Some("hold") => {
                HOLDING.notify_one();
                tokio::task::block_in_place(|| drop(GATE.lock()));
                return Ok(());
            }
            _ => return Ok(()),
        }
        let online: Vec<String> = socket
            .presence
            .state()
            .iter()
            .map(|(key, presence)| {
                let metas = presence["metas"].as_array().cloned().unwrap_or_default();
                format!(
                    "{key}:{}x{}",
                    metas.len(),
                    metas.last().map_or(json!(null), |m| m["v"].clone())
                )
            })
            .collect();
        socket.set_online(online.join(","));
        Ok(())
    }
}

/// What a `hold` message on `control` waits for.
static GATE: Mutex<()> = Mutex::new(());
/// Signalled when a session took a `hold` message: it reads no more of its mailbox
/// until `GATE` is free.
static HOLDING: Notify = Notify::const_new();

fn env() -> Arc<Env> {
    let pubsub: Arc<dyn PubSub> = Arc::new(Local::new());
    let tracker = Tracker::start(pubsub.clone(), TrackerOptions::new("test")).unwrap();
    Arc::new(Env {
        route: None,
        pubsub: Some(pubsub),
        presence: Some(tracker),
        signer: None,
    })
}

fn join(env: &Arc<Env>, user: &str) -> (SessionHandle, mpsc::UnboundedReceiver<String>) {
    join_with(env, user, SessionConfig::default())
}

fn join_with(
    env: &Arc<Env>,
    user: &str,
    config: SessionConfig,
) -> (SessionHandle, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let text = json!(["1", "1", format!("lv:phx-{user}"), "phx_join",
        {"url": format!("http://localhost/room?user={user}"), "params": {}, "session": "", "static": null}])
    .to_string();
    let join = ClientFrame::parse(&text).unwrap();
    let handle = session::spawn_in::<Room, _>(join, tx, config, Some(env.clone()));
    (handle, rx)
}

/// `#online` reads `key:<metas>x<v of the last meta>` per user: one meta with `v` 2
/// means the second `track` replaced the first.
///
/// Reads frames until one shows `#online` reading `wanted`.
async fn until_online(rx: &mut mpsc::UnboundedReceiver<String>, wanted: &str) {
    let needle = format!("\"{wanted}\"");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let frame = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("#online never read {wanted:?}"))
            .unwrap();
        if frame.contains(&needle) {
            return;
        }
    }
}

#[tokio::test]
async fn sessions_see_each_other_and_a_session_that_ends_leaves() {
    let env = env();
    let (alice, mut alice_rx) = join(&env, "alice");
    until_online(&mut alice_rx, "alice:1x2").await;
    let (bob, mut bob_rx) = join(&env, "bob");
    until_online(&mut bob_rx, "alice:1x2,bob:1x2").await;
    until_online(&mut alice_rx, "alice:1x2,bob:1x2").await;

    alice.try_send(Input::Shutdown).unwrap();
    until_online(&mut bob_rx, "bob:1x2").await;
    drop(bob);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(
    clippy::await_holding_lock,
    reason = "the gate is held on purpose while the session waits on it"
)]
async fn a_presence_diff_lost_to_a_full_mailbox_is_made_good_by_a_resync() {
    let env = env();
    let (pubsub, tracker) = (env.pubsub.clone().unwrap(), env.presence.clone().unwrap());
    let (bob, mut bob_rx) = join_with(&env, "bob", SessionConfig { mailbox: 2 });
    until_online(&mut bob_rx, "bob:1x2").await;

    // bob's session stops in `handle_info` and its two-message mailbox fills up…
    let gate = GATE.lock().unwrap();
    assert_eq!(pubsub.publish("control", json!({"event": "hold"})), 1);
    tokio::time::timeout(Duration::from_secs(5), HOLDING.notified())
        .await
        .expect("bob's session takes the hold");
    for _ in 0..2 {
        assert_eq!(pubsub.publish("control", json!({"event": "filler"})), 1);
    }
    // …so alice's join is dropped on its way to bob. A topic's subscribers are offered
    // each diff in the order they subscribed: once this observer, subscribed after bob,
    // has the join, bob's full mailbox was offered it before.
    let (observed, mut observer) = mpsc::unbounded_channel();
    tracker.subscribe(
        "room",
        Box::new(
            move |message: &Message| match observed.send(message.payload.to_string()) {
                Ok(()) => Delivery::Delivered,
                Err(_) => Delivery::Gone,
            },
        ),
    );
    tracker
        .track(
            SessionId(1000),
            "room",
            "alice",
            json!({"v": 2}).as_object().cloned().unwrap(),
        )
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let diff = tokio::time::timeout_at(deadline, observer.recv())
            .await
            .expect("alice's join is delivered")
            .unwrap();
        if diff.contains("\"alice\"") {
            break;
        }
    }
    drop(observer);
    drop(gate);

    // Once the mailbox has room, bob's view gets the state again, with alice, although
    // nothing else changed on the topic.
    until_online(&mut bob_rx, "alice:1x2,bob:1x2").await;
    // And the diffs go on from there.
    tracker
        .track(
            SessionId(1001),
            "room",
            "carol",
            json!({"v": 2}).as_object().cloned().unwrap(),
        )
        .unwrap();
    until_online(&mut bob_rx, "alice:1x2,bob:1x2,carol:1x2").await;
    drop(bob);
}

/// An app message dressed as presence (`{"event": "presence_diff", …}` on `control`, a
/// topic the view subscribed to for its messages) never reaches the view, whoever
/// published it: only the presence subscription delivers presence events.
#[tokio::test]
async fn an_app_message_dressed_as_a_presence_diff_is_not_taken_for_one() {
    let env = env();
    let pubsub = env.pubsub.clone().unwrap();
    let (_alice, mut alice_rx) = join(&env, "alice");
    until_online(&mut alice_rx, "alice:1x2").await;

    let forged = json!({"event": "presence_diff", "payload": {
        "joins": {"mallory": {"metas": [{"phx_ref": "forged", "v": 9}]}}, "leaves": {}}});
    pubsub.publish("control", forged);
    // The next real change shows the room as it is, without mallory; the forged message
    // was queued before it, so it would have shown by now.
    let (_bob, _bob_rx) = join(&env, "bob");
    until_online(&mut alice_rx, "alice:1x2,bob:1x2").await;
}
