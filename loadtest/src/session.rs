//! One simulated browser tab, lean enough for a hundred thousand per box: a socket from
//! a chosen source address, joined to a page's view, sending events when told and the
//! browser's heartbeat every 30 s, and reporting every reply and error to the
//! [`Recorder`].
//!
//! It speaks the wire protocol directly (tungstenite with a 4 KiB read buffer and no
//! write buffer, one task, no copy of the rendered page), so its memory is the socket's;
//! the load tester reports its own bytes per session beside the servers'.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cinder_protocol_client::Page;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::sources::Sources;
use crate::stats::Recorder;

/// How long a connect, a handshake or a join may take (the `phoenix` client's join
/// timeout).
pub(crate) const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// The browser's heartbeat period.
const HEARTBEAT: Duration = Duration::from_secs(30);
/// Events one session may have waiting to be sent before the scheduler counts a
/// backlog instead.
const QUEUE: usize = 64;
/// Events one session may have awaiting replies; past it the oldest counts as lost.
const MAX_PENDING: usize = 1024;
/// The largest server message read: over the link's largest frame (4 MiB).
const MAX_MESSAGE: usize = 8 << 20;

/// A page of one gateway: what every session joining it needs.
#[derive(Debug)]
pub(crate) struct Target {
    /// The gateway's address.
    pub(crate) addr: SocketAddr,
    /// The page's tokens (from its dead render).
    pub(crate) page: Page,
}

/// What a session needs besides its target.
#[derive(Clone, Debug)]
pub(crate) struct Shared {
    pub(crate) sources: Sources,
    pub(crate) recorder: Arc<Recorder>,
    /// The event every push sends (`phx-click`'s name).
    pub(crate) event: Arc<str>,
    /// Turns true when the run ends: every session closes with 1000.
    pub(crate) stop: watch::Receiver<bool>,
}

/// A joined session: where to send it the scheduled time of an event to push.
pub(crate) type Handle = mpsc::Sender<Instant>;

type Socket = WebSocketStream<TcpStream>;

/// Opens session `n` on `target`: connects from its source, joins, and spawns its task.
/// `None` when it failed (the error is recorded). `on_end` runs when the session ends.
pub(crate) async fn open(
    n: usize,
    target: &Target,
    shared: &Shared,
    on_end: impl FnOnce() + Send + 'static,
) -> Option<Handle> {
    let started = Instant::now();
    let socket = match tokio::time::timeout(JOIN_TIMEOUT, connect(n, target, shared)).await {
        Ok(Ok(socket)) => socket,
        Ok(Err(kind)) => {
            shared.recorder.error(kind);
            return None;
        }
        Err(_) => {
            shared.recorder.error("join timeout");
            return None;
        }
    };
    shared.recorder.joined(started.elapsed());
    let (tx, rx) = mpsc::channel(QUEUE);
    let topic = format!("lv:{}", target.page.view_id);
    let shared = shared.clone();
    tokio::spawn(async move {
        run(socket, topic, rx, &shared).await;
        on_end();
    });
    Some(tx)
}

/// Connects, upgrades and joins; the error is a kind to count.
async fn connect(n: usize, target: &Target, shared: &Shared) -> Result<Socket, String> {
    let tcp = shared
        .sources
        .connect(n, target.addr, JOIN_TIMEOUT)
        .await
        .map_err(|e| io_kind(&e))?;
    let page = &target.page;
    let url = format!(
        "ws://{}/live/websocket?_csrf_token={}&vsn=2.0.0",
        target.addr,
        encode_component(&page.csrf)
    );
    let mut request = url.into_client_request().map_err(|e| ws_kind(&e))?;
    let headers = request.headers_mut();
    let origin = HeaderValue::from_str(&format!("http://{}", target.addr))
        .map_err(|_| "bad origin".to_owned())?;
    headers.insert("origin", origin);
    if let Some(cookie) = &page.cookie {
        let cookie = HeaderValue::from_str(cookie).map_err(|_| "bad cookie".to_owned())?;
        headers.insert("cookie", cookie);
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let (mut socket, _) = tokio_tungstenite::client_async_with_config(request, tcp, Some(config))
        .await
        .map_err(|e| ws_kind(&e))?;
    let join = json!(["1", "1", format!("lv:{}", page.view_id), "phx_join", {
        "url": page.url,
        "params": {"_csrf_token": page.csrf, "_mounts": 0, "_mount_attempts": 0},
        "session": page.session,
        "static": page.static_token,
        "sticky": false,
    }]);
    socket
        .send(Message::text(join.to_string()))
        .await
        .map_err(|e| ws_kind(&e))?;
    while let Some(message) = socket.next().await {
        match message.map_err(|e| ws_kind(&e))? {
            Message::Text(text) => {
                let Some(header) = Header::parse(&text) else {
                    return Err("malformed frame".to_owned());
                };
                if header.msg_ref.as_deref() == Some("1") && header.event == "phx_reply" {
                    return match header.refused {
                        None => Ok(socket),
                        Some(reason) => Err(format!("join refused: {reason}")),
                    };
                }
            }
            Message::Close(frame) => return Err(close_kind(frame.as_ref())),
            _ => {}
        }
    }
    Err("closed without a close frame".to_owned())
}

/// The joined session's life: sends what it is told, times the replies, heartbeats,
/// and ends on a close, an error, or the run's end.
async fn run(
    mut socket: Socket,
    topic: String,
    mut events: mpsc::Receiver<Instant>,
    shared: &Shared,
) {
    let recorder = &shared.recorder;
    let mut stop = shared.stop.clone();
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    // Refs of the events waiting for replies, with when each was scheduled and sent.
    let mut pending: VecDeque<(u64, Instant, Instant)> = VecDeque::new();
    let mut next_ref: u64 = 2;
    let click = json!({"type": "click", "event": &*shared.event, "value": {"value": ""}});
    loop {
        tokio::select! {
            message = socket.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(frame))) => {
                        recorder.error(close_kind(frame.as_ref()));
                        return;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => {
                        recorder.error(ws_kind(&error));
                        return;
                    }
                    None => {
                        recorder.error("closed without a close frame");
                        return;
                    }
                };
                let Some(header) = Header::parse(&text) else {
                    recorder.error("malformed frame");
                    continue;
                };
                if header.topic != topic {
                    continue;
                }
                match header.event.as_str() {
                    "phx_reply" => {
                        let Some(msg_ref) = header.msg_ref.and_then(|r| r.parse::<u64>().ok()) else {
                            continue;
                        };
                        while let Some(&(r, scheduled, sent)) = pending.front() {
                            if r > msg_ref {
                                break;
                            }
                            pending.pop_front();
                            if r == msg_ref {
                                let now = Instant::now();
                                recorder.replied(now - scheduled, now - sent);
                                if let Some(reason) = &header.refused {
                                    recorder.error(format!("event refused: {reason}"));
                                }
                            }
                        }
                    }
                    "phx_error" => {
                        recorder.error("phx_error");
                        return;
                    }
                    "phx_close" => {
                        recorder.error("phx_close");
                        return;
                    }
                    _ => {}
                }
            }
            scheduled = events.recv() => {
                let Some(scheduled) = scheduled else {
                    // The run let this session go (churn): a tab closing.
                    let _ = socket.close(None).await;
                    return;
                };
                let msg_ref = next_ref;
                next_ref += 1;
                let frame = json!(["1", msg_ref.to_string(), &topic, "event", &click]);
                let sent = Instant::now();
                if let Err(error) = socket.send(Message::text(frame.to_string())).await {
                    recorder.error(ws_kind(&error));
                    return;
                }
                recorder.sent();
                if pending.len() >= MAX_PENDING {
                    pending.pop_front();
                    recorder.error("reply lost (1,024 events unanswered)");
                }
                pending.push_back((msg_ref, scheduled, sent));
            }
            _ = heartbeat.tick() => {
                let beat = format!(r#"[null,"{next_ref}","phoenix","heartbeat",{{}}]"#);
                next_ref += 1;
                if let Err(error) = socket.send(Message::text(beat)).await {
                    recorder.error(ws_kind(&error));
                    return;
                }
            }
            () = stopped(&mut stop) => {
                let _ = socket.close(None).await;
                return;
            }
        }
    }
}

/// Returns once the run ends.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// What a session reads of a server frame, in one pass: the routed fields and, for a
/// reply, its status and reason. Everything else (diffs) is skipped unread.
struct Header {
    msg_ref: Option<String>,
    topic: String,
    event: String,
    /// `None` unless the frame is a reply whose status is not `ok`: its reason.
    refused: Option<String>,
}

/// The payload fields a session reads.
#[derive(serde::Deserialize)]
struct Payload {
    status: Option<String>,
    response: Option<Response>,
}

#[derive(serde::Deserialize)]
struct Response {
    reason: Option<String>,
}

impl Header {
    fn parse(text: &str) -> Option<Header> {
        let (_, msg_ref, topic, event, payload): (
            serde::de::IgnoredAny,
            Option<String>,
            String,
            String,
            Payload,
        ) = serde_json::from_str(text).ok()?;
        let refused =
            (event == "phx_reply" && payload.status.as_deref() != Some("ok")).then(|| {
                payload
                    .response
                    .and_then(|r| r.reason)
                    .unwrap_or_else(|| "no reason".to_owned())
            });
        Some(Header {
            msg_ref,
            topic,
            event,
            refused,
        })
    }
}

/// An I/O error's kind, named as the OS does where it matters for sizing.
pub(crate) fn io_kind(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(nix::libc::EMFILE) => "EMFILE (too many open files)".to_owned(),
        Some(nix::libc::EADDRNOTAVAIL) => "EADDRNOTAVAIL (no free source port)".to_owned(),
        Some(nix::libc::ECONNREFUSED) => "connection refused".to_owned(),
        _ if error.kind() == std::io::ErrorKind::TimedOut => "connect timeout".to_owned(),
        _ => format!("io {:?}", error.kind()),
    }
}

/// A WebSocket error's kind, without the details that make every one different.
pub(crate) fn ws_kind(error: &tungstenite::Error) -> String {
    match error {
        tungstenite::Error::Http(response) => format!("HTTP {}", response.status().as_u16()),
        tungstenite::Error::Io(io) => io_kind(io),
        tungstenite::Error::Protocol(protocol) => format!("protocol: {protocol}"),
        other => other.to_string(),
    }
}

fn close_kind(frame: Option<&tungstenite::protocol::CloseFrame>) -> String {
    format!("closed {}", frame.map_or(1005, |f| u16::from(f.code)))
}

/// JavaScript's `encodeURIComponent`, as the page's socket URL is built.
pub(crate) fn encode_component(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_read_by_header() {
        let ok =
            r#"["1","7","lv:phx-a","phx_reply",{"status":"ok","response":{"diff":{"0":"1"}}}]"#;
        let header = Header::parse(ok).map(|h| (h.msg_ref, h.topic, h.event, h.refused));
        assert_eq!(
            header,
            Some((
                Some("7".into()),
                "lv:phx-a".into(),
                "phx_reply".into(),
                None
            ))
        );
        assert!(Header::parse("[1,2]").is_none());
        let refused =
            r#"["1","1","lv:a","phx_reply",{"status":"error","response":{"reason":"stale"}}]"#;
        let reason = Header::parse(refused).and_then(|h| h.refused);
        assert_eq!(reason, Some("stale".to_owned()));
        let diff = r#"[null,null,"lv:a","diff",{"0":"2"}]"#;
        assert_eq!(Header::parse(diff).map(|h| h.refused), Some(None));
    }

    #[test]
    fn components_are_encoded_like_javascript() {
        assert_eq!(encode_component("a+b/c=_-~"), "a%2Bb%2Fc%3D_-~");
    }
}
