//! Shared test harness: a fake view-node, a gateway on `127.0.0.1:0`, and raw clients.
//!
//! The view-node here is a test double: the real one lives in another crate (`cinder`,
//! in `view-node/`), and the end-to-end test through both comes with the demo. The
//! double answers deterministically and records every `Up` it gets, so a test can assert
//! exactly what crossed the link:
//!
//! - `Join` → `[jr, ref, topic, "phx_reply", {"status":"ok","response":{"rendered":
//!   {"0":"<node name>","s":["<p>","</p>"]},"liveview_version":"1.2.12"}}]`
//! - `Frame` → `[jr, ref, topic, "phx_reply", {"status":"ok","response":{"echo":
//!   "<event>","node":"<node name>"}}]`; a `phx_leave` gets `{}` and then `Closed`.
//! - `Render` → 200 with a JSON body describing the request it got.
//! - an event `allow_upload` with payload `{"entries":["0",…]}` → `UploadAllowed` for
//!   `lvu:0`, … then its reply, as a real view-node answers `allow_upload`.
//! - an `lvu:` join whose payload has `"refuse":true` → the error reply
//!   `{"reason":"invalid_token"}` then `UploadClosed`, as a real view-node refuses a
//!   forged token; an event `consume` on an `lvu:` topic → `phx_close` then
//!   `UploadClosed`, as when a view consumed the channel's entry.
//! - an event `flood` with payload `{"frames":N,"bytes":B}` → its reply, then N frames
//!   (`diff`) of about B bytes each on the same topic.
//! - [`FakeNode::pause`]: the node stops reading its links (until [`FakeNode::resume`]),
//!   as a node too busy to keep up.
//!
//! Each test file declares `mod support;`: a folder with `mod.rs` is not a test target.
#![allow(dead_code, reason = "each test file uses a part of the harness")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test harness: a failure here is a failed test"
)]

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use cinder_gateway::{Config, Links};
use cinder_proto::v1::view_node_server::{ViewNode, ViewNodeServer};
use cinder_proto::v1::{
    Closed, Down, Header, RenderRequest, RenderResponse, Up, UploadChannel, down, up,
};
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_stream::wrappers::ReceiverStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A safety net against a hung test: no step waits longer than this.
pub(crate) const STEP: Duration = Duration::from_secs(10);

/// The secret every test gateway signs with.
pub(crate) const SECRET: &[u8] = b"gateway test secret, 32 bytes min";

/// What the fake view-node saw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seen {
    Join {
        session: u64,
        frame: String,
        csrf_ok: bool,
    },
    Frame {
        session: u64,
        frame: String,
    },
    Binary {
        session: u64,
        bytes: Vec<u8>,
    },
    Leave {
        session: u64,
    },
    Render(RenderRequest),
    /// A link's up stream ended: `clean` when the gateway ended it, not a reset.
    LinkEnded {
        clean: bool,
    },
}

struct Node {
    name: String,
    seen: mpsc::UnboundedSender<Seen>,
    kill: watch::Receiver<bool>,
    paused: watch::Receiver<bool>,
}

/// A running fake view-node.
pub(crate) struct FakeNode {
    pub(crate) name: String,
    pub(crate) addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<Seen>,
    stop_accepting: Option<oneshot::Sender<()>>,
    accepting: Option<tokio::task::JoinHandle<()>>,
    kill: watch::Sender<bool>,
    paused: watch::Sender<bool>,
}

impl FakeNode {
    pub(crate) async fn start(name: &str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (seen_tx, seen) = mpsc::unbounded_channel();
        let (kill, kill_rx) = watch::channel(false);
        let (paused, paused_rx) = watch::channel(false);
        let (stop_accepting, mut stop_rx) = oneshot::channel();
        let (incoming_tx, incoming_rx) = mpsc::channel::<TcpStream>(16);
        // Our own accept loop, so `kill` can close the listener for sure before the
        // links end (the gateway's reconnect must then be refused).
        let accepting = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stop_rx => break,
                    accepted = listener.accept() => match accepted {
                        Ok((tcp, _)) => {
                            if incoming_tx.send(tcp).await.is_err() {
                                break;
                            }
                        }
                        Err(_) => break,
                    },
                }
            }
        });
        let node = Node {
            name: name.to_owned(),
            seen: seen_tx,
            kill: kill_rx,
            paused: paused_rx,
        };
        tokio::spawn(async move {
            let incoming = ReceiverStream::new(incoming_rx).map(Ok::<_, std::io::Error>);
            let _ = tonic::transport::Server::builder()
                .add_service(ViewNodeServer::new(node))
                .serve_with_incoming(incoming)
                .await;
        });
        Ok(Self {
            name: name.to_owned(),
            addr,
            seen,
            stop_accepting: Some(stop_accepting),
            accepting: Some(accepting),
            kill,
            paused,
        })
    }

    /// The address as the gateway is configured with it.
    pub(crate) fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// The next thing the node saw.
    pub(crate) async fn next(&mut self) -> anyhow::Result<Seen> {
        tokio::time::timeout(STEP, self.seen.recv())
            .await
            .context("the view-node saw nothing")?
            .ok_or_else(|| anyhow!("the view-node is gone"))
    }

    /// Stops reading the links: what the gateway sends waits in its queues.
    pub(crate) fn pause(&self) {
        self.paused.send_replace(true);
    }

    /// Reads the links again.
    pub(crate) fn resume(&self) {
        self.paused.send_replace(false);
    }

    /// Stops accepting connections, then ends every link stream: to the gateway the node
    /// is gone and stays gone.
    pub(crate) async fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop_accepting.take() {
            let _ = stop.send(());
        }
        if let Some(accepting) = self.accepting.take() {
            accepting.await?;
        }
        self.kill.send_replace(true);
        Ok(())
    }
}

type DownStream = Pin<Box<dyn futures_util::Stream<Item = Result<Down, tonic::Status>> + Send>>;

fn refs(frame: &str) -> anyhow::Result<(Value, Value, Value, String)> {
    let v: Value = serde_json::from_str(frame)?;
    let a = v.as_array().context("not an array")?;
    Ok((
        a[0].clone(),
        a[1].clone(),
        a[2].clone(),
        a[3].as_str().unwrap_or("").to_owned(),
    ))
}

/// `UploadClosed` for the channel `topic` joined with `join_ref` (both as JSON strings).
fn upload_closed(session: u64, topic: &Value, join_ref: &Value) -> Down {
    Down {
        session,
        kind: Some(down::Kind::UploadClosed(UploadChannel {
            topic: topic.as_str().unwrap().to_owned(),
            join_ref: join_ref.as_str().unwrap_or_default().to_owned(),
        })),
    }
}

fn frame_down(session: u64, value: Value) -> Down {
    Down {
        session,
        kind: Some(down::Kind::Frame(value.to_string().into_bytes())),
    }
}

#[tonic::async_trait]
impl ViewNode for Node {
    type LinkStream = DownStream;

    async fn link(
        &self,
        request: tonic::Request<tonic::Streaming<Up>>,
    ) -> Result<tonic::Response<Self::LinkStream>, tonic::Status> {
        let mut inbound = request.into_inner();
        let (tx, rx) = mpsc::channel::<Result<Down, tonic::Status>>(1024);
        let name = self.name.clone();
        let seen = self.seen.clone();
        let mut kill = self.kill.clone();
        let mut paused = self.paused.clone();
        tokio::spawn(async move {
            loop {
                let _ = paused.wait_for(|paused| !*paused).await;
                let up = tokio::select! {
                    _ = kill.wait_for(|k| *k) => break,
                    up = inbound.message() => match up {
                        Ok(Some(up)) => up,
                        ended => {
                            let _ = seen.send(Seen::LinkEnded { clean: ended.is_ok() });
                            break;
                        }
                    },
                };
                let session = up.session;
                let mut downs = Vec::new();
                match up.kind {
                    Some(up::Kind::Join(join)) => {
                        let frame = String::from_utf8(join.frame).unwrap();
                        let (jr, r, topic, _) = refs(&frame).unwrap();
                        downs.push(frame_down(
                            session,
                            serde_json::json!([jr, r, topic, "phx_reply", {"status": "ok", "response": {
                                "rendered": {"0": name, "s": ["<p>", "</p>"]},
                                "liveview_version": "1.2.12"}}]),
                        ));
                        let _ = seen.send(Seen::Join {
                            session,
                            frame,
                            csrf_ok: join.csrf_ok,
                        });
                    }
                    Some(up::Kind::Frame(bytes)) => {
                        let frame = String::from_utf8(bytes).unwrap();
                        let (jr, r, topic, event) = refs(&frame).unwrap();
                        let upload = topic.as_str().is_some_and(|t| t.starts_with("lvu:"));
                        let payload: Value =
                            serde_json::from_str::<Value>(&frame).unwrap()[4].clone();
                        // As a real view-node: leaving an upload channel ends only
                        // that channel, not the view's session.
                        if event == "phx_join" && upload && payload["refuse"] == true {
                            downs.push(frame_down(
                                session,
                                serde_json::json!([jr, r, topic, "phx_reply", {"status": "error", "response": {"reason": "invalid_token"}}]),
                            ));
                            downs.push(upload_closed(session, &topic, &jr));
                        } else if event == "allow_upload" {
                            for entry in payload["entries"].as_array().into_iter().flatten() {
                                let topic = format!("lvu:{}", entry.as_str().unwrap());
                                downs.push(Down {
                                    session,
                                    kind: Some(down::Kind::UploadAllowed(UploadChannel {
                                        topic,
                                        join_ref: String::new(),
                                    })),
                                });
                            }
                            downs.push(frame_down(
                                session,
                                serde_json::json!([jr, r, topic, "phx_reply", {"status": "ok", "response": {}}]),
                            ));
                        } else if event == "flood" {
                            downs.push(frame_down(
                                session,
                                serde_json::json!([jr, r, topic, "phx_reply", {"status": "ok", "response": {}}]),
                            ));
                            let count = payload["frames"].as_u64().unwrap_or(0);
                            let pad = "x".repeat(
                                usize::try_from(payload["bytes"].as_u64().unwrap_or(0)).unwrap(),
                            );
                            for _ in 0..count {
                                downs.push(frame_down(
                                    session,
                                    serde_json::json!([jr, null, topic, "diff", {"pad": pad}]),
                                ));
                            }
                        } else if event == "consume" && upload {
                            // Stands in for a view that consumed the channel's entry:
                            // the node closes the channel, as `cinder` does.
                            downs.push(frame_down(
                                session,
                                serde_json::json!([jr, jr, topic, "phx_close", {}]),
                            ));
                            downs.push(upload_closed(session, &topic, &jr));
                        } else if event == "phx_leave"
                            && !topic.as_str().is_some_and(|t| t.starts_with("lvu:"))
                        {
                            downs.push(frame_down(
                                session,
                                serde_json::json!([jr, r, topic, "phx_reply", {"status": "ok", "response": {}}]),
                            ));
                            downs.push(Down {
                                session,
                                kind: Some(down::Kind::Closed(Closed {
                                    reason: "leave".to_owned(),
                                })),
                            });
                        } else {
                            downs.push(frame_down(
                                session,
                                serde_json::json!([jr, r, topic, "phx_reply", {"status": "ok", "response": {
                                    "echo": event, "node": name}}]),
                            ));
                        }
                        let _ = seen.send(Seen::Frame { session, frame });
                    }
                    Some(up::Kind::Binary(bytes)) => {
                        let _ = seen.send(Seen::Binary { session, bytes });
                    }
                    Some(up::Kind::Leave(_)) => {
                        let _ = seen.send(Seen::Leave { session });
                    }
                    None => {}
                }
                for down in downs {
                    if tx.send(Ok(down)).await.is_err() {
                        return;
                    }
                }
            }
            // Dropping `tx` ends the stream: the gateway sees its link close.
        });
        Ok(tonic::Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn render(
        &self,
        request: tonic::Request<RenderRequest>,
    ) -> Result<tonic::Response<RenderResponse>, tonic::Status> {
        let request = request.into_inner();
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|h| h.name == name)
                .map(|h| h.value.clone())
        };
        let body = serde_json::json!({
            "node": self.name,
            "path": request.path,
            "view_id": request.view_id,
            "url": request.url,
            "csrf": header("x-cinder-csrf-token"),
            "cookie": header("cookie"),
            "user_agent": header("user-agent"),
        });
        let _ = self.seen.send(Seen::Render(request));
        Ok(tonic::Response::new(RenderResponse {
            status: 200,
            headers: vec![
                Header {
                    name: "content-type".to_owned(),
                    value: "application/json".to_owned(),
                },
                Header {
                    name: "x-node".to_owned(),
                    value: self.name.clone(),
                },
            ],
            body: body.to_string().into_bytes(),
        }))
    }
}

/// A config for a test gateway on `127.0.0.1:0` linked to `nodes`.
pub(crate) fn config(nodes: &[&FakeNode]) -> Config {
    Config::new(
        "127.0.0.1:0".parse().unwrap(),
        nodes.iter().map(|n| n.host_port()).collect(),
        SECRET.to_vec(),
    )
}

/// A running gateway.
pub(crate) struct TestGateway {
    pub(crate) addr: SocketAddr,
    pub(crate) links: Links,
}

/// Starts a gateway and waits until every configured link is up.
pub(crate) async fn start(config: Config) -> anyhow::Result<TestGateway> {
    let nodes = config.view_nodes.len();
    let gateway = cinder_gateway::bind(config).await?;
    let addr = gateway.local_addr();
    let mut links = gateway.links();
    tokio::spawn(gateway.serve(std::future::pending()));
    tokio::time::timeout(STEP, links.wait_until(|up| up == nodes))
        .await
        .context("links did not come up")?;
    Ok(TestGateway { addr, links })
}

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A raw WebSocket client speaking V2 frames.
pub(crate) struct Client {
    pub(crate) ws: Socket,
}

/// Connects to `/live/websocket` with `query` (without `vsn`, which is appended) and
/// extra headers.
pub(crate) async fn connect_with(
    addr: SocketAddr,
    query: &str,
    headers: &[(&str, &str)],
) -> Result<(Client, tungstenite::handshake::client::Response), tungstenite::Error> {
    let sep = if query.is_empty() { "" } else { "&" };
    let url = format!("ws://{addr}/live/websocket?{query}{sep}vsn=2.0.0");
    let mut request = url.into_client_request()?;
    for (name, value) in headers {
        request.headers_mut().append(
            tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    let (ws, response) = tokio_tungstenite::connect_async(request).await?;
    Ok((Client { ws }, response))
}

pub(crate) async fn connect(addr: SocketAddr) -> anyhow::Result<Client> {
    Ok(connect_with(addr, "", &[]).await?.0)
}

/// The HTTP status a refused upgrade got.
pub(crate) fn refused_status(error: &tungstenite::Error) -> Option<u16> {
    match error {
        tungstenite::Error::Http(response) => Some(response.status().as_u16()),
        _ => None,
    }
}

impl Client {
    pub(crate) async fn send(&mut self, text: &str) -> anyhow::Result<()> {
        self.ws.send(Message::text(text)).await?;
        Ok(())
    }

    pub(crate) async fn send_binary(&mut self, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.ws.send(Message::binary(bytes)).await?;
        Ok(())
    }

    async fn next_message(&mut self) -> anyhow::Result<Message> {
        loop {
            let message = tokio::time::timeout(STEP, self.ws.next())
                .await
                .context("nothing arrived")?
                .ok_or_else(|| anyhow!("the socket ended"))??;
            match message {
                Message::Ping(_) | Message::Pong(_) => continue,
                other => return Ok(other),
            }
        }
    }

    /// The next text frame, as a string.
    pub(crate) async fn recv(&mut self) -> anyhow::Result<String> {
        match self.next_message().await? {
            Message::Text(text) => Ok(text.to_string()),
            other => bail!("expected a text frame, got {other:?}"),
        }
    }

    /// The next text frame, as JSON.
    pub(crate) async fn recv_json(&mut self) -> anyhow::Result<Value> {
        Ok(serde_json::from_str(&self.recv().await?)?)
    }

    /// Reads until the server's close frame; returns its code and reason.
    pub(crate) async fn recv_close(&mut self) -> anyhow::Result<(u16, String)> {
        Ok(self.recv_until_close().await?.1)
    }

    /// Reads until the server's close frame; returns the text frames before it, and the
    /// close code and reason.
    pub(crate) async fn recv_until_close(
        &mut self,
    ) -> anyhow::Result<(Vec<String>, (u16, String))> {
        let mut texts = Vec::new();
        loop {
            match self.next_message().await? {
                Message::Close(Some(CloseFrame { code, reason })) => {
                    return Ok((texts, (u16::from(code), reason.to_string())));
                }
                Message::Close(None) => bail!("close frame without a code"),
                Message::Text(text) => texts.push(text.to_string()),
                _ => continue,
            }
        }
    }

    /// Joins `lv:<id>` with join_ref = ref = `join_ref`; returns the reply.
    pub(crate) async fn join(&mut self, id: &str, join_ref: &str) -> anyhow::Result<Value> {
        self.send(&join_frame(id, join_ref)).await?;
        self.recv_json().await
    }
}

/// A `phx_join` frame as the official client sends it.
pub(crate) fn join_frame(id: &str, join_ref: &str) -> String {
    format!(
        r#"["{join_ref}","{join_ref}","lv:{id}","phx_join",{{"url":"http://localhost/","params":{{"_csrf_token":"x","_mounts":0}},"session":"S","static":null,"sticky":false}}]"#
    )
}

/// An HTTP answer.
#[derive(Debug)]
pub(crate) struct HttpReply {
    pub(crate) status: u16,
    pub(crate) headers: hyper::HeaderMap,
    pub(crate) body: Bytes,
}

impl HttpReply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request on a fresh connection.
pub(crate) async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<HttpReply> {
    http_on(TcpStream::connect(addr).await?, addr, method, path, headers).await
}

/// A TCP connection to `addr` from `local`, one of the loopback addresses
/// (127.0.0.0/8): a test's way to be another client address.
pub(crate) async fn tcp_from(local: [u8; 4], addr: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((local, 0)))?;
    Ok(socket.connect(addr).await?)
}

/// [`http`] from the loopback address `local`.
pub(crate) async fn http_from(
    local: [u8; 4],
    addr: SocketAddr,
    path: &str,
) -> anyhow::Result<HttpReply> {
    http_on(tcp_from(local, addr).await?, addr, "GET", path, &[]).await
}

/// [`connect`] from the loopback address `local`.
pub(crate) async fn connect_from(local: [u8; 4], addr: SocketAddr) -> anyhow::Result<Client> {
    let tcp = tcp_from(local, addr).await?;
    let request = format!("ws://{addr}/live/websocket?vsn=2.0.0").into_client_request()?;
    let (ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp)).await?;
    Ok(Client { ws })
}

/// One HTTP/1.1 request on `tcp`, a fresh connection to `addr`.
async fn http_on(
    tcp: TcpStream,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<HttpReply> {
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = tokio::time::timeout(
        STEP,
        sender.send_request(request.body(Empty::<Bytes>::new())?),
    )
    .await
    .context("no HTTP answer")??;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(HttpReply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

pub(crate) async fn get(addr: SocketAddr, path: &str) -> anyhow::Result<HttpReply> {
    http(addr, "GET", path, &[]).await
}

/// A client binary push (an upload chunk): kind 0, four lengths, the fields, the bytes.
pub(crate) fn binary_push(
    join_ref: &str,
    msg_ref: &str,
    topic: &str,
    event: &str,
    payload: &[u8],
) -> Vec<u8> {
    let mut frame = vec![0];
    for field in [join_ref, msg_ref, topic, event] {
        frame.push(u8::try_from(field.len()).unwrap_or(u8::MAX));
    }
    for field in [join_ref, msg_ref, topic, event] {
        frame.extend_from_slice(field.as_bytes());
    }
    frame.extend_from_slice(payload);
    frame
}

/// The status of the HTTP response read from `tcp` (its first line), or `None` if the
/// gateway closed the connection without one. Fails if nothing comes within [`STEP`].
pub(crate) async fn read_status(tcp: &mut TcpStream) -> anyhow::Result<Option<u16>> {
    use tokio::io::AsyncReadExt as _;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        match tokio::time::timeout(STEP, tcp.read(&mut byte))
            .await
            .context("neither an answer nor a close")?
        {
            Ok(0) | Err(_) => return Ok(None),
            Ok(_) => head.push(byte[0]),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let status = line.split(' ').nth(1).context("no status")?.parse()?;
    Ok(Some(status))
}

/// The `cinder-gateway` binary running as a child process, for what needs a process:
/// signals, flags, variables, the exit.
pub(crate) struct GatewayProcess {
    /// Where it listens, from its `gateway listening on http://<addr>` line.
    pub(crate) addr: SocketAddr,
    pid: u32,
    exited: Option<oneshot::Receiver<std::process::ExitStatus>>,
}

impl GatewayProcess {
    /// Starts the binary with `args` and the variables `envs` (the test secret in
    /// `CINDER_SECRET` unless `envs` sets it) and waits for its listening line.
    pub(crate) async fn start(args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<Self> {
        use std::io::BufRead as _;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cinder-gateway"));
        command
            .args(args)
            .env("CINDER_SECRET", std::str::from_utf8(SECRET)?)
            .envs(envs.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped());
        let mut child = command.spawn()?;
        let pid = child.id();
        let stdout = child.stdout.take().context("no stdout")?;
        let (line_tx, line) = oneshot::channel();
        let (exit_tx, exited) = oneshot::channel();
        // Threads, not tasks: the reads and the wait block.
        std::thread::spawn(move || {
            let mut lines = std::io::BufReader::new(stdout).lines();
            let _ = line_tx.send(lines.next());
            for _ in lines {}
        });
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = exit_tx.send(status);
            }
        });
        let mut process = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            pid,
            exited: Some(exited),
        };
        let line = tokio::time::timeout(STEP, line)
            .await
            .context("the gateway did not announce itself")?
            .context("the gateway's stdout closed")?
            .context("the gateway printed nothing")??;
        let addr = line
            .strip_prefix("gateway listening on http://")
            .with_context(|| format!("unexpected line {line:?}"))?;
        process.addr = addr.parse()?;
        Ok(process)
    }

    /// Sends the signal `name` (`TERM`, `INT`).
    pub(crate) fn signal(&self, name: &str) -> anyhow::Result<()> {
        let status = std::process::Command::new("kill")
            .args([format!("-{name}"), self.pid.to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -{name} failed");
        Ok(())
    }

    /// Waits up to `within` for the process to exit.
    pub(crate) async fn exit_within(
        &mut self,
        within: Duration,
    ) -> anyhow::Result<std::process::ExitStatus> {
        let exited = self.exited.as_mut().context("already exited")?;
        let status = tokio::time::timeout(within, exited)
            .await
            .with_context(|| format!("the gateway still runs after {within:?}"))?
            .context("the wait failed")?;
        // Exited: nothing left for the drop to kill.
        self.exited = None;
        Ok(status)
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        if self.exited.is_some() {
            let _ = self.signal("KILL");
        }
    }
}

/// GETs `path` until `ready(answer)` holds, for up to [`STEP`]; returns that answer.
pub(crate) async fn get_until(
    addr: SocketAddr,
    path: &str,
    mut ready: impl FnMut(&HttpReply) -> bool,
) -> anyhow::Result<HttpReply> {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let reply = get(addr, path).await?;
        if ready(&reply) {
            return Ok(reply);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "{path} stayed {} {:?}",
            reply.status,
            reply.text()
        );
        tokio::task::yield_now().await;
    }
}
