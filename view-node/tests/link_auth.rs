//! The link credential on a real view-node over gRPC on 127.0.0.1:0: every `ViewNode`
//! call (`Link`, `Render`) without the cluster's link token, with one of another
//! secret or with a stale one is refused `UNAUTHENTICATED` before it reaches the node; a
//! gateway's token passes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cinder::router::Router;
use cinder::{Assigns, LiveView, Mount, Rendered, Result, Tracked, html};
use cinder_proto::credential::{LinkKey, MAX_SKEW, METADATA_KEY};
use cinder_proto::v1::view_node_client::ViewNodeClient;
use cinder_proto::v1::{Join, RenderRequest, Up, up};
use cinder_view_node::Server;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

const SECRET: &[u8] = b"link auth test secret of 32 bytes";

#[derive(Assigns)]
struct Page {}

impl LiveView for Page {
    type Info = ();

    fn mount(_cx: &mut Mount<'_, Self>) -> Result<Self> {
        Ok(Page {})
    }

    fn render(_assigns: &Tracked<Self>) -> Rendered<'_> {
        html!("<p>inside</p>")
    }
}

async fn start() -> SocketAddr {
    let router: Router = Router::new(SECRET).live::<Page>("/page");
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), router)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.serve(std::future::pending()));
    addr
}

/// A raw client: no interceptor, so no token unless a test adds one.
async fn raw(addr: SocketAddr) -> ViewNodeClient<Channel> {
    ViewNodeClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

fn render_request() -> RenderRequest {
    RenderRequest {
        path: "/page".to_owned(),
        view_id: "phx-linkauthtest0001".to_owned(),
        ..RenderRequest::default()
    }
}

fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert(METADATA_KEY, token.parse().unwrap());
    request
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn assert_refused<T: std::fmt::Debug>(outcome: std::result::Result<T, Status>) {
    let status = outcome.expect_err("the call should be refused");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
}

/// A join with `csrf_ok` set, as only a gateway may send it.
fn join() -> Up {
    Up {
        session: 1,
        kind: Some(up::Kind::Join(Join {
            frame: br#"[null,"1","lv:phx-x","phx_join",{}]"#.to_vec(),
            csrf_ok: true,
        })),
        ..Up::default()
    }
}

#[tokio::test]
async fn a_client_without_the_link_token_is_refused_on_every_call() {
    let addr = start().await;
    let mut client = raw(addr).await;

    assert_refused(client.render(render_request()).await);
    let (up, queue) = tokio::sync::mpsc::channel(1);
    up.send(join()).await.unwrap();
    assert_refused(client.link(ReceiverStream::new(queue)).await);
}

#[tokio::test]
async fn a_token_of_another_secret_is_refused() {
    let addr = start().await;
    let other = LinkKey::derive(b"another cluster's secret, 32 bytes");
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = ViewNodeClient::with_interceptor(channel, other.credential());

    assert_refused(client.render(render_request()).await);
}

#[tokio::test]
async fn a_stale_or_garbled_token_is_refused() {
    let addr = start().await;
    let key = LinkKey::derive(SECRET);
    let mut client = raw(addr).await;
    let stale = key.token(now() - MAX_SKEW.as_secs() - 60);
    let garbled = format!("{}x", key.token(now()));

    assert_refused(client.render(with_token(render_request(), &stale)).await);
    assert_refused(client.render(with_token(render_request(), &garbled)).await);
}

#[tokio::test]
async fn the_clusters_token_is_served() {
    let addr = start().await;
    let key = LinkKey::derive(SECRET);
    let mut client = raw(addr).await;

    let response = tokio::time::timeout(
        Duration::from_secs(5),
        client.render(with_token(render_request(), &key.token(now()))),
    )
    .await
    .unwrap()
    .unwrap()
    .into_inner();
    assert_eq!(response.status, 200);
    assert!(String::from_utf8_lossy(&response.body).contains("inside"));
}
