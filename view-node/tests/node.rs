//! The view-node service over real gRPC on 127.0.0.1:0: dead renders, joins through the
//! link with signed tokens, events, leaves, and refusals.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use std::net::SocketAddr;
use std::time::Duration;

use cinder::router::Router;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Socket, Tracked, html};
use cinder_proto::credential::{Credential, LinkKey};
use cinder_proto::v1::view_node_client::ViewNodeClient;
use cinder_proto::v1::{Down, Join, Leave, RenderRequest, Up, down, up};
use cinder_view_node::Server;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::service::interceptor::InterceptedService;

/// The cluster secret of the node under test.
const SECRET: &[u8] = b"test secret";

#[derive(Assigns)]
struct Counter {
    count: i64,
}

impl LiveView for Counter {
    type Info = ();

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        cx.put_title("Counter");
        Ok(Counter { count: 0 })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(r#"<h1 id="count">{@count}</h1><button id="inc" phx-click="inc">+</button>"#)
    }

    fn handle_event(socket: &mut Socket<Self>, _event: &str, _value: Value) -> Result {
        socket.update_count(|c| *c += 1);
        Ok(())
    }
}

async fn start() -> SocketAddr {
    let router: Router = Router::new(SECRET).live::<Counter>("/counter");
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), router)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.serve(std::future::pending()));
    addr
}

/// A client presenting the link token of the node's secret, as a gateway does.
async fn client(
    addr: SocketAddr,
) -> ViewNodeClient<InterceptedService<tonic::transport::Channel, Credential>> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    ViewNodeClient::with_interceptor(channel, LinkKey::derive(SECRET).credential())
}

/// The session token and view id embedded in a dead render.
fn tokens(html: &str) -> (String, String) {
    let attr = |name: &str| {
        let start = html.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
        html[start..start + html[start..].find('"').unwrap()].to_owned()
    };
    (attr("id"), attr("data-phx-session"))
}

struct Link {
    up: mpsc::Sender<Up>,
    down: tonic::Streaming<Down>,
}

impl Link {
    async fn open(addr: SocketAddr) -> Link {
        let (up, rx) = mpsc::channel(16);
        let down = client(addr)
            .await
            .link(ReceiverStream::new(rx))
            .await
            .unwrap()
            .into_inner();
        Link { up, down }
    }

    async fn send(&self, session: u64, kind: up::Kind) {
        self.up
            .send(Up {
                session,
                kind: Some(kind),
                trace: Default::default(),
            })
            .await
            .unwrap();
    }

    async fn next(&mut self) -> (u64, Option<Value>) {
        let down = tokio::time::timeout(Duration::from_secs(5), self.down.message())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match down.kind.unwrap() {
            down::Kind::Frame(bytes) => {
                (down.session, Some(serde_json::from_slice(&bytes).unwrap()))
            }
            down::Kind::Closed(_) => (down.session, None),
            other => unreachable!("no upload view here: {other:?}"),
        }
    }
}

fn join_frame(id: &str, token: &str) -> Vec<u8> {
    json!(["1", "1", format!("lv:{id}"), "phx_join", {"url": "http://localhost/counter", "params": {}, "session": token, "static": null}])
        .to_string()
        .into_bytes()
}

async fn dead_render(addr: SocketAddr) -> String {
    let request = RenderRequest {
        path: "/counter".into(),
        headers: vec![cinder_proto::v1::Header {
            name: "x-cinder-csrf-token".into(),
            value: "csrf-x".into(),
        }],
        view_id: "phx-abc".into(),
        url: "http://localhost/counter".into(),
    };
    let response = client(addr)
        .await
        .render(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.status, 200);
    String::from_utf8(response.body.to_vec()).unwrap()
}

#[tokio::test]
async fn dead_render_embeds_the_container_tokens_and_csrf() {
    let addr = start().await;
    let html = dead_render(addr).await;
    assert!(
        html.contains(r#"<meta name="csrf-token" content="csrf-x">"#),
        "{html}"
    );
    assert!(html.contains("<title>Counter</title>"));
    assert!(html.contains(r#"<div id="phx-abc" data-phx-main data-phx-session=""#));
    assert!(html.contains(r#"<h1 id="count">0</h1>"#));
    let missing = client(addr)
        .await
        .render(RenderRequest {
            path: "/nope".into(),
            url: "http://localhost/nope".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn a_join_with_the_page_token_mounts_and_events_reply_with_diffs() {
    let addr = start().await;
    let (id, token) = tokens(&dead_render(addr).await);
    let mut link = Link::open(addr).await;
    link.send(
        7,
        up::Kind::Join(Join {
            frame: join_frame(&id, &token),
            csrf_ok: true,
        }),
    )
    .await;
    let (session, reply) = link.next().await;
    assert_eq!(session, 7);
    let reply = reply.unwrap();
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    assert_eq!(reply[4]["response"]["rendered"]["0"], "0");
    let click = json!(["1", "2", format!("lv:{id}"), "event", {"type": "click", "event": "inc", "value": {}}]);
    link.send(7, up::Kind::Frame(click.to_string().into_bytes()))
        .await;
    let (_, reply) = link.next().await;
    assert_eq!(reply.unwrap()[4]["response"], json!({"diff": {"0": "1"}}));
    link.send(7, up::Kind::Leave(Leave::default())).await;
    assert_eq!(link.next().await, (7, None), "the session reports its end");
}

#[tokio::test]
async fn forged_tokens_mismatched_ids_and_failed_csrf_get_stale() {
    let addr = start().await;
    let (id, token) = tokens(&dead_render(addr).await);
    let mut link = Link::open(addr).await;
    let cases = [
        (1, join_frame(&id, "forged.token"), true),
        (2, join_frame("phx-other", &token), true),
        (3, join_frame(&id, &token), false),
    ];
    for (session, frame, csrf_ok) in cases {
        link.send(session, up::Kind::Join(Join { frame, csrf_ok }))
            .await;
        let (got, reply) = link.next().await;
        assert_eq!(got, session);
        let reply = reply.unwrap();
        assert_eq!(
            reply[4],
            json!({"status": "error", "response": {"reason": "stale"}}),
            "case {session}"
        );
        assert_eq!(link.next().await, (session, None));
    }
    // The link still serves a good join afterwards.
    link.send(
        4,
        up::Kind::Join(Join {
            frame: join_frame(&id, &token),
            csrf_ok: true,
        }),
    )
    .await;
    assert_eq!(link.next().await.1.unwrap()[4]["status"], "ok");
}

/// Counts `cinder_view_node_sessions_refused_total`; every other metric is dropped.
struct Refusals(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl metrics::Recorder for Refusals {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }

    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        if key.name() == "cinder_view_node_sessions_refused_total" {
            metrics::Counter::from_arc(self.0.clone())
        } else {
            metrics::Counter::noop()
        }
    }

    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }

    fn register_histogram(
        &self,
        _: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

/// The cap counts the sessions of the whole process: nextest runs this test in a
/// process of its own.
#[tokio::test]
async fn joins_past_the_sessions_cap_are_refused_overloaded_and_counted() {
    let refused = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    metrics::set_global_recorder(Refusals(refused.clone())).unwrap();
    let router: Router = Router::new(SECRET).live::<Counter>("/counter");
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), router)
        .await
        .unwrap()
        .max_sessions(2);
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.serve(std::future::pending()));
    let (id, token) = tokens(&dead_render(addr).await);
    let mut link = Link::open(addr).await;
    let join = |session: u64| {
        let frame = join_frame(&id, &token);
        (
            session,
            up::Kind::Join(Join {
                frame,
                csrf_ok: true,
            }),
        )
    };

    for session in [1, 2] {
        let (session, kind) = join(session);
        link.send(session, kind).await;
        assert_eq!(link.next().await.1.unwrap()[4]["status"], "ok");
    }
    let (session, kind) = join(3);
    link.send(session, kind).await;
    let (got, reply) = link.next().await;
    assert_eq!(got, 3);
    assert_eq!(
        reply.unwrap()[4],
        json!({"status": "error", "response": {"reason": "overloaded"}})
    );
    assert_eq!(link.next().await, (3, None));
    assert_eq!(refused.load(std::sync::atomic::Ordering::Relaxed), 1);

    // A session that ends gives its place back.
    link.send(1, up::Kind::Leave(Leave::default())).await;
    assert_eq!(link.next().await, (1, None));
    let (session, kind) = join(4);
    link.send(session, kind).await;
    assert_eq!(link.next().await.1.unwrap()[4]["status"], "ok");
}
