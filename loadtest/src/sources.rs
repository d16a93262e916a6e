//! Where connections come from: one box past the ~28,000 ephemeral ports a single
//! source address has per destination.
//!
//! `--sources 127.0.0.2-127.0.0.254` (or a comma list) gives the addresses; connection
//! `i` binds to address `i mod n` with `IP_BIND_ADDRESS_NO_PORT`, so the kernel picks the
//! port at `connect` time per 4-tuple instead of reserving one per bind. On loopback
//! every `127.0.0.0/8` address works without configuration; on a real network each must
//! be assigned to an interface.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use anyhow::{Context as _, bail};
use nix::sys::socket::{setsockopt, sockopt::IpBindAddressNoPort};
use tokio::net::{TcpSocket, TcpStream};

/// The source addresses connections bind to; empty means the kernel's choice.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sources(Vec<Ipv4Addr>);

impl Sources {
    /// Parses `A-B` (an inclusive IPv4 range) or `A,B,…`.
    pub(crate) fn parse(spec: &str) -> anyhow::Result<Sources> {
        let mut addrs = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('-') {
                Some((from, to)) => {
                    let from: Ipv4Addr = from.parse().with_context(|| bad(part))?;
                    let to: Ipv4Addr = to.parse().with_context(|| bad(part))?;
                    if u32::from(to) < u32::from(from) || u32::from(to) - u32::from(from) > 1 << 20
                    {
                        bail!("--sources {part}: the range is empty or larger than 2^20");
                    }
                    addrs.extend((u32::from(from)..=u32::from(to)).map(Ipv4Addr::from));
                }
                None => addrs.push(part.parse().with_context(|| bad(part))?),
            }
        }
        Ok(Sources(addrs))
    }

    /// The sources a share of the connections uses: every `of`-th from `index`, so that
    /// processes of one run never bind the same address (when there are enough).
    pub(crate) fn share(&self, index: usize, of: usize) -> Sources {
        if self.0.len() < of.max(1) {
            return self.clone();
        }
        Sources(self.0.iter().skip(index).step_by(of).copied().collect())
    }

    /// How many addresses there are.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }

    /// Connects to `to` from source `n mod len` (or the kernel's choice), within
    /// `timeout`.
    pub(crate) async fn connect(
        &self,
        n: usize,
        to: SocketAddr,
        timeout: Duration,
    ) -> std::io::Result<TcpStream> {
        let socket = TcpSocket::new_v4()?;
        if let Some(source) = self.0.get(n % self.0.len().max(1)) {
            setsockopt(&socket, IpBindAddressNoPort, &true)?;
            socket.bind(SocketAddr::V4(SocketAddrV4::new(*source, 0)))?;
        }
        socket.set_nodelay(true)?;
        match tokio::time::timeout(timeout, socket.connect(to)).await {
            Ok(connected) => connected,
            Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
        }
    }
}

fn bad(part: &str) -> String {
    format!("--sources {part}: expected IPv4 addresses, A-B or A,B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_lists_parse_and_share_without_overlap() -> anyhow::Result<()> {
        let sources = Sources::parse("127.0.0.2-127.0.0.5, 127.0.1.1")?;
        assert_eq!(sources.len(), 5);
        let (a, b) = (sources.share(0, 2), sources.share(1, 2));
        assert_eq!((a.len(), b.len()), (3, 2));
        assert!(a.0.iter().all(|x| !b.0.contains(x)));
        assert!(Sources::parse("127.0.0.9-127.0.0.1").is_err());
        assert!(Sources::parse("nope").is_err());
        Ok(())
    }

    #[tokio::test]
    async fn a_connection_comes_from_its_source() -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let sources = Sources::parse("127.0.0.7")?;
        let to = listener.local_addr()?;
        let _client = sources.connect(0, to, Duration::from_secs(5)).await?;
        let (_server, peer) = listener.accept().await?;
        assert_eq!(peer.ip(), Ipv4Addr::new(127, 0, 0, 7));
        Ok(())
    }
}
