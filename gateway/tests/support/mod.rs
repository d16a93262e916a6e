//! Shared test harness: a gateway on `127.0.0.1:0`, raw clients, and the fake
//! view-node of `cinder-test-support` (see its `fake_node` module for what it answers).
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
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use cinder_gateway::{Config, Links};
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

#[allow(unused_imports, reason = "each test file uses a part of the harness")]
pub(crate) use cinder_test_support::fake_node::{FakeNode, STEP, Seen};

/// The secret every test gateway signs with.
pub(crate) const SECRET: &[u8] = b"gateway test secret, 32 bytes min";

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
    /// Joins `lv:<id>` with join ref `1` and returns the session key `node` saw for
    /// it.
    pub(crate) async fn join_seen(&mut self, node: &mut FakeNode, id: &str) -> anyhow::Result<u64> {
        self.join(id, "1").await?;
        match node.next().await? {
            Seen::Join { session, .. } => Ok(session),
            other => bail!("expected the join of {id}, the node saw {other:?}"),
        }
    }

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
