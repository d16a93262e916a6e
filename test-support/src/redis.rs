//! The Redis harness (feature `redis`): real `redis-server` processes on free loopback
//! ports, a raw RESP client to inspect and drive them, and an inbox that records what
//! subscribers got. Used by the tests of pubsub, presence, the gateway and the demo.
//!
//! - [`RedisServer`] picks a port by binding `127.0.0.1:0` and releasing it, starts
//!   `redis-server --port P --save '' --appendonly no`, retries on a port race, waits
//!   for `PING` to answer from its own process (`INFO server`'s `process_id`: a
//!   server another test started on the same port must not be shared), and is killed
//!   (SIGKILL) when dropped, also on a failed test.
//! - [`RedisServer::start_with_acl`] starts one that only an ACL user with a password may
//!   use (`default` is off): its [`RedisServer::url`] carries the credentials.
//! - [`RedisServer::start_with_tls`] also listens for TLS on a second port, with a
//!   certificate for `localhost` signed by a test CA (made with the `openssl` command);
//!   [`RedisServer::tls_url`] is the `rediss://` URL, and the harness keeps the plain port.
//! - [`RedisServer::command`] speaks RESP over a fresh TCP connection: what an outside
//!   service publishing into Cinder would do, and how tests read `PUBSUB NUMSUB`.
//! - [`Inbox`] is a subscriber: a [`Sink`] and a [`GapSink`] that record into a channel
//!   the test awaits (with a deadline), never sleeping to synchronise.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use cinder_pubsub::{Delivery, Gap, GapCause, GapSink, Redis, RedisConfig, Sink, Value};
use tokio::sync::mpsc;

/// A safety net against a hung test: no step waits longer than this.
pub const STEP: Duration = Duration::from_secs(10);

/// A `redis-server` child process on a loopback port.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    /// The ACL user and password every connection must `AUTH` with, if any.
    auth: Option<(String, String)>,
    /// The TLS port, and the folder holding `ca.pem`, `server.pem` and `server.key`.
    tls: Option<(u16, PathBuf)>,
}

/// A RESP reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Resp {
    /// `+OK`
    Simple(String),
    /// `-ERR …`
    Error(String),
    /// `:1`
    Int(i64),
    /// `$3 foo`, or `$-1` (none).
    Bulk(Option<Vec<u8>>),
    /// `*2 …`, or `*-1` (none).
    Array(Option<Vec<Resp>>),
}

impl RedisServer {
    /// Starts a server on a free port.
    pub fn start() -> anyhow::Result<Self> {
        let mut last = None;
        // Another process may take the port between our probe and redis-server's bind.
        for _ in 0..5 {
            let port = free_port()?;
            match Self::start_on(port) {
                Ok(server) => return Ok(server),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| anyhow!("no attempt made")))
    }

    /// Starts a server on a free port that only `user` with `password` may use: the
    /// `default` user is off, so a connection that does not authenticate is refused.
    pub fn start_with_acl(user: &str, password: &str) -> anyhow::Result<Self> {
        let auth = Some((user.to_owned(), password.to_owned()));
        let mut last = None;
        for _ in 0..5 {
            let port = free_port()?;
            match Self::spawn_on(port, auth.clone()) {
                Ok(server) => return Ok(server),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| anyhow!("no attempt made")))
    }

    /// Starts a server on a free port that also serves TLS on another one: a certificate
    /// for `localhost` and `127.0.0.1`, signed by a CA made for it in `dir`
    /// (`dir/ca.pem`: what clients must trust). Clients need no certificate.
    pub fn start_with_tls(dir: &Path) -> anyhow::Result<Self> {
        make_certificates(dir)?;
        let mut last = None;
        for _ in 0..5 {
            let tls = Some((free_port()?, dir.to_owned()));
            match Self::spawn(free_port()?, None, tls, &[]) {
                Ok(server) => return Ok(server),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| anyhow!("no attempt made")))
    }

    /// `rediss://localhost:<tls port>`, for a server started with TLS.
    pub fn tls_url(&self) -> Option<String> {
        let (port, _) = self.tls.as_ref()?;
        Some(format!("rediss://localhost:{port}"))
    }

    /// Starts a server on `port`, waiting until it answers `PING`.
    pub fn start_on(port: u16) -> anyhow::Result<Self> {
        Self::spawn_on(port, None)
    }

    fn spawn_on(port: u16, auth: Option<(String, String)>) -> anyhow::Result<Self> {
        Self::spawn(port, auth, None, &[])
    }

    /// Starts a server on a free port with `args` added to its command line (a cluster
    /// member's settings).
    pub(crate) fn start_with_args(args: &[String]) -> anyhow::Result<Self> {
        let mut last = None;
        for _ in 0..5 {
            match Self::spawn(free_port()?, None, None, args) {
                Ok(server) => return Ok(server),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| anyhow!("no port")))
    }

    fn spawn(
        port: u16,
        auth: Option<(String, String)>,
        tls: Option<(u16, PathBuf)>,
        extra: &[String],
    ) -> anyhow::Result<Self> {
        let mut command = Command::new("redis-server");
        command.args(extra);
        if let Some((tls_port, dir)) = &tls {
            command
                .args(["--tls-port", &tls_port.to_string()])
                .arg("--tls-cert-file")
                .arg(dir.join("server.pem"))
                .arg("--tls-key-file")
                .arg(dir.join("server.key"))
                .arg("--tls-ca-cert-file")
                .arg(dir.join("ca.pem"))
                .args(["--tls-auth-clients", "no"]);
        }
        if let Some((user, password)) = &auth {
            // Each word its own argument: redis-server quotes an argument with spaces.
            command
                .args([
                    "--user",
                    user,
                    "on",
                    &format!(">{password}"),
                    "~*",
                    "&*",
                    "+@all",
                ])
                .args(["--user", "default", "off"]);
        }
        let child = command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("spawning redis-server (apt-get install redis-server)")?;
        let mut server = RedisServer {
            port,
            child: Some(child),
            auth,
            tls,
        };
        server.wait_ready()?;
        Ok(server)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`, with `user:password@` for a server with an ACL user.
    pub fn url(&self) -> String {
        match &self.auth {
            Some((user, password)) => format!("redis://{user}:{password}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// SIGKILL, and wait for the process to be gone (its port closed).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server and starts a fresh one (empty, no subscriptions) on the same port.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        let started = Instant::now();
        loop {
            match Self::spawn(self.port, self.auth.clone(), self.tls.clone(), &[]) {
                Ok(mut fresh) => {
                    self.child = fresh.child.take();
                    return Ok(());
                }
                // The old socket may linger for a moment.
                Err(error) if started.elapsed() < STEP => {
                    eprintln!("restart on {} failed, retrying: {error:#}", self.port);
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Runs one command on a fresh connection.
    pub fn command(&self, args: &[&[u8]]) -> anyhow::Result<Resp> {
        let stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(STEP))?;
        let mut writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        if let Some((user, password)) = &self.auth {
            writer.write_all(&encode(&[b"AUTH", user.as_bytes(), password.as_bytes()]))?;
            let reply = read(&mut reader)?;
            if reply != Resp::Simple("OK".to_owned()) {
                bail!("AUTH refused: {reply:?}");
            }
        }
        writer.write_all(&encode(args))?;
        read(&mut reader)
    }

    /// How many connections are subscribed to `channel` (`PUBSUB NUMSUB`).
    pub fn numsub(&self, channel: &str) -> anyhow::Result<i64> {
        match self.command(&[b"PUBSUB", b"NUMSUB", channel.as_bytes()])? {
            Resp::Array(Some(items)) => match items.as_slice() {
                [_, Resp::Int(n)] => Ok(*n),
                other => bail!("unexpected NUMSUB reply {other:?}"),
            },
            other => bail!("unexpected NUMSUB reply {other:?}"),
        }
    }

    /// The active channels matching `pattern` (`PUBSUB CHANNELS`), sorted.
    pub fn channels(&self, pattern: &str) -> anyhow::Result<Vec<String>> {
        let Resp::Array(Some(items)) =
            self.command(&[b"PUBSUB", b"CHANNELS", pattern.as_bytes()])?
        else {
            bail!("unexpected CHANNELS reply");
        };
        let mut names = items
            .into_iter()
            .map(|item| match item {
                Resp::Bulk(Some(name)) => Ok(String::from_utf8(name)?),
                other => bail!("unexpected channel {other:?}"),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        names.sort();
        Ok(names)
    }

    /// `PUBLISH channel payload`, as a service outside Cinder would; returns the number of
    /// receiving connections.
    pub fn publish(&self, channel: &str, payload: &[u8]) -> anyhow::Result<i64> {
        match self.command(&[b"PUBLISH", channel.as_bytes(), payload])? {
            Resp::Int(n) => Ok(n),
            other => bail!("unexpected PUBLISH reply {other:?}"),
        }
    }

    /// Many `PUBLISH`es written in one go (a pipeline), as a bursty outside publisher.
    pub fn publish_burst(&self, channel: &str, payloads: &[Vec<u8>]) -> anyhow::Result<()> {
        let stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(STEP))?;
        let mut writer = stream.try_clone()?;
        let commands: Vec<u8> = payloads
            .iter()
            .flat_map(|p| encode(&[b"PUBLISH", channel.as_bytes(), p]))
            .collect();
        writer.write_all(&commands)?;
        let mut reader = BufReader::new(stream);
        for _ in payloads {
            read(&mut reader)?;
        }
        Ok(())
    }

    /// `INFO <section>` as text.
    pub fn info(&self, section: &str) -> anyhow::Result<String> {
        match self.command(&[b"INFO", section.as_bytes()])? {
            Resp::Bulk(Some(text)) => Ok(String::from_utf8(text)?),
            other => bail!("unexpected INFO reply {other:?}"),
        }
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("redis-server on port {} exited: {status}", self.port);
            }
            // Another test's server may hold the port (ours then exits with a bind
            // error): only our own process counts as ready.
            if let Ok(Resp::Simple(pong)) = self.command(&[b"PING"])
                && pong == "PONG"
                && self.answered_by_our_child()
            {
                return Ok(());
            }
            if started.elapsed() > STEP {
                bail!("redis-server on port {} never answered PING", self.port);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl RedisServer {
    /// Whether the server on our port is our child process (`INFO server`'s
    /// `process_id`).
    fn answered_by_our_child(&self) -> bool {
        let Some(pid) = self.child.as_ref().map(Child::id) else {
            return false;
        };
        self.info("server").is_ok_and(|info| {
            info.lines()
                .any(|line| line.trim() == format!("process_id:{pid}"))
        })
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A test CA (`ca.pem`) and a certificate it signed for `localhost` and `127.0.0.1`
/// (`server.pem`, `server.key`) in `dir`, made with the `openssl` command.
pub fn make_certificates(dir: &Path) -> anyhow::Result<()> {
    let openssl = |args: &[&str]| -> anyhow::Result<()> {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .context("running openssl")?;
        if !output.status.success() {
            bail!(
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    };
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )?;
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=cinder test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ])?;
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ])?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ])
}

/// A port nothing listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn read(reader: &mut BufReader<TcpStream>) -> anyhow::Result<Resp> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let line = line
        .strip_suffix("\r\n")
        .ok_or_else(|| anyhow!("truncated reply {line:?}"))?;
    let (kind, rest) = line.split_at(1);
    Ok(match kind {
        "+" => Resp::Simple(rest.to_owned()),
        "-" => Resp::Error(rest.to_owned()),
        ":" => Resp::Int(rest.parse()?),
        "$" => {
            let len: i64 = rest.parse()?;
            if len < 0 {
                Resp::Bulk(None)
            } else {
                let mut body = vec![0; usize::try_from(len)? + 2];
                reader.read_exact(&mut body)?;
                body.truncate(body.len() - 2);
                Resp::Bulk(Some(body))
            }
        }
        "*" => {
            let len: i64 = rest.parse()?;
            if len < 0 {
                Resp::Array(None)
            } else {
                let items = (0..len)
                    .map(|_| read(reader))
                    .collect::<anyhow::Result<_>>()?;
                Resp::Array(Some(items))
            }
        }
        other => bail!("unknown reply type {other:?}"),
    })
}

/// The backend configuration tests use: short timeouts and backoff, so that a reconnect
/// takes milliseconds rather than seconds.
pub fn config(url: &str, node: &str) -> RedisConfig {
    let mut config = RedisConfig::new(url, node);
    config.backoff_min = Duration::from_millis(20);
    config.backoff_max = Duration::from_millis(200);
    config.connect_timeout = Duration::from_secs(1);
    config.response_timeout = Duration::from_secs(1);
    config.probe_interval = Duration::from_secs(1);
    config
}

/// Starts a backend and waits until both its connections are up.
pub async fn node(server: &RedisServer, name: &str) -> Arc<Redis> {
    let redis = Redis::start(config(&server.url(), name)).unwrap();
    within(redis.ready()).await;
    Arc::new(redis)
}

/// Awaits `future`, failing the test after [`STEP`].
pub async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP, future)
        .await
        .expect("a step took longer than the test allows")
}

/// What a subscriber got.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A message: its topic and payload.
    Message(String, Value),
    /// A gap: its topic and why messages may have been lost.
    Gap(String, GapCause),
}

/// Records a subscriber's messages and gaps, in order.
pub struct Inbox {
    tx: mpsc::UnboundedSender<Event>,
    rx: mpsc::UnboundedReceiver<Event>,
}

impl Default for Inbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Inbox {
    /// An empty inbox.
    pub fn new() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Inbox { tx, rx }
    }

    /// A message sink feeding this inbox.
    pub fn sink(&self) -> Sink {
        let tx = self.tx.clone();
        Box::new(move |message| {
            let event = Event::Message(message.topic.to_string(), (*message.payload).clone());
            match tx.send(event) {
                Ok(()) => Delivery::Delivered,
                Err(_) => Delivery::Gone,
            }
        })
    }

    /// A gap sink feeding this inbox.
    pub fn gaps(&self) -> GapSink {
        let tx = self.tx.clone();
        Box::new(
            move |gap: &Gap| match tx.send(Event::Gap(gap.topic.to_string(), gap.cause)) {
                Ok(()) => Delivery::Delivered,
                Err(_) => Delivery::Gone,
            },
        )
    }

    /// The next event, waiting at most [`STEP`].
    pub async fn next(&mut self) -> Event {
        within(self.rx.recv())
            .await
            .expect("the inbox's sender lives in self")
    }

    /// Nothing is waiting right now.
    pub fn assert_empty(&mut self) {
        if let Ok(event) = self.rx.try_recv() {
            panic!("unexpected {event:?}");
        }
    }
}

/// Logs to the test output (`RUST_LOG` filters; default `cinder_pubsub=debug`).
pub fn logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("cinder_pubsub=debug"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
