//! The least one delivery can cost on this machine: a small frame written to each of N
//! loopback TCP sockets, then read from each peer, on one thread, blocking, with no
//! runtime, no WebSocket and no server. What a fan-out figure cannot go below.
//!
//! `cargo run --release -p cinder-loadtest --example loopback_floor -- [SOCKETS] [BYTES]`
//! (default 9,000 socket pairs, two files each, and 120 bytes: a feed's diff frame).
//! A loopback write also runs the receiving socket's TCP input in the writer's softirq,
//! so the write figure includes most of the receiver's kernel work.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

#[expect(clippy::print_stdout, reason = "it prints its figures")]
fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let sockets: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(9_000);
    let bytes: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(120);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let mut pairs = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        let client = TcpStream::connect(addr)?;
        let (server, _) = listener.accept()?;
        server.set_nodelay(true)?;
        pairs.push((server, client));
    }
    let frame = vec![b'x'; bytes];
    let mut buffer = vec![0u8; 64 * 1024];
    let micros_each = |took: std::time::Duration| took.as_secs_f64() * 1e6 / sockets as f64;
    for round in 1..=5 {
        let start = Instant::now();
        for (server, _) in &mut pairs {
            server.write_all(&frame)?;
        }
        let wrote = start.elapsed();
        let start = Instant::now();
        for (_, client) in &mut pairs {
            let mut read = 0;
            while read < bytes {
                read += client.read(&mut buffer)?;
            }
        }
        let read = start.elapsed();
        println!(
            "round {round}: {sockets} sockets, {bytes} bytes each: write {:.2} µs, read {:.2} µs per socket",
            micros_each(wrote),
            micros_each(read),
        );
    }
    Ok(())
}
