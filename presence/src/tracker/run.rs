//! The tracker's task: ticks, received messages, gaps and link changes, one at a time.

use std::sync::Arc;
use std::time::Duration;

use cinder_pubsub::SubscriptionId;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior, interval_at};
use tracing::{debug, warn};

use super::wire::Inbound;
use super::{Core, DELIVERY_BATCH};
use crate::codec;

/// Runs until `stop` changes or its sender is dropped, then unsubscribes the shards'
/// topics.
pub(super) async fn run(
    core: Arc<Core>,
    mut inbound: mpsc::Receiver<Inbound>,
    mut link: Option<watch::Receiver<bool>>,
    mut stop: watch::Receiver<bool>,
    subscriptions: Vec<(String, SubscriptionId)>,
) {
    // The shards start with the link up.
    let mut link_up = true;
    if let Some(link) = &mut link
        && !*link.borrow_and_update()
    {
        link_up = false;
        set_link(&core, false);
    }
    // Phoenix's first tick comes after a random 0–25 % of a period, so nodes started
    // together do not heartbeat in step; the vsn's low digits are random enough.
    let period_ms = u64::try_from(core.period.as_millis()).unwrap_or(u64::MAX);
    let jitter = Duration::from_millis(core.me.vsn() % (period_ms / 4 + 1));
    let mut ticks = interval_at(Instant::now() + jitter, core.period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // When the diffs gathered since the last delivery go out.
    let mut deliver_at: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            () = core.flush.notified(), if deliver_at.is_none() => {
                deliver_at = Some(Instant::now() + DELIVERY_BATCH);
            }
            () = sleep_until_some(deliver_at) => {
                deliver_at = None;
                core.flush();
            }
            _ = ticks.tick() => {
                let now = core.now();
                let mut entries = 0;
                for slot in &core.slots {
                    core.step(slot, |shard| {
                        let effects = shard.tick(now);
                        entries += shard.state().len();
                        effects
                    });
                }
                // Counted at each tick rather than at each change: current to one
                // period, at no cost to a track.
                metrics::gauge!("cinder_presence_entries").set(entries as f64);
            }
            Some(event) = inbound.recv() => receive(&core, event),
            up = link_change(&mut link) => match up {
                Some(up) if up != link_up => {
                    link_up = up;
                    set_link(&core, up);
                }
                Some(_) => {}
                // Nobody reports the link any more: keep its last state.
                None => link = None,
            },
        }
    }
    core.flush();
    for (topic, id) in subscriptions {
        core.pubsub.unsubscribe(&topic, id);
    }
    debug!(replica = %core.me, "presence tracker stopped");
}

fn receive(core: &Core, event: Inbound) {
    match event {
        Inbound::Message { shard, payload } => {
            let Some(slot) = core.slots.get(shard) else {
                return;
            };
            let message = match codec::decode(&payload) {
                Ok(message) => message,
                Err(error) => {
                    warn!(%error, shard, "dropped a presence message");
                    return;
                }
            };
            // Our own broadcast, back from the pubsub.
            if message.from().name() == core.me.name() {
                return;
            }
            let now = core.now();
            core.step(slot, |shard| shard.receive(message, now));
        }
        Inbound::Gap { shard } => {
            if let Some(slot) = core.slots.get(shard) {
                debug!(shard, "presence messages may be lost: resyncing");
                let now = core.now();
                core.step(slot, |shard| shard.resync(now));
            }
        }
    }
}

fn set_link(core: &Core, up: bool) {
    debug!(replica = %core.me, up, "cluster link");
    for slot in &core.slots {
        if up {
            let now = core.now();
            core.step(slot, |shard| shard.link_up(now));
        } else {
            core.with_shard(slot, |shard| shard.link_down());
        }
    }
}

/// Waits until `at`; never resolves without one.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The link's next state; `None` once its sender is gone. Never resolves without a
/// link to follow.
async fn link_change(link: &mut Option<watch::Receiver<bool>>) -> Option<bool> {
    match link {
        Some(link) => match link.changed().await {
            Ok(()) => Some(*link.borrow_and_update()),
            Err(_) => None,
        },
        None => std::future::pending().await,
    }
}
