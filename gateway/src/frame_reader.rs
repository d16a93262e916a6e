//! Reading one client WebSocket frame at a time, with no buffer held between frames.
//!
//! fastwebsockets reads into an 8 KiB buffer it keeps for the life of the socket, and
//! reads as much as the kernel has, so the buffer may hold the start of the next frame.
//! An idle socket would hold that buffer forever; at 100k sockets that is 800 MB.
//! Here a socket waits with no buffer at all, by peeking at the next frame's header
//! ([`Source::peek_head`]; a peek also clears a stale readiness, which a plain
//! `readable()` would not), then builds a fastwebsockets reader over [`OneFrame`], a
//! view of the stream that never yields a byte past the end of the current frame, reads
//! exactly one frame, and drops the reader. The kernel keeps whatever follows until the
//! next frame is read.
//!
//! The cost is a peek per frame besides the read (two or three reads when the peek did
//! not catch the whole header), a fair trade on loopback for a socket that costs nothing
//! while idle.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf as _, Bytes, BytesMut};
use fastwebsockets::{Frame, OpCode, Payload, Role, WebSocketError};
use tokio::io::{AsyncRead, AsyncReadExt as _, ReadBuf, Take};
use tokio::net::tcp::ReadHalf;

/// The read side of an upgraded socket: bytes hyper read past the handshake, if any,
/// then the TCP stream.
#[derive(Debug)]
pub(crate) struct Source<'a> {
    prefix: Bytes,
    stream: ReadHalf<'a>,
}

impl<'a> Source<'a> {
    /// `prefix` must own its bytes: a slice of hyper's read buffer would keep that
    /// whole buffer alive for the socket's life.
    pub(crate) fn new(prefix: Bytes, stream: ReadHalf<'a>) -> Self {
        Self { prefix, stream }
    }

    /// Waits for the next frame and returns the start of its header, without consuming
    /// it. An empty head means the stream ended.
    pub(crate) async fn peek_head(&mut self) -> io::Result<Head> {
        let mut head = Head {
            bytes: [0; MAX_HEAD],
            len: 0,
        };
        if self.prefix.is_empty() {
            // `poll_peek` parks the task's waker in the socket's registration; the async
            // `peek` would keep a waiter node in this future instead, 200-odd bytes for
            // every idle socket.
            let (stream, bytes) = (&mut self.stream, &mut head.bytes);
            head.len =
                std::future::poll_fn(|cx| stream.poll_peek(cx, &mut ReadBuf::new(bytes))).await?;
        } else {
            // Rare (a client that did not wait for the 101): read it the slow way.
            head.len = 1;
        }
        Ok(head)
    }
}

impl AsyncRead for Source<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.prefix.is_empty() {
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        }
        let n = this.prefix.len().min(buf.remaining());
        buf.put_slice(&this.prefix[..n]);
        this.prefix.advance(n);
        if this.prefix.is_empty() {
            this.prefix = Bytes::new();
        }
        Poll::Ready(Ok(()))
    }
}

/// The longest WebSocket frame header: 2 bytes, 8 of length, 4 of mask.
const MAX_HEAD: usize = 14;

/// The first bytes of the next frame, peeked.
#[derive(Debug)]
pub(crate) struct Head {
    bytes: [u8; MAX_HEAD],
    len: usize,
}

impl Head {
    /// Whether the stream ended instead.
    pub(crate) fn is_end(&self) -> bool {
        self.len == 0
    }

    /// The whole frame's length on the wire, if the peek caught the whole header.
    fn frame_len(&self) -> Option<u64> {
        let head = &self.bytes[..self.len];
        let [_, second, ..] = *head else {
            return None;
        };
        let extended = match second & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if second & 0x80 != 0 { 4 } else { 0 };
        let header = 2 + extended + mask;
        if head.len() < header {
            return None;
        }
        let payload = match extended {
            2 => u64::from(u16::from_be_bytes([head[2], head[3]])),
            8 => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(&head[2..10]);
                u64::from_be_bytes(bytes)
            }
            _ => u64::from(second & 0x7f),
        };
        Some((header as u64).saturating_add(payload))
    }
}

/// A view of a stream that ends where the current WebSocket frame ends.
///
/// It follows the header as it passes: first 2 bytes, then the extended length and
/// mask those announce, then exactly the payload length.
struct OneFrame<'s, R> {
    inner: Take<&'s mut R>,
    head: [u8; MAX_HEAD],
    head_len: usize,
    in_payload: bool,
}

impl<'s, R: AsyncRead + Unpin> OneFrame<'s, R> {
    /// A view over `inner`; `frame_len` is the frame's wire length when already known
    /// (then one read may take it all).
    fn new(inner: &'s mut R, frame_len: Option<u64>) -> Self {
        Self {
            inner: inner.take(frame_len.unwrap_or(2)),
            head: [0; MAX_HEAD],
            head_len: 0,
            in_payload: frame_len.is_some(),
        }
    }

    /// Header bytes needed given what has been seen.
    fn head_needed(&self) -> usize {
        if self.head_len < 2 {
            return 2;
        }
        let extended = match self.head[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if self.head[1] & 0x80 != 0 { 4 } else { 0 };
        2 + extended + mask
    }

    fn payload_len(&self) -> u64 {
        match self.head[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes([self.head[2], self.head[3]])),
            127 => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(&self.head[2..10]);
                u64::from_be_bytes(bytes)
            }
            len => u64::from(len),
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for OneFrame<'_, R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.in_payload {
            let needed = this.head_needed() - this.head_len;
            this.inner.set_limit(needed as u64);
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if !this.in_payload {
            let fresh = &buf.filled()[before..];
            this.head[this.head_len..this.head_len + fresh.len()].copy_from_slice(fresh);
            this.head_len += fresh.len();
            if this.head_len >= 2 && this.head_len == this.head_needed() {
                this.in_payload = true;
                this.inner.set_limit(this.payload_len());
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// One frame, owning its payload.
#[derive(Debug)]
pub(crate) struct OwnedFrame {
    pub(crate) fin: bool,
    pub(crate) opcode: OpCode,
    pub(crate) payload: BytesMut,
}

/// Reads exactly one frame from `source`, whose start `head` peeked (if known); frames
/// larger than `max_payload` bytes fail with [`WebSocketError::FrameTooLarge`] before
/// their payload is read.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(
    source: &mut R,
    head: Option<&Head>,
    max_payload: usize,
) -> Result<OwnedFrame, WebSocketError> {
    let (mut reader, _) = fastwebsockets::after_handshake_split(
        OneFrame::new(source, head.and_then(Head::frame_len)),
        tokio::io::sink(),
        Role::Server,
    );
    // Close and ping are answered by the socket's writer, through its outbox.
    reader.set_auto_close(false);
    reader.set_auto_pong(false);
    // fastwebsockets refuses `len >= max`; the limit here is inclusive.
    reader.set_max_message_size(max_payload.saturating_add(1));
    let frame: Frame<'_> = reader
        .read_frame(&mut |_| std::future::ready(Ok::<(), io::Error>(())))
        .await?;
    let Frame {
        fin,
        opcode,
        payload,
        ..
    } = frame;
    let payload = match payload {
        Payload::Bytes(bytes) => bytes,
        other => BytesMut::from(&other[..]),
    };
    Ok(OwnedFrame {
        fin,
        opcode,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt as _;

    fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1u8, 2, 3, 4];
        let mut out = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n < 65536 => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    #[tokio::test]
    async fn reads_back_to_back_frames_one_at_a_time() {
        let (mut client, mut server) = tokio::io::duplex(1 << 20);
        let big = vec![b'x'; 70_000];
        let mut wire = masked(1, b"first");
        wire.extend(masked(2, &[9; 300]));
        wire.extend(masked(1, &big));
        wire.extend(masked(9, b""));
        client.write_all(&wire).await.unwrap();
        drop(client);

        let frame = read_frame(&mut server, None, 1 << 20).await.unwrap();
        assert_eq!(
            (frame.opcode, &frame.payload[..]),
            (OpCode::Text, &b"first"[..])
        );
        let frame = read_frame(&mut server, None, 1 << 20).await.unwrap();
        assert_eq!(
            (frame.opcode, &frame.payload[..]),
            (OpCode::Binary, &[9; 300][..])
        );
        let frame = read_frame(&mut server, None, 1 << 20).await.unwrap();
        assert_eq!(frame.payload.len(), big.len());
        let frame = read_frame(&mut server, None, 1 << 20).await.unwrap();
        assert_eq!(frame.opcode, OpCode::Ping);
        assert!(matches!(
            read_frame(&mut server, None, 1 << 20).await,
            Err(WebSocketError::UnexpectedEOF)
        ));
    }

    #[tokio::test]
    async fn a_peeked_header_lets_one_read_take_the_frame() {
        let (mut client, mut server) = tokio::io::duplex(1 << 20);
        let mut wire = masked(1, &[b'y'; 200]);
        wire.extend(masked(1, b"next"));
        client.write_all(&wire).await.unwrap();
        let mut head = Head {
            bytes: [0; MAX_HEAD],
            len: MAX_HEAD,
        };
        head.bytes.copy_from_slice(&wire[..MAX_HEAD]);
        assert_eq!(head.frame_len(), Some(2 + 2 + 4 + 200));
        let frame = read_frame(&mut server, Some(&head), 1 << 20).await.unwrap();
        assert_eq!(&frame.payload[..], &[b'y'; 200][..]);
        let frame = read_frame(&mut server, None, 1 << 20).await.unwrap();
        assert_eq!(&frame.payload[..], b"next");
    }

    #[tokio::test]
    async fn refuses_frames_over_the_limit_before_reading_them() {
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        client.write_all(&masked(1, &[b'a'; 101])).await.unwrap();
        assert!(matches!(
            read_frame(&mut server, None, 100).await,
            Err(WebSocketError::FrameTooLarge)
        ));
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        client.write_all(&masked(1, &[b'a'; 100])).await.unwrap();
        assert_eq!(
            read_frame(&mut server, None, 100)
                .await
                .unwrap()
                .payload
                .len(),
            100
        );
    }
}
