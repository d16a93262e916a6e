//! The rolling-update figure: a gateway holding N sockets is drained with SIGTERM while
//! its clients reconnect through another gateway.
//!
//! The scenario starts its own cluster from the binaries beside the load tester: one
//! view-node (`cinder-demo view-node`, no Redis) and gateways A and B linked to it. N
//! clients open a socket to A and join the page (`/counter` by default), then A gets
//! SIGTERM. Each client does what the official `phoenix` client does when its socket
//! closes with a code other than 1000: it reconnects after `phoenix`'s back-off (10 ms,
//! then 50, 100, 150, 200, 250, 500, 1000, 2000, then 5000 ms), here to B as a load
//! balancer that stopped sending clients to A would, and rejoins with the same session
//! token. Printed:
//!
//! - the time from SIGTERM to the last client joined again through B;
//! - the highest rate of rejoins B saw, counted in 100 ms buckets, per second;
//! - when the clients saw their sockets close, and when A exited;
//! - every error a client saw, by kind (the target is none): a close other than the
//!   drain's 1012, a socket that ended without a close frame, a refused connection or
//!   join, a `phx_error` on the joined topic, a socket of B that closed.
//!
//! The clients are lean: a tungstenite stream with a 4 KiB read buffer and no write
//! buffer, and one task each, so that 10,000 fit in one process beside the cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use cinder_protocol_client::Page;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::process::Process;
use crate::session::{encode_component, ws_kind as kind};

/// `phoenix`'s `reconnectAfterMs` for the socket, by attempt; 5 s after the last.
const BACK_OFF_MS: [u64; 9] = [10, 50, 100, 150, 200, 250, 500, 1000, 2000];
/// Attempts to reach B before a client gives up.
const ATTEMPTS: usize = 20;
/// How long a connect or a join may take (the `phoenix` client's join timeout).
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// The browser's heartbeat period.
const HEARTBEAT: Duration = Duration::from_secs(30);
/// Sockets opened at once while the clients first join A.
const WAVE: usize = 200;
/// How long after A's deadline the scenario waits for the last rejoin.
const GRACE: Duration = Duration::from_secs(30);

/// What the scenario is asked for.
pub(crate) struct Options {
    /// Sockets held on gateway A.
    pub(crate) sessions: usize,
    /// The folder holding `cinder-demo` and `cinder-gateway`.
    pub(crate) bin: PathBuf,
    /// The page every client joins.
    pub(crate) path: String,
    /// Flags given to both gateways (the drain windows, when not the defaults).
    pub(crate) gateway_flags: Vec<String>,
}

/// What a client reports.
enum Event {
    /// Joined through A.
    Joined,
    /// Could not join through A at all.
    NotJoined,
    /// A closed its socket with 1012.
    Closed(Instant),
    /// Joined again through B.
    Rejoined(Instant),
    /// Something a user would notice.
    Error(String),
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What every client shares: the page and where the gateways are.
struct Target {
    page: Page,
    a: String,
    b: String,
    events: mpsc::UnboundedSender<Event>,
    stop: watch::Receiver<bool>,
}

#[expect(clippy::print_stdout, reason = "the tool's output is its figures")]
fn say(line: &str) {
    println!("{line}");
}

/// Runs the scenario and prints its figures.
pub(crate) async fn run(options: Options) -> anyhow::Result<()> {
    let secret = std::env::var("CINDER_SECRET").unwrap_or_else(|_| {
        format!(
            "{:032x}{:032x}",
            rand::random::<u128>(),
            rand::random::<u128>()
        )
    });
    let log = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned());
    let envs = [
        ("CINDER_SECRET", secret.as_str()),
        ("RUST_LOG", log.as_str()),
    ];
    let node = Process::start(
        &options.bin.join("cinder-demo"),
        &["view-node", "--listen", "127.0.0.1:0"],
        &envs,
        "view-node listening on ",
    )
    .await?;
    let gateway = |name: &'static str| {
        gateway(
            &options.bin,
            &node.addr,
            &options.gateway_flags,
            &envs,
            name,
        )
    };
    let mut a = gateway("A").await?;
    let b = gateway("B").await?;

    let page = Page::fetch(&format!("http://{}{}", a.addr, options.path)).await?;
    let (events, mut reports) = mpsc::unbounded_channel();
    let (stop, stopped) = watch::channel(false);
    let target = Arc::new(Target {
        page,
        a: a.addr.clone(),
        b: b.addr.clone(),
        events,
        stop: stopped,
    });

    let opening = Instant::now();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut joined = 0;
    let mut not_joined = 0;
    let mut early = Vec::new();
    for wave in (0..options.sessions).step_by(WAVE) {
        let size = WAVE.min(options.sessions - wave);
        for _ in 0..size {
            tokio::spawn(client(target.clone()));
        }
        // Waits for this wave's outcome before the next, so A is not asked for
        // thousands of joins at once.
        let mut settled = 0;
        while settled < size {
            match reports.recv().await.context("the clients are gone")? {
                Event::Joined => (joined, settled) = (joined + 1, settled + 1),
                Event::NotJoined => (not_joined, settled) = (not_joined + 1, settled + 1),
                Event::Error(kind) => *errors.entry(kind).or_default() += 1,
                other => early.push(other),
            }
        }
    }
    if not_joined > 0 {
        bail!(
            "{not_joined} of {} clients could not join through A: {errors:?}",
            options.sessions
        );
    }
    say(&format!(
        "drain: {joined} clients joined {} through gateway A in {:.1?}; SIGTERM to A (gateway flags: {})",
        options.path,
        opening.elapsed(),
        if options.gateway_flags.is_empty() {
            "the defaults".to_owned()
        } else {
            options.gateway_flags.join(" ")
        },
    ));

    let signalled = Instant::now();
    a.signal("TERM")?;
    let mut closes = Vec::new();
    let mut rejoins = Vec::new();
    for event in early {
        record(event, &mut closes, &mut rejoins, &mut errors);
    }
    let limit = a_deadline(&options.gateway_flags) + GRACE;
    let deadline = tokio::time::Instant::now() + limit;
    while rejoins.len() < joined {
        match tokio::time::timeout_at(deadline, reports.recv()).await {
            Ok(Some(event)) => record(event, &mut closes, &mut rejoins, &mut errors),
            Ok(None) | Err(_) => break,
        }
    }
    let a_exit = a
        .exit_within(limit)
        .await
        .map(|status| (status, signalled.elapsed()));
    // Errors B's sockets may still report come in now; the rest is over.
    stop.send_replace(true);
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(500), reports.recv()).await
    {
        record(event, &mut closes, &mut rejoins, &mut errors);
    }

    let since = |at: &Instant| at.saturating_duration_since(signalled);
    closes.sort();
    rejoins.sort();
    say(&format!(
        "sockets closed by A (1012) as clients saw them: {} of {joined}, first {:.2?} and last {:.2?} after SIGTERM",
        closes.len(),
        closes.first().map(since).unwrap_or_default(),
        closes.last().map(since).unwrap_or_default(),
    ));
    say(&format!(
        "every client joined again through gateway B: {} of {joined}, the last {:.2?} after SIGTERM",
        rejoins.len(),
        rejoins.last().map(since).unwrap_or_default(),
    ));
    let (peak, at) = peak_rate(&rejoins, signalled);
    say(&format!(
        "highest rejoin rate on B: {peak} per second (100 ms buckets; the busiest began {at:.1?} after SIGTERM)"
    ));
    match a_exit {
        Ok((status, after)) => say(&format!(
            "gateway A exited {after:.2?} after SIGTERM ({status})"
        )),
        Err(error) => say(&format!("gateway A did not exit: {error:#}")),
    }
    if errors.is_empty() {
        say("client errors: none");
    } else {
        let listed: Vec<String> = errors
            .iter()
            .map(|(kind, n)| format!("{kind}: {n}"))
            .collect();
        say(&format!("client errors: {}", listed.join(", ")));
    }
    let _ = b.signal("INT");
    let _ = node.signal("INT");
    if rejoins.len() < joined {
        bail!(
            "{} clients did not join again through B",
            joined - rejoins.len()
        );
    }
    Ok(())
}

/// Gateway A's drain deadline: its flag's, else the gateway's default (30 s).
fn a_deadline(flags: &[String]) -> Duration {
    let ms = flags
        .iter()
        .position(|flag| flag == "--drain-deadline-ms")
        .and_then(|i| flags.get(i + 1))
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(30_000);
    Duration::from_millis(ms)
}

/// Starts gateway `name` linked to the view-node at `node`.
async fn gateway(
    bin: &Path,
    node: &str,
    flags: &[String],
    envs: &[(&str, &str)],
    name: &str,
) -> anyhow::Result<Process> {
    // Every client comes from 127.0.0.1: lift the per-address cap.
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--view-node",
        node,
        "--max-connections-per-address",
        "1000000",
    ];
    args.extend(flags.iter().map(String::as_str));
    Process::start(
        &bin.join("cinder-gateway"),
        &args,
        envs,
        "gateway listening on http://",
    )
    .await
    .with_context(|| format!("gateway {name}"))
}

fn record(
    event: Event,
    closes: &mut Vec<Instant>,
    rejoins: &mut Vec<Instant>,
    errors: &mut BTreeMap<String, u64>,
) {
    match event {
        Event::Closed(at) => closes.push(at),
        Event::Rejoined(at) => rejoins.push(at),
        Event::Error(kind) => *errors.entry(kind).or_default() += 1,
        Event::Joined | Event::NotJoined => {}
    }
}

/// The most rejoins in one 100 ms bucket (counted from `start`), per second, and when
/// that bucket began.
fn peak_rate(rejoins: &[Instant], start: Instant) -> (u64, Duration) {
    let mut buckets: BTreeMap<u128, u64> = BTreeMap::new();
    for at in rejoins {
        *buckets
            .entry(at.saturating_duration_since(start).as_millis() / 100)
            .or_default() += 1;
    }
    buckets.iter().max_by_key(|(_, count)| **count).map_or(
        (0, Duration::ZERO),
        |(bucket, count)| {
            let began = u64::try_from(*bucket)
                .unwrap_or(u64::MAX)
                .saturating_mul(100);
            (count * 10, Duration::from_millis(began))
        },
    )
}

/// One client: joins through A, holds the socket until A closes it, reconnects to B
/// with `phoenix`'s back-off and rejoins, then holds that socket until the end.
async fn client(target: Arc<Target>) {
    let report = |event| {
        let _ = target.events.send(event);
    };
    let mut socket = match open(&target, &target.a, 0).await {
        Ok(socket) => socket,
        Err(kind) => {
            report(Event::Error(format!("first join: {kind}")));
            report(Event::NotJoined);
            return;
        }
    };
    report(Event::Joined);
    match hold(&mut socket, &target).await {
        End::Closed(1012) => report(Event::Closed(Instant::now())),
        End::Closed(code) => report(Event::Error(format!("A closed with {code}"))),
        End::Error(kind) => report(Event::Error(format!("A: {kind}"))),
        End::Stopped => return,
    }
    drop(socket);
    for attempt in 0..ATTEMPTS {
        let wait = BACK_OFF_MS.get(attempt).copied().unwrap_or(5000);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        match open(&target, &target.b, 1).await {
            Ok(mut socket) => {
                report(Event::Rejoined(Instant::now()));
                match hold(&mut socket, &target).await {
                    End::Stopped => {}
                    End::Closed(code) => report(Event::Error(format!("B closed with {code}"))),
                    End::Error(kind) => report(Event::Error(format!("B: {kind}"))),
                }
                return;
            }
            Err(kind) => report(Event::Error(format!("rejoin: {kind}"))),
        }
    }
}

/// How a held socket ended.
enum End {
    /// A close frame with this code.
    Closed(u16),
    /// Anything else a user would notice.
    Error(String),
    /// The scenario is over.
    Stopped,
}

/// Reads (and heartbeats) until the socket ends or the scenario stops.
async fn hold(socket: &mut Socket, target: &Target) -> End {
    let mut stop = target.stop.clone();
    let mut heartbeat =
        tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    let mut refs = 1u64;
    loop {
        tokio::select! {
            () = stopped(&mut stop) => return End::Stopped,
            _ = heartbeat.tick() => {
                refs += 1;
                let beat = format!(r#"[null,"{refs}","phoenix","heartbeat",{{}}]"#);
                if let Err(error) = socket.send(Message::text(beat)).await {
                    return End::Error(format!("heartbeat not sent: {}", kind(&error)));
                }
            }
            message = socket.next() => match message {
                Some(Ok(Message::Close(frame))) => {
                    return End::Closed(frame.map_or(1005, |f| u16::from(f.code)));
                }
                Some(Ok(Message::Text(text))) => {
                    if text.as_str().contains(r#""phx_error""#) {
                        return End::Error("phx_error on the joined topic".to_owned());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return End::Error(kind(&error)),
                None => return End::Error("ended without a close frame".to_owned()),
            },
        }
    }
}

/// Resolves once the scenario stops (its guard dropped inside, so the wait is `Send`).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Connects to `gateway` as the page's JavaScript would and joins the page; `mounts` is
/// 0 for the first join, 1 for a rejoin after a reconnect.
async fn open(target: &Target, gateway: &str, mounts: u32) -> Result<Socket, String> {
    let page = &target.page;
    let url = format!(
        "ws://{gateway}/live/websocket?_csrf_token={}&vsn=2.0.0",
        encode_component(&page.csrf)
    );
    let mut request = url.into_client_request().map_err(|e| kind(&e))?;
    let headers = request.headers_mut();
    // The origin a browser sends when both gateways are behind one address.
    let origin = HeaderValue::from_str(&format!("http://{gateway}")).map_err(|e| e.to_string())?;
    headers.insert("origin", origin);
    if let Some(cookie) = &page.cookie {
        headers.insert(
            "cookie",
            HeaderValue::from_str(cookie).map_err(|e| e.to_string())?,
        );
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let (mut socket, _) = match tokio::time::timeout(JOIN_TIMEOUT, connect).await {
        Ok(Ok(connected)) => connected,
        Ok(Err(error)) => return Err(format!("connect: {}", kind(&error))),
        Err(_) => return Err("connect timed out".to_owned()),
    };
    let payload = json!({
        "url": page.url,
        "params": {"_csrf_token": page.csrf, "_mounts": mounts, "_mount_attempts": 0},
        "session": page.session,
        "static": page.static_token,
        "sticky": false,
    });
    let join = json!([
        "1",
        "1",
        format!("lv:{}", page.view_id),
        "phx_join",
        payload
    ]);
    socket
        .send(Message::text(join.to_string()))
        .await
        .map_err(|e| format!("join not sent: {}", kind(&e)))?;
    let reply = async {
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Text(text)) => {
                    let frame: Value =
                        serde_json::from_str(&text).map_err(|_| "malformed frame".to_owned())?;
                    if frame[1] == "1" && frame[3] == "phx_reply" {
                        return if frame[4]["status"] == "ok" {
                            Ok(())
                        } else {
                            Err(format!("join refused: {}", frame[4]["response"]))
                        };
                    }
                }
                Ok(Message::Close(frame)) => {
                    return Err(format!(
                        "closed while joining ({})",
                        frame.map_or(1005, |f| u16::from(f.code))
                    ));
                }
                Ok(_) => {}
                Err(error) => return Err(format!("while joining: {}", kind(&error))),
            }
        }
        Err("ended while joining".to_owned())
    };
    match tokio::time::timeout(JOIN_TIMEOUT, reply).await {
        Ok(Ok(())) => Ok(socket),
        Ok(Err(kind)) => Err(kind),
        Err(_) => Err("join timed out".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_the_busiest_100_ms_scaled_to_a_second() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let rejoins = [at(5), at(120), at(130), at(150), at(199), at(250)];
        assert_eq!(peak_rate(&rejoins, start), (40, Duration::from_millis(100)));
        assert_eq!(peak_rate(&[], start), (0, Duration::ZERO));
    }
}
