//! A fake view-node: the gateway's tests and benches link to it instead of a real one.
//!
//! The real view-node lives in `view-node/` and needs an app; the end-to-end tests through
//! both run with the demo and `cinder-test`. This double serves `cinder.v1.ViewNode` over
//! real gRPC on `127.0.0.1:0`, answers deterministically and records every `Up` it gets,
//! so a test can assert exactly what crossed the link:
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
//!   as a node too busy to keep up; [`FakeNode::kill`] ends it as a crash would.
#![allow(
    clippy::unwrap_used,
    clippy::needless_pass_by_value,
    reason = "test double: a failure here is a failed test"
)]

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use cinder_proto::v1::view_node_server::{ViewNode, ViewNodeServer};
use cinder_proto::v1::{
    BeatRequest, BeatResponse, Closed, Down, Header, RenderRequest, RenderResponse, Up,
    UploadChannel, down, up,
};
use futures_util::StreamExt as _;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_stream::wrappers::ReceiverStream;

/// A safety net against a hung test: no step waits longer than this.
pub const STEP: Duration = Duration::from_secs(10);

/// What the fake view-node saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// `Up::Join`: a session started.
    Join {
        /// The gateway's key for the session.
        session: u64,
        /// The `phx_join` frame, as the client sent it.
        frame: String,
        /// The gateway's CSRF verdict.
        csrf_ok: bool,
    },
    /// `Up::Frame`: a client text frame.
    Frame {
        /// The session it went to.
        session: u64,
        /// The frame, as the client sent it.
        frame: String,
    },
    /// `Up::Binary`: a client binary frame (an upload chunk).
    Binary {
        /// The session it went to.
        session: u64,
        /// The frame, as the client sent it.
        bytes: Vec<u8>,
    },
    /// `Up::Leave`: the client is gone.
    Leave {
        /// The session that ended.
        session: u64,
    },
    /// A dead render request.
    Render(RenderRequest),
    /// A link's up stream ended.
    LinkEnded {
        /// The gateway ended it, rather than a reset.
        clean: bool,
    },
}

/// What a [`FakeNode`] records for [`FakeNode::next`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// Every `Up`, render and link end.
    Everything,
    /// Joins, leaves and link ends only: a bench that floods the node keeps no copy of
    /// each frame.
    Sessions,
    /// Nothing ([`FakeNode::next`] finds nothing): a memory bench measures the gateway
    /// alone.
    Nothing,
}

/// Where the node's links tell what they saw, filtered by [`Record`].
#[derive(Clone)]
struct Recorder {
    tx: mpsc::UnboundedSender<Seen>,
    record: Record,
}

impl Recorder {
    /// Records `seen` if wanted; false once nobody listens.
    fn send(&self, seen: Seen) -> bool {
        let wanted = match self.record {
            Record::Everything => true,
            Record::Sessions => matches!(
                seen,
                Seen::Join { .. } | Seen::Leave { .. } | Seen::LinkEnded { .. }
            ),
            Record::Nothing => false,
        };
        !wanted || self.tx.send(seen).is_ok()
    }
}

struct Node {
    name: String,
    seen: Recorder,
    kill: watch::Receiver<bool>,
    paused: watch::Receiver<bool>,
}

/// A running fake view-node.
pub struct FakeNode {
    /// Its name, which its join replies render.
    pub name: String,
    /// Where it listens.
    pub addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<Seen>,
    stop_accepting: Option<oneshot::Sender<()>>,
    accepting: Option<tokio::task::JoinHandle<()>>,
    kill: watch::Sender<bool>,
    paused: watch::Sender<bool>,
}

impl FakeNode {
    /// Starts a node named `name` on `127.0.0.1:0`, recording everything.
    pub async fn start(name: &str) -> anyhow::Result<Self> {
        Self::start_with(name, Record::Everything).await
    }

    /// Starts a node named `name` on `127.0.0.1:0`, recording what `record` says.
    pub async fn start_with(name: &str, record: Record) -> anyhow::Result<Self> {
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
            seen: Recorder {
                tx: seen_tx,
                record,
            },
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
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// The next thing the node saw.
    pub async fn next(&mut self) -> anyhow::Result<Seen> {
        tokio::time::timeout(STEP, self.seen.recv())
            .await
            .context("the view-node saw nothing")?
            .ok_or_else(|| anyhow!("the view-node is gone"))
    }

    /// Stops reading the links: what the gateway sends waits in its queues.
    pub fn pause(&self) {
        self.paused.send_replace(true);
    }

    /// Reads the links again.
    pub fn resume(&self) {
        self.paused.send_replace(false);
    }

    /// Stops accepting connections, then ends every link stream: to the gateway the node
    /// is gone and stays gone.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
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
                                    rejoin: false,
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
                    // It never drains, so nothing moves to or from it.
                    Some(up::Kind::Migrate(_) | up::Kind::Resume(_)) | None => {}
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

    /// The gateway's beats are taken and dropped: no fake test reads them.
    async fn beat(
        &self,
        _request: tonic::Request<BeatRequest>,
    ) -> Result<tonic::Response<BeatResponse>, tonic::Status> {
        Ok(tonic::Response::new(BeatResponse {}))
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
