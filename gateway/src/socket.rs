//! One upgraded WebSocket, from the 101 to the last byte.
//!
//! A socket is one task running two halves over the split TCP stream:
//!
//! - the reader waits until this socket's messages still queued on links are under its
//!   allowance ([`crate::conn`]), then for the next frame holding no buffer, reads one
//!   frame ([`crate::frame_reader`]), applies the limits (size, rate, framing) and hands
//!   the message to [`crate::channel`];
//! - the writer waits on the socket's outbox ([`crate::conn`]) and writes what is
//!   queued — view-node frames and local replies alike — then a close frame if one was
//!   asked for.
//!
//! A limit broken closes only this socket, with its code: 1007 malformed frame, 1008 rate
//! limit exceeded, 1009 message too big, 1013 try again later (a full outbox), 1002 for
//! WebSocket protocol errors, 1001 when no frame completed within the idle timeout, 1012
//! service restart when the gateway drains ([`crate::drain`]). A frame the client does
//! not take within the write timeout drops the socket at once: a close frame could not
//! get through either. When the socket ends, every session it joined gets a `Leave`
//! upstream. TCP keepalive finds a peer that vanished without a word.
//!
//! Memory is the design constraint here (≤ 4 KB per idle socket): hyper's connection is
//! gone by now (the TCP stream is taken back out of hyper's upgrade wrapper), an idle
//! reader holds no buffer, an idle writer an empty queue, and everything that lives only
//! while a frame is handled sits in a boxed future that is freed when it is done.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use fastwebsockets::{Frame, OpCode, Payload, Role, WebSocketError};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::net::tcp::WriteHalf;
use tracing::debug;

use crate::channel::Client;
use crate::conn::{Batch, CloseReason, Conn, Limits, Out};
use crate::frame_reader::{self, OwnedFrame, Source};
use crate::rate::{CHUNK_COST, TokenBucket};
use crate::shared::{Shared, SocketPermit};
use crate::telemetry::Metrics;
use crate::upgrade::Upgrade;

/// How long the writer may take to flush and write the close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// After a close the gateway started, how long it reads (and drops) what the client still
/// sends, so unread bytes do not turn the close into a reset that loses the close frame.
const LINGER: Duration = Duration::from_secs(2);

/// How the reader stopped.
enum ReadEnd {
    /// The client went away (end of stream or a socket error).
    Gone,
    /// The client sent a close frame; answer with this code and stop.
    ClientClosed(u16),
    /// The gateway closes the socket for this reason.
    Close(CloseReason),
}

/// A fragmented message being put together.
struct Partial {
    opcode: OpCode,
    bytes: Vec<u8>,
}

/// Runs an accepted upgrade to its end.
pub(crate) async fn run(upgrade: Upgrade, shared: Arc<Shared>) {
    let Upgrade {
        fut,
        csrf_ok,
        permit,
    } = upgrade;
    let upgraded = match fut.await {
        Ok(websocket) => websocket.into_inner().into_inner(),
        Err(error) => {
            debug!(%error, "upgrade failed");
            return;
        }
    };
    // Take the bare stream back: hyper's upgrade wrapper boxes it behind a trait object
    // and keeps its read-ahead, neither of which an idle socket needs.
    let Ok(parts) = upgraded.downcast::<TokioIo<TcpStream>>() else {
        tracing::error!("upgraded connection is not a TCP stream");
        return;
    };
    // Bytes the client sent right behind its handshake (rare). Even an empty slice of
    // hyper's read buffer keeps that whole buffer alive, so copy them out.
    let prefix = if parts.read_buf.is_empty() {
        Bytes::new()
    } else {
        Bytes::copy_from_slice(&parts.read_buf)
    };
    drop(parts.read_buf);
    drive(parts.io.into_inner(), prefix, &shared, csrf_ok, permit).await;
}

async fn drive(
    mut tcp: TcpStream,
    prefix: Bytes,
    shared: &Shared,
    csrf_ok: bool,
    permit: SocketPermit,
) {
    keepalive(&tcp, shared.config.tcp_keepalive);
    let conn = Arc::new(Conn::new(Limits::new(&shared.config)));
    // Known to the drain until the permit is dropped, at the end.
    permit.register(&conn);
    let client = Client {
        shared,
        conn: &conn,
        csrf_ok,
    };
    let (closed, linger) = {
        let (read, write) = tcp.split();
        let mut source = Source::new(prefix, read);
        let reader = read_loop(&mut source, &client);
        let writer = write_loop(write, &conn, shared.config.write_timeout);
        tokio::pin!(reader, writer);
        tokio::select! {
            end = &mut reader => match end {
                ReadEnd::Gone => (None, false),
                // Boxed, as is everything that only runs at the end, to keep it out of
                // the idle socket's future.
                ReadEnd::ClientClosed(code) => {
                    conn.close(CloseReason::echo(code));
                    (Box::pin(finish_writer(writer)).await, false)
                }
                ReadEnd::Close(reason) => {
                    conn.close(reason);
                    (Box::pin(finish_writer(writer)).await, true)
                }
            },
            written = &mut writer => {
                let closed = written.ok().flatten();
                (closed, closed.is_some())
            }
        }
    };
    // Upload channels ride on their view's session, which is left once.
    for route in conn.finish().into_iter().filter(|r| !r.is_upload()) {
        route.link.leave(route.session, true);
    }
    if let Some(reason) = closed {
        debug!(code = reason.code, reason = reason.reason, "closed");
        Metrics::closed(reason.label);
    }
    if linger {
        Box::pin(drain(&mut tcp)).await;
    }
    // The slot is free before the client can see the end of the stream.
    drop(permit);
    drop(tcp);
}

/// Turns TCP keepalive on, probing after `idle` without traffic.
fn keepalive(tcp: &TcpStream, idle: Option<Duration>) {
    let Some(idle) = idle else {
        return;
    };
    let params = socket2::TcpKeepalive::new()
        .with_time(idle)
        .with_interval(crate::Config::KEEPALIVE_INTERVAL);
    if let Err(error) = socket2::SockRef::from(tcp).set_tcp_keepalive(&params) {
        debug!(%error, "set_tcp_keepalive failed");
    }
}

async fn finish_writer(
    writer: std::pin::Pin<&mut impl Future<Output = Result<Option<CloseReason>, WebSocketError>>>,
) -> Option<CloseReason> {
    tokio::time::timeout(CLOSE_TIMEOUT, writer)
        .await
        .ok()
        .and_then(Result::ok)
        .flatten()
}

/// Ends the gateway's side and reads what the client still sends, for a bounded time.
async fn drain(tcp: &mut TcpStream) {
    let _ = tcp.shutdown().await;
    let _ = tokio::time::timeout(LINGER, async {
        let mut sink = [0u8; 512];
        while let Ok(n) = tcp.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

async fn read_loop(source: &mut Source<'_>, client: &Client<'_>) -> ReadEnd {
    let config = &client.shared.config;
    let mut bucket = TokenBucket::new(config.rate_burst, Instant::now());
    let mut partial: Option<Box<Partial>> = None;
    loop {
        // Backpressure: this client's messages wait in link queues past its allowance.
        std::future::poll_fn(|cx| client.conn.poll_up_room(cx)).await;
        // The idle timeout covers the wait and the frame's whole read, so a client that
        // starts a frame and stops is closed too. Boxed: the timer lives on the heap
        // while the socket waits, and the task's future stays small.
        let next = tokio::time::timeout(
            config.idle_timeout,
            next_frame(source, config.max_frame_bytes),
        );
        let frame = match Box::pin(next).await {
            Ok(Ok(Some(frame))) => frame,
            Ok(Ok(None)) => return ReadEnd::Gone,
            Ok(Err(error)) => return read_error(&error),
            Err(_elapsed) => return ReadEnd::Close(CloseReason::IDLE),
        };
        let cost = if frame.opcode == OpCode::Binary {
            CHUNK_COST
        } else {
            1.0
        };
        if !bucket.take(cost, config.rate_per_sec, config.rate_burst, Instant::now()) {
            return ReadEnd::Close(CloseReason::RATE_LIMITED);
        }
        client.shared.metrics.frames_up.increment(1);
        let message = match frame.opcode {
            OpCode::Text | OpCode::Binary if partial.is_some() => {
                return ReadEnd::Close(CloseReason::PROTOCOL);
            }
            OpCode::Text | OpCode::Binary if frame.fin => (frame.opcode, frame.payload.to_vec()),
            OpCode::Text | OpCode::Binary => {
                partial = Some(Box::new(Partial {
                    opcode: frame.opcode,
                    bytes: frame.payload.to_vec(),
                }));
                continue;
            }
            OpCode::Continuation => {
                let Some(mut started) = partial.take() else {
                    return ReadEnd::Close(CloseReason::PROTOCOL);
                };
                if started.bytes.len() + frame.payload.len() > config.max_frame_bytes {
                    return ReadEnd::Close(CloseReason::TOO_BIG);
                }
                started.bytes.extend_from_slice(&frame.payload);
                if !frame.fin {
                    partial = Some(started);
                    continue;
                }
                if started.opcode == OpCode::Text && std::str::from_utf8(&started.bytes).is_err() {
                    return ReadEnd::Close(CloseReason::MALFORMED);
                }
                (started.opcode, started.bytes)
            }
            OpCode::Ping => {
                client.conn.push(Out::Pong(frame.payload.to_vec()));
                continue;
            }
            OpCode::Pong => continue,
            OpCode::Close => return ReadEnd::ClientClosed(close_code(&frame.payload)),
        };
        let handled = match message {
            (OpCode::Text, bytes) => client.text(bytes),
            (_, bytes) => client.binary(bytes),
        };
        if let Err(reason) = handled {
            return ReadEnd::Close(reason);
        }
    }
}

/// Waits for the next frame and reads it; `None` when the stream ended.
async fn next_frame(
    source: &mut Source<'_>,
    max_frame_bytes: usize,
) -> Result<Option<OwnedFrame>, WebSocketError> {
    let head = match source.peek_head().await {
        Ok(head) if !head.is_end() => head,
        _ => return Ok(None),
    };
    let read = frame_reader::read_frame(source, Some(&head), max_frame_bytes);
    Box::pin(read).await.map(Some)
}

/// The code to answer a client's close frame with: its own if valid, else 1000.
fn close_code(payload: &[u8]) -> u16 {
    match payload {
        [a, b, ..] => {
            let code = u16::from_be_bytes([*a, *b]);
            // 1012–1014 (service restart, try again later, bad gateway) are registered
            // codes a peer may send; 1004–1006 and 1015 may not be.
            let valid = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            if valid { code } else { 1002 }
        }
        _ => 1000,
    }
}

fn read_error(error: &WebSocketError) -> ReadEnd {
    match error {
        WebSocketError::FrameTooLarge => ReadEnd::Close(CloseReason::TOO_BIG),
        WebSocketError::InvalidUTF8 => ReadEnd::Close(CloseReason::MALFORMED),
        WebSocketError::ReservedBitsNotZero
        | WebSocketError::ControlFrameFragmented
        | WebSocketError::PingFrameTooLarge
        | WebSocketError::InvalidFragment
        | WebSocketError::InvalidContinuationFrame
        | WebSocketError::InvalidValue => ReadEnd::Close(CloseReason::PROTOCOL),
        _ => ReadEnd::Gone,
    }
}

type Writer<'a> = fastwebsockets::WebSocketWrite<WriteHalf<'a>>;

/// Writes queued frames until a close is written (returned) or the socket fails.
async fn write_loop(
    write: WriteHalf<'_>,
    conn: &Conn,
    write_timeout: Duration,
) -> Result<Option<CloseReason>, WebSocketError> {
    let (_, mut writer) =
        fastwebsockets::after_handshake_split(tokio::io::empty(), write, Role::Server);
    // Vectored writes send header and payload straight from the frame; the default
    // copies small frames into a buffer the writer then keeps for the socket's life.
    writer.set_writev_threshold(0);
    loop {
        let batch = std::future::poll_fn(|cx| conn.poll_take(cx)).await;
        if let Some(reason) = Box::pin(write_batch(&mut writer, batch, write_timeout)).await? {
            return Ok(Some(reason));
        }
    }
}

/// Writes a batch, each frame within `write_timeout`; a frame that takes longer ends the
/// writer with an error, which drops the socket.
async fn write_batch(
    writer: &mut Writer<'_>,
    batch: Batch,
    write_timeout: Duration,
) -> Result<Option<CloseReason>, WebSocketError> {
    for out in batch.frames {
        let frame = match out {
            Out::Text(bytes) => Frame::text(Payload::Owned(bytes)),
            Out::Pong(bytes) => Frame::pong(Payload::Owned(bytes)),
        };
        write_within(writer, frame, write_timeout).await?;
    }
    if let Some(reason) = batch.close {
        let close = Frame::close(reason.code, reason.reason.as_bytes());
        write_within(writer, close, write_timeout).await?;
        return Ok(Some(reason));
    }
    Ok(None)
}

async fn write_within(
    writer: &mut Writer<'_>,
    frame: Frame<'_>,
    write_timeout: Duration,
) -> Result<(), WebSocketError> {
    match tokio::time::timeout(write_timeout, writer.write_frame(frame)).await {
        Ok(written) => written,
        Err(_elapsed) => {
            debug!("write timed out: the client stopped reading");
            Metrics::closed(CloseReason::TRY_AGAIN.label);
            Err(WebSocketError::ConnectionClosed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// While a socket is idle its reader waits in this boxed future (the idle timer and
    /// the peek): it is part of every idle socket's memory.
    #[tokio::test]
    async fn the_idle_wait_stays_small() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut tcp, _) = listener.accept().await.unwrap();
        let (read, _write) = tcp.split();
        let mut source = Source::new(Bytes::new(), read);
        let wait = tokio::time::timeout(Duration::from_secs(60), next_frame(&mut source, 1024));
        let size = std::mem::size_of_val(&wait);
        assert!(size <= 256, "the idle wait is {size} bytes");
    }
}
