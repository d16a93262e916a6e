//! Per-client admission: every accepted TCP connection counted against a total and a
//! per-address cap, and dead renders limited per address by a token bucket.
//!
//! A client here is an address: an IPv4 address, or the /64 an IPv6 address is in (one
//! host usually holds a whole /64, so counting single IPv6 addresses would count
//! nothing). Connections are counted at accept, before a byte is read, so a client
//! that opens thousands of connections and trickles its requests holds at most
//! [`Config::max_connections_per_address`] of them, and the process keeps file
//! descriptors for every other client. A connection past a cap is closed at once:
//! no task, no buffer, no reply (a reply would need the request read first).
//!
//! Dead renders cost a view-node a whole page; each address gets
//! [`Config::render_burst`] of them at once and [`Config::renders_per_sec`] after
//! that, and is answered 429 past it. The table of buckets is bounded
//! ([`MAX_RENDER_CLIENTS`]): idle buckets are forgotten, and while the table is full
//! of busy ones a new address is refused too, rather than let the table grow.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use hyper::HeaderMap;

use crate::config::Config;
use crate::rate::TokenBucket;

/// Addresses whose render bucket is kept at most.
pub(crate) const MAX_RENDER_CLIENTS: usize = 65_536;
/// The header a proxy names the client in.
const X_FORWARDED_FOR: &str = "x-forwarded-for";
/// How often a full render table is searched for idle buckets to forget.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

/// The client an address counts as: an IPv4 address (an IPv4-mapped IPv6 one too), or
/// the /64 of an IPv6 address.
pub(crate) fn client(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

/// The address a request's render limit applies to: the peer's, or with
/// `trust_forwarded_for` the last `X-Forwarded-For` entry (the one the trusted proxy
/// added), when it is an address.
pub(crate) fn request_address(
    headers: &HeaderMap,
    peer: IpAddr,
    trust_forwarded_for: bool,
) -> IpAddr {
    if !trust_forwarded_for {
        return peer;
    }
    headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .next_back()
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.rsplit(',').next())
        .and_then(|last| last.trim().parse().ok())
        .unwrap_or(peer)
}

/// The gateway's connection counts and render buckets.
#[derive(Debug)]
pub(crate) struct Admission {
    max_connections: usize,
    max_per_address: usize,
    renders_per_sec: u32,
    render_burst: u32,
    connections: Mutex<Connections>,
    renders: Mutex<Renders>,
}

#[derive(Debug, Default)]
struct Connections {
    open: usize,
    /// Open connections per client; an entry goes when its count reaches zero, so the
    /// map never outgrows the open connections.
    by_client: HashMap<IpAddr, usize>,
}

#[derive(Debug)]
struct Renders {
    buckets: HashMap<IpAddr, Bucket>,
    last_prune: Instant,
}

#[derive(Debug)]
struct Bucket {
    bucket: TokenBucket,
    last_use: Instant,
}

/// One accepted connection, counted until dropped.
#[derive(Debug)]
pub(crate) struct ConnectionPermit {
    admission: Arc<Admission>,
    client: IpAddr,
}

// === impl Admission ===

impl Admission {
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            max_connections: config.max_tcp_connections,
            max_per_address: config.max_connections_per_address,
            renders_per_sec: config.renders_per_sec,
            render_burst: config.render_burst,
            connections: Mutex::default(),
            renders: Mutex::new(Renders {
                buckets: HashMap::new(),
                last_prune: Instant::now(),
            }),
        }
    }

    /// Counts a connection from `peer`, or `None` when the total or the peer's cap is
    /// reached.
    pub(crate) fn open(self: &Arc<Self>, peer: IpAddr) -> Option<ConnectionPermit> {
        let client = client(peer);
        let mut connections = lock(&self.connections);
        if connections.open >= self.max_connections {
            return None;
        }
        let count = connections.by_client.entry(client).or_insert(0);
        if *count >= self.max_per_address {
            return None;
        }
        *count += 1;
        connections.open += 1;
        Some(ConnectionPermit {
            admission: self.clone(),
            client,
        })
    }

    fn close(&self, client: IpAddr) {
        let mut connections = lock(&self.connections);
        connections.open = connections.open.saturating_sub(1);
        if let Entry::Occupied(mut entry) = connections.by_client.entry(client) {
            *entry.get_mut() = entry.get().saturating_sub(1);
            if *entry.get() == 0 {
                entry.remove();
            }
        }
    }

    /// Takes one dead render from `address`'s bucket at `now`; false past its rate, or
    /// when the table is full of busy clients.
    pub(crate) fn allow_render(&self, address: IpAddr, now: Instant) -> bool {
        let (rate, burst) = (self.renders_per_sec, self.render_burst);
        let client = client(address);
        let mut renders = lock(&self.renders);
        if !renders.buckets.contains_key(&client) && renders.buckets.len() >= MAX_RENDER_CLIENTS {
            renders.prune(rate, burst, now);
            if renders.buckets.len() >= MAX_RENDER_CLIENTS {
                return false;
            }
        }
        let entry = renders.buckets.entry(client).or_insert_with(|| Bucket {
            bucket: TokenBucket::new(burst, now),
            last_use: now,
        });
        entry.last_use = now;
        entry.bucket.take(1.0, rate, burst, now)
    }
}

impl Renders {
    /// Forgets the buckets that have refilled (a new one would be the same), at most
    /// once per [`PRUNE_EVERY`] so a flood of new addresses does not scan the table on
    /// every request.
    fn prune(&mut self, rate: u32, burst: u32, now: Instant) {
        if now.saturating_duration_since(self.last_prune) < PRUNE_EVERY {
            return;
        }
        self.last_prune = now;
        let refill = if rate == 0 {
            Duration::MAX
        } else {
            Duration::from_secs_f64(f64::from(burst) / f64::from(rate))
        };
        self.buckets
            .retain(|_, b| now.saturating_duration_since(b.last_use) < refill);
    }
}

impl ConnectionPermit {
    /// The client the connection counts for.
    pub(crate) fn client(&self) -> IpAddr {
        self.client
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.admission.close(self.client);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(total: usize, per_address: usize) -> Arc<Admission> {
        let mut config = Config::new("127.0.0.1:0".parse().unwrap(), vec![], b"s".to_vec());
        config.max_tcp_connections = total;
        config.max_connections_per_address = per_address;
        config.renders_per_sec = 0;
        config.render_burst = 2;
        Arc::new(Admission::new(&config))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(client(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(client(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
        assert_eq!(client(ip("10.0.0.1")), ip("10.0.0.1"));
    }

    #[test]
    fn forwarded_for_is_read_only_when_trusted() {
        let mut headers = HeaderMap::new();
        headers.append(X_FORWARDED_FOR, "1.1.1.1".parse().unwrap());
        headers.append(X_FORWARDED_FOR, "9.9.9.9, 2.2.2.2".parse().unwrap());
        let peer = ip("10.0.0.1");
        assert_eq!(request_address(&headers, peer, false), peer);
        assert_eq!(request_address(&headers, peer, true), ip("2.2.2.2"));
        headers.append(X_FORWARDED_FOR, "garbage".parse().unwrap());
        assert_eq!(request_address(&headers, peer, true), peer);
    }

    #[test]
    fn caps_per_address_and_in_total_and_frees_on_drop() {
        let admission = admission(3, 2);
        let a1 = admission.open(ip("10.0.0.1")).unwrap();
        let _a2 = admission.open(ip("10.0.0.1")).unwrap();
        assert!(admission.open(ip("10.0.0.1")).is_none());
        let _b1 = admission.open(ip("10.0.0.2")).unwrap();
        assert!(
            admission.open(ip("10.0.0.3")).is_none(),
            "the total is reached"
        );
        drop(a1);
        let _a3 = admission.open(ip("10.0.0.1")).unwrap();
        assert_eq!(lock(&admission.connections).by_client.len(), 2);
    }

    #[test]
    fn the_per_address_map_forgets_closed_clients() {
        let admission = admission(10, 10);
        drop(admission.open(ip("2001:db8::1")).unwrap());
        let connections = lock(&admission.connections);
        assert_eq!((connections.open, connections.by_client.len()), (0, 0));
    }

    #[test]
    fn renders_are_limited_per_address() {
        let admission = admission(10, 10);
        let now = Instant::now();
        assert!(admission.allow_render(ip("10.0.0.1"), now));
        assert!(admission.allow_render(ip("10.0.0.1"), now));
        assert!(!admission.allow_render(ip("10.0.0.1"), now));
        assert!(admission.allow_render(ip("10.0.0.2"), now));
    }

    #[test]
    fn idle_render_buckets_are_forgotten_when_the_table_is_full() {
        let mut renders = Renders {
            buckets: HashMap::new(),
            last_prune: Instant::now(),
        };
        let start = Instant::now();
        for n in 0..4u32 {
            renders.buckets.insert(
                IpAddr::from(n.to_be_bytes()),
                Bucket {
                    bucket: TokenBucket::new(2, start),
                    last_use: start + Duration::from_secs(u64::from(n)),
                },
            );
        }
        // Burst 2 at 1/s refills in 2 s: at start + 4 s, the buckets last used at 0, 1
        // and 2 s have; the one used at 3 s has not.
        renders.prune(1, 2, start + Duration::from_secs(4));
        assert_eq!(renders.buckets.len(), 1);
    }
}
