//! Watching the member set: the poll task and the live members it publishes.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio::time::{Instant, MissedTickBehavior};

use super::signature::unix_now_ms;
use super::{Connection, Keys, MAX_MEMBERS, MemberKey, RECONNECT_GRACE};
use crate::{Error, LinkState};

/// Live members: name → the address gateways dial.
type Live = BTreeMap<String, String>;

/// The cluster's live members, read from Redis in the background.
///
/// Dropping it stops the polling; receivers from [`Members::subscribe`] then see their
/// channel close.
#[derive(Debug)]
pub struct Members {
    members: watch::Receiver<Live>,
    health: watch::Receiver<LinkState>,
    /// Dropped with the handle; the poll task sees it and stops.
    _stop: oneshot::Sender<()>,
}

// === impl Members ===

impl Members {
    /// Reads the member set under `prefix` in the Redis at `url` now and every
    /// `interval`: `SMEMBERS <prefix>:members`, then `MGET` of each member's key. Names
    /// whose key has expired are removed from the set (`SREM`) and left out; so are
    /// members not signed with the cluster `secret` (see [`MemberKey`]), with a warning
    /// and `cinder_membership_rejected_total` counting each new one.
    ///
    /// Returns at once, with an empty set until the first read. While Redis does not
    /// answer, the last set read is kept; after Redis comes back, members missing from
    /// the reads are kept for [`RECONNECT_GRACE`] (see the [module doc](super)). Start it
    /// inside a tokio runtime.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an invalid URL, a zero `interval` or an empty
    /// `secret`; [`Error::NoRuntime`] outside a tokio runtime.
    pub fn watch(
        url: &str,
        prefix: &str,
        interval: Duration,
        secret: &[u8],
    ) -> Result<Members, Error> {
        super::secret(secret)?;
        if interval.is_zero() {
            return Err(Error::InvalidConfig(
                "the membership poll interval is zero".to_owned(),
            ));
        }
        let connection = Connection::new(url)?;
        let (members, members_rx) = watch::channel(Live::new());
        let (health, health_rx) = watch::channel(LinkState::Starting);
        let (stop, stopped) = oneshot::channel();
        let poller = Poller {
            connection,
            keys: Keys::new(prefix, url),
            prefix: prefix.to_owned(),
            key: MemberKey::derive(secret),
            rejected: BTreeMap::new(),
            members,
            health,
            back_at: None,
        };
        tokio::spawn(poller.run(interval, stopped));
        Ok(Members {
            members: members_rx,
            health: health_rx,
            _stop: stop,
        })
    }

    /// The live members now: name → address.
    pub fn current(&self) -> BTreeMap<String, String> {
        self.members.borrow().clone()
    }

    /// Follows the live members from now on: the receiver has seen the current set, and
    /// changes only when the set or an address does.
    pub fn subscribe(&self) -> watch::Receiver<BTreeMap<String, String>> {
        seen(&self.members)
    }

    /// Whether the last read reached Redis: `Starting` before the first read, `Up` after
    /// a read that succeeded, `Down` after one that failed (the set is then the last one
    /// read). The gauge `cinder_redis_up` follows it: 1 after a read that succeeded, 0
    /// after one that failed.
    pub fn health(&self) -> LinkState {
        *self.health.borrow()
    }

    /// Follows [`Members::health`] as it changes.
    pub fn watch_health(&self) -> watch::Receiver<LinkState> {
        seen(&self.health)
    }
}

/// The task behind [`Members`].
struct Poller {
    connection: Connection,
    keys: Keys,
    prefix: String,
    /// Checks that members are signed with the cluster secret.
    key: MemberKey,
    /// The members the last read refused, name → value: a forgery is logged and counted
    /// once, not at every poll.
    rejected: BTreeMap<String, Vec<u8>>,
    members: watch::Sender<Live>,
    health: watch::Sender<LinkState>,
    /// When reads succeeded again after failing: members missing from reads are kept
    /// until [`RECONNECT_GRACE`] after this, while registrations come back.
    back_at: Option<Instant>,
}

impl Poller {
    async fn run(mut self, interval: Duration, mut stop: oneshot::Receiver<()>) {
        let mut poll = tokio::time::interval(interval);
        poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut failures = 0u64;
        loop {
            let read = tokio::select! {
                biased;
                _ = &mut stop => return,
                _ = poll.tick() => tokio::select! {
                    biased;
                    _ = &mut stop => return,
                    read = self.read() => read,
                },
            };
            match read {
                Ok(live) => {
                    if failures > 0 {
                        tracing::info!(failures, "member set readable again");
                        self.back_at = Some(Instant::now());
                    }
                    failures = 0;
                    self.apply(live);
                    self.health.send_if_modified(|h| {
                        // Set before the watchers wake, so that one who saw the change reads it.
                        metrics::gauge!("cinder_redis_up").set(1.0);
                        set(h, LinkState::Up)
                    });
                }
                Err(error) => {
                    if failures == 0 {
                        tracing::warn!(%error, "cannot read the member set; keeping the last one");
                    } else {
                        tracing::debug!(%error, failures, "member set still unreadable");
                    }
                    failures += 1;
                    self.health.send_if_modified(|h| {
                        // Set before the watchers wake, so that one who saw the change reads it.
                        metrics::gauge!("cinder_redis_up").set(0.0);
                        set(h, LinkState::Down)
                    });
                }
            }
        }
    }

    /// Publishes `live`, keeping the members it lacks while in the grace after an outage.
    fn apply(&mut self, mut live: Live) {
        let in_grace = self
            .back_at
            .is_some_and(|back| back.elapsed() < RECONNECT_GRACE);
        if in_grace {
            for (name, addr) in self.members.borrow().iter() {
                live.entry(name.clone()).or_insert_with(|| addr.clone());
            }
        } else {
            self.back_at = None;
        }
        self.members.send_if_modified(|members| {
            if *members == live {
                return false;
            }
            tracing::info!(members = ?live, "member set changed");
            *members = live;
            true
        });
    }

    /// One read of the live members; removes the names whose key has expired.
    async fn read(&mut self) -> Result<Live, Error> {
        let mut smembers = redis::pipe();
        smembers.cmd("SMEMBERS").arg(&self.keys.members);
        let (names,): (Vec<Vec<u8>>,) = self.connection.query(&smembers).await?;
        if names.len() > MAX_MEMBERS {
            return Err(Error::TooManyMembers {
                count: names.len(),
                limit: MAX_MEMBERS,
            });
        }
        let names: Vec<String> = names
            .into_iter()
            .filter_map(|name| String::from_utf8(name).ok())
            .collect();
        if names.is_empty() {
            return Ok(Live::new());
        }
        let mut mget = redis::pipe();
        let command = mget.cmd("MGET");
        for name in &names {
            command.arg(self.keys.member(name));
        }
        let (addrs,): (Vec<Option<Vec<u8>>>,) = self.connection.query(&mget).await?;

        let mut live = Live::new();
        let mut expired = Vec::new();
        let mut rejected = BTreeMap::new();
        let now = unix_now_ms();
        for (name, value) in names.into_iter().zip(addrs) {
            let Some(value) = value else {
                expired.push(name);
                continue;
            };
            let checked = std::str::from_utf8(&value)
                .map_err(|_| "not UTF-8")
                .and_then(|text| {
                    self.key
                        .verify(&self.prefix, &name, text, now)
                        .map_err(|forgery| forgery.as_str())
                });
            match checked {
                Ok(addr) => {
                    live.insert(name, addr.to_owned());
                }
                Err(reason) => {
                    if self.rejected.get(&name) != Some(&value) {
                        // Not the address: it may point at whoever forged it, and is
                        // theirs to choose.
                        tracing::warn!(member = %name, reason, "ignoring a member not signed with the cluster secret");
                        metrics::counter!("cinder_membership_rejected_total").increment(1);
                    }
                    rejected.insert(name, value);
                }
            }
        }
        self.rejected = rejected;
        if !expired.is_empty() {
            // A member that registers again between the `MGET` and this `SREM` is added
            // back by its next heartbeat.
            let mut srem = redis::pipe();
            srem.cmd("SREM").arg(&self.keys.members).arg(&expired);
            self.connection.query::<()>(&srem).await?;
            tracing::debug!(members = ?expired, "removed expired members");
        }
        Ok(live)
    }
}

/// A receiver of `value` that has seen its current value, as from `Sender::subscribe`
/// (a plain clone would report the value as changed since the channel was created).
fn seen<T>(value: &watch::Receiver<T>) -> watch::Receiver<T> {
    let mut receiver = value.clone();
    receiver.mark_unchanged();
    receiver
}

/// Sets `state` to `to`; says whether that changed it.
fn set(state: &mut LinkState, to: LinkState) -> bool {
    std::mem::replace(state, to) != to
}
