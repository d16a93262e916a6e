//! `fanout`'s publisher: a stamped message posted to a gateway's topics API
//! (`POST /api/topics/<topic>`, `Authorization: Bearer <token>`), which publishes it to
//! every session subscribed to the topic across the cluster. The sessions time its
//! delivery from the stamp; the publisher times the API's answer as the event's latency.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::session::{JOIN_TIMEOUT, io_kind, stamp};
use crate::stats::Recorder;

/// Where `fanout` publishes.
#[derive(Clone, Debug)]
pub(crate) struct Publish {
    /// The gateway.
    pub(crate) addr: SocketAddr,
    /// The topic (`feed:news`).
    pub(crate) topic: String,
    /// The topics API's bearer token.
    pub(crate) token: Arc<str>,
}

impl Publish {
    /// Publishes `{"text": "<stamp of due>"}` and records the answer: its time as the
    /// event's latency, anything but 202 as an error.
    pub(crate) async fn send(self, due: Instant, recorder: Arc<Recorder>) {
        let body = format!(r#"{{"text":"{}"}}"#, stamp(due));
        let sent = Instant::now();
        recorder.sent();
        match tokio::time::timeout(JOIN_TIMEOUT, self.post(&body)).await {
            Ok(Ok(202)) => {
                let now = Instant::now();
                recorder.replied(now - due, now - sent);
            }
            Ok(Ok(status)) => recorder.error(format!("publish: HTTP {status}")),
            Ok(Err(error)) => recorder.error(format!("publish: {}", io_kind(&error))),
            Err(_) => recorder.error("publish: timeout"),
        }
    }

    /// One HTTP/1.1 `POST`; the answer's status.
    async fn post(&self, body: &str) -> std::io::Result<u16> {
        let mut stream = TcpStream::connect(self.addr).await?;
        let request = format!(
            "POST /api/topics/{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Authorization: Bearer {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            crate::session::encode_component(&self.topic),
            self.addr,
            self.token,
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut head = [0u8; 16];
        let mut read = 0;
        while read < head.len() {
            let n = stream.read(&mut head[read..]).await?;
            if n == 0 {
                break;
            }
            read += n;
        }
        // `HTTP/1.1 202 …`
        Ok(std::str::from_utf8(&head[..read])
            .ok()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .unwrap_or(0))
    }
}

/// Checks that the topics API takes `publish`'s token before the run starts, so that a
/// wrong token is one clear line, not an error per publish.
pub(crate) async fn check(publish: &Publish) -> anyhow::Result<()> {
    let status = publish
        .post("{}")
        .await
        .with_context(|| format!("cannot reach {} to publish", publish.addr))?;
    match status {
        202 => Ok(()),
        401 => anyhow::bail!(
            "the topics API refused the token (401): set CINDER_API_TOKEN to the gateways' --api-token"
        ),
        503 => anyhow::bail!(
            "the topics API is off or has no view-node (503): start the gateways with --api-token"
        ),
        status => anyhow::bail!("publishing to {} answered HTTP {status}", publish.topic),
    }
}
