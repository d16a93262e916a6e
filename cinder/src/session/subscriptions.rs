//! What a session holds outside itself: its topic subscriptions, its subscriptions to
//! topics' presence and its tracked presences. All of it is released when the session
//! ends, however it ends: a leave, a crash in a callback (caught, or a panic that
//! unwinds the task), a close from this node, its link dropping, or its client going
//! away. Without that, a topic a session subscribed to would stay in the node's registry
//! (and, with Redis, stay `SUBSCRIBE`d) until a later message found the sink gone, so
//! rejoining in a loop onto fresh topics would grow the node without bound.
//!
//! The release runs from the actor's `Drop`, so an unwinding task releases too; the
//! actor's loop also releases before it tells its outbox the session is over, so that
//! whoever waits for the close sees the node without the session's topics.

use cinder_presence::SessionId;
use cinder_pubsub::SubscriptionId;
use tracing::trace;

use super::{Actor, Env};

/// What a session holds in the cluster.
#[derive(Default)]
pub(super) struct Held {
    /// Its subscriptions, in the order made.
    pub(super) subscriptions: Vec<Subscribed>,
    /// Its identity in the presence tracker, from its first `track` on.
    pub(super) presence_id: Option<SessionId>,
}

/// One subscription of a session.
pub(super) struct Subscribed {
    topic: Box<str>,
    id: SubscriptionId,
    /// Made with the presence tracker (`subscribe_presence`), not the pubsub.
    presence: bool,
}

impl Subscribed {
    /// A subscription to `topic`'s messages, through the pubsub.
    pub(super) fn messages(topic: &str, id: SubscriptionId) -> Self {
        Subscribed {
            topic: topic.into(),
            id,
            presence: false,
        }
    }

    /// A subscription to `topic`'s presence, through the tracker.
    pub(super) fn presence(topic: &str, id: SubscriptionId) -> Self {
        Subscribed {
            topic: topic.into(),
            id,
            presence: true,
        }
    }
}

impl<V, O> Actor<V, O> {
    /// What this session holds, allocated on first use.
    pub(super) fn held(&mut self) -> &mut Held {
        self.held.get_or_insert_with(Box::default)
    }

    /// Unsubscribes every subscription and untracks every presence of this session.
    /// Idempotent: a second call finds nothing left.
    pub(super) fn release(&mut self) {
        let (Some(held), Some(env)) = (self.held.take(), self.env.as_deref()) else {
            return;
        };
        release(env, *held);
    }
}

impl<V, O> Drop for Actor<V, O> {
    fn drop(&mut self) {
        self.release();
    }
}

fn release(env: &Env, held: Held) {
    let Held {
        subscriptions,
        presence_id,
    } = held;
    if !subscriptions.is_empty() {
        trace!(
            count = subscriptions.len(),
            "releasing the session's topics"
        );
    }
    for Subscribed {
        topic,
        id,
        presence,
    } in subscriptions
    {
        match (presence, &env.presence, &env.pubsub) {
            (true, Some(tracker), _) => tracker.unsubscribe(&topic, id),
            (false, _, Some(pubsub)) => pubsub.unsubscribe(&topic, id),
            _ => {}
        }
    }
    if let (Some(id), Some(tracker)) = (presence_id, &env.presence) {
        tracker.untrack_session(id);
    }
}
