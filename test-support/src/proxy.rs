//! A TCP proxy that can be cut: every connection through it dropped and new ones
//! refused, until it heals. Stands between one view-node and Redis to partition that
//! node from the cluster (the demo's cluster tests, `cinder-loadtest converge`).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A TCP proxy to `target` on a loopback port of its own; its threads live as long as
/// the process.
#[derive(Debug)]
pub struct Proxy {
    /// Where to connect instead of `target`.
    pub addr: SocketAddr,
    cut: Arc<AtomicBool>,
    /// Bumped by every cut: connections born before it end.
    generation: Arc<AtomicU64>,
}

impl Proxy {
    /// Starts forwarding to `target`.
    pub fn start(target: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let cut = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(AtomicU64::new(0));
        let (c, g) = (cut.clone(), generation.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if c.load(Ordering::SeqCst) {
                    continue; // dropped: refused
                }
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let born = g.load(Ordering::SeqCst);
                pipe(client, server, &c, &g, born);
            }
        });
        Ok(Proxy {
            addr,
            cut,
            generation,
        })
    }

    /// Drops every connection through the proxy and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Accepts connections again.
    pub fn heal(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// Copies both ways until either side closes or the proxy is cut.
fn pipe(a: TcpStream, b: TcpStream, cut: &Arc<AtomicBool>, generation: &Arc<AtomicU64>, born: u64) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    for (mut from, mut to) in [(a2, b2), (b, a)] {
        let (cut, generation) = (cut.clone(), generation.clone());
        std::thread::spawn(move || {
            let _ = from.set_read_timeout(Some(Duration::from_millis(50)));
            let mut buf = [0u8; 16 * 1024];
            loop {
                if cut.load(Ordering::SeqCst) || generation.load(Ordering::SeqCst) != born {
                    break;
                }
                match from.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
            let _ = from.shutdown(std::net::Shutdown::Both);
            let _ = to.shutdown(std::net::Shutdown::Both);
        });
    }
}
