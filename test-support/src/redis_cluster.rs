//! A real Redis Cluster (feature `redis`): six `redis-server --cluster-enabled yes`
//! processes on free loopback ports, joined by `redis-cli --cluster create` into three
//! masters with a replica each, the way an operator builds one. Node timeout 1 s, so a
//! killed master's replica takes over within a few seconds.

use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, bail};

use crate::redis::{RedisServer, Resp, STEP};

/// A running cluster; its processes are killed when it is dropped.
#[derive(Debug)]
pub struct RedisCluster {
    servers: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts six servers and makes them a cluster of three masters and three
    /// replicas; returns once every node reports `cluster_state:ok`.
    pub fn start() -> anyhow::Result<Self> {
        let tag = format!("{}-{:x}", std::process::id(), rand_suffix());
        let mut servers = Vec::new();
        for n in 0..6 {
            let args: Vec<String> = [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                &format!("cinder-cluster-{tag}-{n}.conf"),
                "--cluster-node-timeout",
                "1000",
                // Replicas sync at once, so that one can take over from the start.
                "--repl-diskless-sync-delay",
                "0",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
            servers.push(RedisServer::start_with_args(&args)?);
        }
        let addresses: Vec<String> = servers
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port()))
            .collect();
        let status = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .context("running redis-cli --cluster create (apt-get install redis-tools)")?;
        if !status.success() {
            bail!("redis-cli --cluster create failed: {status}");
        }
        let cluster = RedisCluster { servers };
        cluster.wait_ok()?;
        Ok(cluster)
    }

    /// Every node's `redis://` URL, comma-separated: what Cinder's `--redis` takes to
    /// speak Redis Cluster.
    pub fn urls(&self) -> String {
        self.servers
            .iter()
            .map(RedisServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The servers, in creation order.
    pub fn servers(&self) -> &[RedisServer] {
        &self.servers
    }

    /// The index of the master serving `key`'s slot (`CLUSTER KEYSLOT`, then the node
    /// whose `CLUSTER NODES` line owns it as master).
    pub fn master_of(&self, key: &str) -> anyhow::Result<usize> {
        let Resp::Int(slot) = self.servers[0].command(&[b"CLUSTER", b"KEYSLOT", key.as_bytes()])?
        else {
            bail!("no slot for {key}");
        };
        let nodes = self.nodes()?;
        for line in nodes.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 9 || !fields[2].contains("master") || fields[2].contains("fail") {
                continue;
            }
            let owns = fields[8..].iter().any(|range| {
                let (a, b) = range.split_once('-').unwrap_or((range, range));
                matches!((a.parse::<i64>(), b.parse::<i64>()), (Ok(a), Ok(b)) if (a..=b).contains(&slot))
            });
            if owns {
                let port = fields[1]
                    .split(['@', ':'])
                    .nth(1)
                    .and_then(|p| p.parse::<u16>().ok());
                if let Some(i) = self.servers.iter().position(|s| Some(s.port()) == port) {
                    return Ok(i);
                }
            }
        }
        bail!("no live master owns slot {slot}")
    }

    /// Moves the slot of `key` from its master to master `to` with
    /// `redis-cli --cluster reshard`, as an operator would: it moves the source's slots
    /// from the start of `key`'s range up to `key`'s own.
    pub fn reshard_slot_of(&self, key: &str, to: usize) -> anyhow::Result<()> {
        let Resp::Int(slot) = self.servers[0].command(&[b"CLUSTER", b"KEYSLOT", key.as_bytes()])?
        else {
            bail!("no slot for {key}");
        };
        let from = self.master_of(key)?;
        let nodes = self.nodes()?;
        let line_of = |i: usize| {
            let port = format!(":{}@", self.servers[i].port());
            nodes
                .lines()
                .find(|line| {
                    line.split_whitespace()
                        .nth(1)
                        .is_some_and(|a| a.contains(&port))
                })
                .map(|line| {
                    line.split_whitespace()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .with_context(|| format!("node {i} is not in CLUSTER NODES"))
        };
        let (source, target) = (line_of(from)?, line_of(to)?);
        let start = source[8..]
            .iter()
            .filter_map(|range| {
                let (a, b) = range.split_once('-').unwrap_or((range, range));
                let (a, b) = (a.parse::<i64>().ok()?, b.parse::<i64>().ok()?);
                (a..=b).contains(&slot).then_some(a)
            })
            .next()
            .context("the source owns no range with the slot")?;
        let status = Command::new("redis-cli")
            .args(["--cluster", "reshard"])
            .arg(format!("127.0.0.1:{}", self.servers[from].port()))
            .args(["--cluster-from", &source[0], "--cluster-to", &target[0]])
            .args([
                "--cluster-slots",
                &(slot - start + 1).to_string(),
                "--cluster-yes",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .context("running redis-cli --cluster reshard")?;
        if !status.success() {
            bail!("redis-cli --cluster reshard failed: {status}");
        }
        Ok(())
    }

    /// `CLUSTER NODES` as some live node sees it.
    fn nodes(&self) -> anyhow::Result<String> {
        for server in &self.servers {
            if let Ok(Resp::Bulk(Some(bytes))) = server.command(&[b"CLUSTER", b"NODES"]) {
                return Ok(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        bail!("no node answers CLUSTER NODES")
    }

    /// SIGKILLs server `index`.
    pub fn kill(&mut self, index: usize) {
        self.servers[index].kill();
    }

    /// Waits until every live node reports `cluster_state:ok`, and every live replica
    /// has synced with its master (only a synced replica may take over).
    pub fn wait_ok(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let ok = self.servers.iter().all(|server| {
                let info = |section: &[u8]| match server.command(&[b"INFO", section]) {
                    Ok(Resp::Bulk(Some(info))) => Some(String::from_utf8_lossy(&info).into_owned()),
                    _ => None,
                };
                let (Some(cluster), Some(replication)) = (info(b"cluster"), info(b"replication"))
                else {
                    // A killed node does not answer; the others decide.
                    return true;
                };
                let state = match server.command(&[b"CLUSTER", b"INFO"]) {
                    Ok(Resp::Bulk(Some(state))) => String::from_utf8_lossy(&state).into_owned(),
                    _ => String::new(),
                };
                cluster.contains("cluster_enabled:1")
                    && state.contains("cluster_state:ok")
                    && (replication.contains("role:master")
                        || replication.contains("master_link_status:up"))
            });
            if ok {
                return Ok(());
            }
            if started.elapsed() > STEP * 3 {
                bail!("the cluster never reached cluster_state:ok");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher as _, RandomState};
    RandomState::new().hash_one(Instant::now())
}
