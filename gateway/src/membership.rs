//! View-nodes found in the Redis registry: follows its live members and keeps the links
//! in step with them (`link::Nodes::follow`). A member that appears is linked to; one that
//! leaves is out of placement for new joins at once, while its link serves the sessions it
//! carries until it breaks.
//!
//! What a member is, how the registry rides out a Redis outage (the last set is kept), and
//! the check that a member was signed with the cluster secret (a forged one is ignored
//! with a warning and `cinder_membership_rejected_total`, and never linked to) are
//! `cinder_pubsub::membership`'s business.

use std::sync::Arc;

use cinder_pubsub::membership::Members;
use tokio::sync::watch;
use tracing::info;

use crate::config::Membership;
use crate::error::{Error, Result};
use crate::link::Nodes;

/// Starts reading the registry, believing only members signed with `secret`; refuses an
/// unusable configuration before anything runs.
pub(crate) fn watch(config: &Membership, secret: &[u8]) -> Result<Members> {
    let members = Members::watch(
        &config.redis_url,
        &config.prefix,
        config.poll_interval,
        secret,
    )
    .map_err(Error::InvalidMembership)?;
    // The URL is not logged: it may hold a password.
    info!(prefix = %config.prefix, interval_ms = config.poll_interval.as_millis(), "following the view-node registry");
    Ok(members)
}

/// Applies every change of `members` to `nodes` until `stop` turns true.
pub(crate) fn spawn(members: Members, nodes: Arc<Nodes>, mut stop: watch::Receiver<bool>) {
    let mut changes = members.subscribe();
    tokio::spawn(async move {
        // Polling stops when `members` is dropped, with this task.
        let _members = members;
        loop {
            let live = changes.borrow_and_update().clone();
            nodes.follow(&live);
            tokio::select! {
                changed = changes.changed() => if changed.is_err() {
                    break;
                },
                _ = stop.wait_for(|stopped| *stopped) => break,
            }
        }
    });
}
