//! A session's topics and presences are released when it ends, however it ends: a
//! leave, a crash in a callback, its client going away, its link dropping. The node's
//! registry returns to what it held before (issue 11, item 7). Real in-process pubsub
//! and presence tracker.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test code fails loudly"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cinder::frame::ClientFrame;
use cinder::presence::{Tracker, TrackerOptions};
use cinder::session::{self, Env, Input, Outbox, SessionConfig, SessionHandle};
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use cinder_pubsub::{Local, Message, PubSub};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

/// Subscribes to `feed:<n>` (with and without gaps), to `room:<n>`'s presence, and
/// tracks itself there.
#[derive(Assigns)]
struct Subscriber {
    n: String,
}

impl LiveView for Subscriber {
    type Info = Message;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        let n = cx
            .params
            .get("n")
            .and_then(Value::as_str)
            .unwrap_or("0")
            .to_owned();
        cx.subscribe(format!("feed:{n}"));
        cx.subscribe_with_gaps(format!("gaps:{n}"));
        cx.subscribe_presence(format!("room:{n}"));
        cx.track(format!("room:{n}"), "me", json!({}));
        Ok(Subscriber { n })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(r#"<p>{@n}</p>"#)
    }

    fn handle_event(_socket: &mut Socket<Self>, event: &str, _value: Value) -> Result {
        assert_ne!(event, "boom", "the view crashes");
        Ok(())
    }

    fn handle_info(_socket: &mut Socket<Self>, _message: Message) -> Result {
        Ok(())
    }
}

/// An outbox that can be made to refuse frames (its client went away) and that says
/// when the session is over: `ended` resolves on `close` or when the outbox is dropped
/// with the session, after its topics were released.
struct Probe {
    frames: mpsc::UnboundedSender<String>,
    gone: Arc<AtomicBool>,
    ended: Option<oneshot::Sender<()>>,
}

impl Outbox for Probe {
    async fn send(&mut self, frame: String) -> bool {
        !self.gone.load(Ordering::Relaxed) && self.frames.send(frame).is_ok()
    }

    async fn close(&mut self) {
        if let Some(ended) = self.ended.take() {
            let _ = ended.send(());
        }
    }
}

struct Client {
    handle: SessionHandle,
    frames: mpsc::UnboundedReceiver<String>,
    gone: Arc<AtomicBool>,
    ended: oneshot::Receiver<()>,
}

impl Client {
    async fn join(env: &Arc<Env>, n: usize) -> Client {
        let (tx, mut frames) = mpsc::unbounded_channel();
        let (ended_tx, ended) = oneshot::channel();
        let gone = Arc::new(AtomicBool::new(false));
        let probe = Probe {
            frames: tx,
            gone: gone.clone(),
            ended: Some(ended_tx),
        };
        let join = frame(json!(["1", "1", format!("lv:phx-{n}"), "phx_join",
            {"url": format!("http://localhost/s?n={n}"), "params": {}, "session": "", "static": null}]));
        let handle = session::spawn_in::<Subscriber, _>(
            join,
            probe,
            SessionConfig::default(),
            Some(env.clone()),
        );
        let reply = within(frames.recv()).await.unwrap();
        assert!(reply.contains(r#""status":"ok""#), "join failed: {reply}");
        Client {
            handle,
            frames,
            gone,
            ended,
        }
    }

    fn push(&self, n: usize, event: &str) {
        let push = frame(json!(["1", "2", format!("lv:phx-{n}"), "event",
            {"type": "click", "event": event, "value": {}}]));
        self.handle.try_send(Input::Frame(Box::new(push))).unwrap();
    }

    /// Waits until the session is over and its outbox gone.
    async fn ended(self) {
        let Client {
            handle,
            frames,
            ended,
            ..
        } = self;
        drop((handle, frames));
        // `Err` when the outbox was dropped without `close`: over all the same.
        let _ = within(ended).await;
    }
}

fn frame(value: Value) -> ClientFrame {
    ClientFrame::parse(&value.to_string()).unwrap()
}

async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), future)
        .await
        .expect("a step took longer than the test allows")
}

struct Node {
    env: Arc<Env>,
    pubsub: Arc<Local>,
    tracker: Tracker,
}

impl Node {
    fn start() -> Node {
        let pubsub = Arc::new(Local::new());
        let dynamic: Arc<dyn PubSub> = pubsub.clone();
        let tracker = Tracker::start(dynamic.clone(), TrackerOptions::new("test")).unwrap();
        let env = Arc::new(Env {
            route: None,
            pubsub: Some(dynamic),
            presence: Some(tracker.clone()),
            signer: None,
        });
        Node {
            env,
            pubsub,
            tracker,
        }
    }

    /// Topics with a subscriber, presence topics with a subscriber.
    fn held(&self) -> (usize, usize) {
        (self.pubsub.topic_count(), self.tracker.subscribed_topics())
    }
}

/// Ends client `n`'s session one way.
type Ending = fn(&Client, usize);

#[tokio::test]
async fn every_way_a_session_ends_releases_its_topics_and_presences() {
    let node = Node::start();
    let baseline = node.held();

    let endings: [(&str, Ending); 4] = [
        ("leave", |client, _| {
            client.handle.try_send(Input::Shutdown).unwrap();
        }),
        ("crash in a callback", |client, n| client.push(n, "boom")),
        ("client gone", |client, n| {
            client.gone.store(true, Ordering::Relaxed);
            client.push(n, "noop");
        }),
        // The link dropped the handle: `ended` drops the client's handle itself.
        ("link dropped", |_, _| {}),
    ];
    for (n, (how, end)) in endings.into_iter().enumerate() {
        let client = Client::join(&node.env, n).await;
        assert_eq!(
            node.held(),
            (baseline.0 + 2, baseline.1 + 1),
            "{how}: joined"
        );
        assert_eq!(node.tracker.list(&format!("room:{n}")).len(), 1);
        end(&client, n);
        client.ended().await;
        assert_eq!(node.held(), baseline, "{how}: released");
        assert!(
            node.tracker.list(&format!("room:{n}")).is_empty(),
            "{how}: untracked"
        );
    }
}

#[tokio::test]
async fn rejoining_onto_fresh_topics_in_a_loop_leaves_the_registry_as_it_was() {
    let node = Node::start();
    let baseline = node.held();
    for n in 0..500 {
        let client = Client::join(&node.env, n).await;
        client.handle.try_send(Input::Shutdown).unwrap();
        client.ended().await;
    }
    assert_eq!(node.held(), baseline);
}
