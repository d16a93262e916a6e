//! A whole cluster as real processes on loopback: `redis-server`, `cinder-demo
//! view-node`s and `cinder-gateway`s, started from the built binaries, killed (SIGKILL)
//! when dropped. Partitions use `cinder_test_support::proxy::Proxy`.
#![allow(dead_code, reason = "each test file uses a part of the support")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    reason = "test support: a failure here is a failed test"
)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use cinder_protocol_client::{Client, Page, Status, View};

#[allow(unused_imports, reason = "not every test file cuts links")]
pub use cinder_test_support::proxy::Proxy;
pub use cinder_test_support::redis::RedisServer;

/// No step of a test waits longer than this.
pub const STEP: Duration = Duration::from_secs(20);

/// The secret every process of the test cluster shares.
const SECRET: &str = "cluster test secret, 32 bytes long";
/// The topics API token of every view-node.
pub const API_TOKEN: &str = "cluster test api token";

/// Presence timing of the test cluster: a broadcast every 100 ms, a silent node's
/// presences gone after 2 s.
pub const PRESENCE_PERIOD_MS: u64 = 100;
/// See [`PRESENCE_PERIOD_MS`].
pub const PRESENCE_DOWN_MS: u64 = 2_000;

/// One child process, SIGKILLed on drop.
#[derive(Debug)]
pub struct Process {
    pub name: String,
    pub addr: SocketAddr,
    child: Option<Child>,
}

/// Processes of this test still running.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
/// The test's panic message, repeated once the last process is gone: the processes'
/// shutdown logs and the backtrace would otherwise bury it.
static FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// Keeps the panic message for [`Process`]'s drop to repeat.
fn keep_panic_messages() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let print = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| {
                    info.payload()
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                });
            *FAILURE
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = message;
            print(info);
        }));
    });
}

impl Process {
    /// Starts `binary` with `args` and `env` and waits for the stdout line
    /// `<prefix><addr>`.
    fn start(
        name: &str,
        binary: &std::path::Path,
        args: &[String],
        env: &[(&str, &str)],
        prefix: &str,
    ) -> Process {
        keep_panic_messages();
        let mut child = Command::new(binary)
            .args(args)
            .envs(env.iter().copied())
            .env("CINDER_SECRET", SECRET)
            .env("CINDER_API_TOKEN", API_TOKEN)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let prefix = prefix.to_owned();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix(&prefix) {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(STEP)
            .unwrap_or_else(|_| panic!("{name} did not announce its address"));
        RUNNING.fetch_add(1, Ordering::SeqCst);
        Process {
            name: name.to_owned(),
            addr: addr.parse().unwrap(),
            child: Some(child),
        }
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            self.stopped();
        }
    }

    /// Counts this process out; the last one out of a failed test repeats its panic.
    fn stopped(&self) {
        if RUNNING.fetch_sub(1, Ordering::SeqCst) == 1
            && std::thread::panicking()
            && let Some(message) = FAILURE.lock().ok().and_then(|mut m| m.take())
        {
            eprintln!("the test failed: {message}");
        }
    }

    /// SIGTERM (a drain), and wait for the process to exit.
    pub fn terminate(&mut self) {
        self.sigterm();
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
            self.stopped();
        }
    }

    /// SIGTERM (a drain), without waiting.
    pub fn sigterm(&self) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A built binary of the workspace: next to this test's own `cinder-demo`.
fn binary(name: &str) -> PathBuf {
    let demo = PathBuf::from(env!("CARGO_BIN_EXE_cinder-demo"));
    let path = demo.with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p cinder-gateway`",
        path.display()
    );
    path
}

/// A view-node named `name`, reaching Redis at `redis`.
pub fn view_node(name: &str, redis: &str) -> Process {
    view_node_with(name, redis, &[])
}

/// [`view_node`] with more environment variables.
pub fn view_node_with(name: &str, redis: &str, env: &[(&str, &str)]) -> Process {
    view_node_args(name, redis, &[], env)
}

/// [`view_node`] with more flags and environment variables.
pub fn view_node_args(name: &str, redis: &str, flags: &[&str], env: &[(&str, &str)]) -> Process {
    let mut args: Vec<String> = [
        "view-node",
        "--listen",
        "127.0.0.1:0",
        "--redis",
        redis,
        "--name",
        name,
        "--presence-period-ms",
        &PRESENCE_PERIOD_MS.to_string(),
        "--presence-down-ms",
        &PRESENCE_DOWN_MS.to_string(),
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(flags.iter().map(|flag| (*flag).to_owned()));
    Process::start(
        name,
        &binary("cinder-demo"),
        &args,
        env,
        "view-node listening on ",
    )
}

/// A gateway that finds its view-nodes in Redis.
pub fn gateway(name: &str, redis: &str) -> Process {
    gateway_with(name, redis, &[])
}

/// [`gateway`] with more environment variables.
pub fn gateway_with(name: &str, redis: &str, env: &[(&str, &str)]) -> Process {
    gateway_args(name, redis, &[], env)
}

/// [`gateway`] with more flags and environment variables.
pub fn gateway_args(name: &str, redis: &str, flags: &[&str], env: &[(&str, &str)]) -> Process {
    let assets = concat!(env!("CARGO_MANIFEST_DIR"), "/../client");
    let mut args: Vec<String> = [
        "--listen",
        "127.0.0.1:0",
        "--redis",
        redis,
        "--assets",
        assets,
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(flags.iter().map(|flag| (*flag).to_owned()));
    Process::start(
        name,
        &binary("cinder-gateway"),
        &args,
        env,
        "gateway listening on http://",
    )
}

/// Polls `condition` until it holds, for at most `limit`.
pub fn eventually(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A plain `GET` of `path` on `addr`: the status and the body.
pub fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    http(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

/// A `POST` of `body` to `path` on `addr` with `Authorization: Bearer <token>`.
pub fn post(addr: SocketAddr, path: &str, token: &str, body: &str) -> (u16, String) {
    let len = body.len();
    http(
        addr,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
             Content-Length: {len}\r\n\r\n{body}"
        ),
    )
}

/// Sends one raw HTTP/1.1 request: the status and the body.
fn http(addr: SocketAddr, request: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return (0, String::new());
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Waits until `gateway` has a link up to `count` view-nodes.
pub fn wait_links(gateway: &Process, count: usize) {
    let want = format!("cinder_gateway_links_up {count}");
    let deadline = Instant::now() + STEP;
    loop {
        let (status, metrics) = get(gateway.addr, "/metrics");
        if metrics.lines().any(|l| l == want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} did not link {count} nodes; /metrics answered {status}: {:?}",
            gateway.name,
            metrics
                .lines()
                .find(|l| l.starts_with("cinder_gateway_links_up"))
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The view-node that rendered a chat page (the demo shows it in `#node`).
pub fn served_by(html: &str) -> String {
    let start = html.find(r#"id="node">"#).expect("the page names its node") + 10;
    html[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A chat page of `room` for `user` through `gateway`, joined over a socket.
pub struct Chatter {
    pub page: Page,
    pub client: Client,
    pub view: View,
}

impl Chatter {
    pub async fn open(gateway: &Process, room: &str, user: &str) -> Chatter {
        let page = Page::fetch(&format!("http://{}/chat/{room}?user={user}", gateway.addr))
            .await
            .unwrap();
        Self::join(page).await
    }

    /// Opens pages until one is served by a node other than `avoid`'s.
    pub async fn open_away_from(
        gateway: &Process,
        room: &str,
        user: &str,
        avoid: &[&str],
    ) -> Chatter {
        for _ in 0..64 {
            let page = Page::fetch(&format!("http://{}/chat/{room}?user={user}", gateway.addr))
                .await
                .unwrap();
            if !avoid.contains(&served_by(&page.html).as_str()) {
                return Self::join(page).await;
            }
        }
        panic!("every page of {user} landed on {avoid:?}");
    }

    /// Opens pages until one is served by `node`.
    pub async fn open_on(gateway: &Process, room: &str, user: &str, node: &str) -> Chatter {
        for _ in 0..64 {
            let page = Page::fetch(&format!("http://{}/chat/{room}?user={user}", gateway.addr))
                .await
                .unwrap();
            if served_by(&page.html) == node {
                return Self::join(page).await;
            }
        }
        panic!("no page of {user} landed on {node}");
    }

    /// Waits until the server reported this view crashed (`phx_error`).
    pub async fn wait_errored(&self) {
        let deadline = Instant::now() + STEP;
        while self.view.status() != Status::Crashed {
            assert!(
                Instant::now() < deadline,
                "no phx_error; status {:?}",
                self.view.status()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Rejoins the same page over the same socket, as the browser does after
    /// `phx_error`.
    pub async fn rejoin(self) -> Chatter {
        let view = self.page.join(&self.client).await.unwrap();
        Chatter { view, ..self }
    }

    async fn join(page: Page) -> Chatter {
        let client = page.connect().await.unwrap();
        client.start_heartbeat(Duration::from_secs(1));
        let view = page.join(&client).await.unwrap();
        Chatter { page, client, view }
    }

    /// The node serving this chatter now.
    pub fn node(&self) -> String {
        served_by(&self.view.html())
    }

    /// Sends `body` to the room.
    pub async fn say(&self, body: &str) {
        let reply = self
            .view
            .submit("send", &format!("body={body}"))
            .await
            .unwrap();
        assert!(reply.is_ok(), "send refused: {reply:?}");
    }

    /// Waits until the view's HTML satisfies `predicate`.
    pub async fn wait_html(&self, what: &str, predicate: impl FnMut(&str) -> bool) -> String {
        match self.view.wait_for_within(STEP, predicate).await {
            Ok(html) => html,
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    }

    /// Waits until a stream render brought a message reading `line`.
    pub async fn wait_message(&self, line: &str) {
        let deadline = Instant::now() + STEP;
        let mut seen = Vec::new();
        loop {
            seen.extend(self.view.take_stream_patches());
            if seen.iter().any(|p| p.html.contains(line)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for the message {line:?}"
            );
            let _ = tokio::time::timeout(Duration::from_millis(50), self.view.wait_for(|_| false))
                .await;
        }
    }

    /// Waits until `#online` lists exactly `users`.
    pub async fn wait_online(&self, users: &[&str]) {
        let wanted = online_html(users);
        self.wait_html(&format!("online = {users:?}"), |html| {
            online_of(html) == wanted
        })
        .await;
    }
}

/// The `<ul id="online">` element of a chat page.
pub fn online_of(html: &str) -> String {
    let Some(start) = html.find(r#"<ul id="online">"#) else {
        return String::new();
    };
    let rest = &html[start..];
    let end = rest.find("</ul>").map_or(rest.len(), |e| e + 5);
    rest[..end].split_whitespace().collect()
}

/// What `#online` holds for `users` (sorted), without whitespace.
fn online_html(users: &[&str]) -> String {
    let mut users = users.to_vec();
    users.sort_unstable();
    let items: String = users
        .iter()
        .map(|u| format!(r#"<liid="online-{u}">{u}</li>"#))
        .collect();
    format!(r#"<ulid="online">{items}</ul>"#)
}
