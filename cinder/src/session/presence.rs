//! The session's presence: tracking and untracking its keys, and its subscriptions to
//! topics' presence, kept whole even when its mailbox overflows.
//!
//! A subscription starts with the tracker's `presence_state`, then gets every
//! `presence_diff` (see [`cinder_presence::Tracker::subscribe_with_state`]). A diff that
//! finds the mailbox full is lost; the sink then starts one retry task that queues a
//! [`PresenceResync`] as soon as there is room, and handling it hands the view the
//! topic's state again, which `sync_state` turns into the joins and leaves it missed.
//! So a quiet topic is not left stale until its next change.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use cinder_presence::SessionId;
use cinder_pubsub::{Delivery, Message};
use serde_json::json;
use tracing::{debug, warn};

use super::{Actor, Input, Outbox, SendError, Subscribed};
use crate::mailbox::WeakSender;
use crate::socket::PresenceChange;
use crate::view::LiveView;

/// How often a resync waits for room in a full mailbox.
const RESYNC_RETRY: Duration = Duration::from_millis(50);

/// Queued (as [`Input::Info`]) when a presence subscription dropped diffs: the view
/// gets the topic's `presence_state` again.
pub(super) struct PresenceResync<I> {
    topic: Arc<str>,
    convert: fn(&Message) -> I,
    /// Set while this resync is on its way; cleared when it is handled, so a diff
    /// dropped after that starts another.
    pending: Arc<AtomicBool>,
}

impl<I: Send + 'static> PresenceResync<I> {
    /// Queues a resync of `topic` for the session behind `me` unless one is on its way:
    /// at once if there is room, else from a task that waits for room.
    fn start(
        me: &WeakSender<Input>,
        topic: Arc<str>,
        convert: fn(&Message) -> I,
        pending: &Arc<AtomicBool>,
    ) {
        if pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let resync = PresenceResync {
            topic,
            convert,
            pending: Arc::clone(pending),
        };
        let me = me.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let mut input = Input::Info(Box::new(resync));
                    loop {
                        match me.offer(input) {
                            Err((SendError::Full, refused)) => input = refused,
                            _ => return,
                        }
                        tokio::time::sleep(RESYNC_RETRY).await;
                    }
                });
            }
            Err(_) => warn!("presence diffs dropped outside a runtime: no resync"),
        }
    }
}

impl<V: LiveView, O: Outbox> Actor<V, O> {
    /// Subscribes to `topic`'s presence: the tracker queues its state, then its diffs,
    /// into `sink`; a diff (or the state) that finds the mailbox full starts a resync.
    pub(super) fn subscribe_presence(
        &mut self,
        topic: &str,
        convert: fn(&Message) -> V::Info,
        sink: cinder_pubsub::Sink,
    ) {
        let Some(tracker) = self.tracker() else {
            warn!(%topic, "presence without a tracker: ignored");
            return;
        };
        let (me, pending) = (self.me.clone(), Arc::new(AtomicBool::new(false)));
        let sink = Box::new(move |message: &Message| match sink(message) {
            Delivery::Dropped => {
                PresenceResync::start(&me, message.topic.clone(), convert, &pending);
                Delivery::Delivered
            }
            other => other,
        });
        let id = tracker.subscribe_with_state(topic, sink);
        self.held()
            .subscriptions
            .push(Subscribed::presence(topic, id));
    }

    /// The view's presence subscription to `resync.topic` lost diffs: its state again,
    /// as the subscription's next message.
    pub(super) fn presence_resync(&self, resync: &PresenceResync<V::Info>) -> V::Info {
        debug!(topic = %resync.topic, "presence diffs were dropped: resyncing");
        resync.pending.store(false, Ordering::Release);
        let state = match self.tracker() {
            Some(tracker) => tracker.delivered_state(&resync.topic),
            None => Message {
                topic: resync.topic.clone(),
                payload: Arc::new(json!({"event": "presence_state", "payload": {}})),
            },
        };
        (resync.convert)(&state)
    }

    /// Tracks and untracks this session's presences.
    pub(super) fn presence(&mut self, changes: Vec<PresenceChange>) {
        let Some(tracker) = self.tracker().cloned() else {
            warn!("track/untrack without a tracker: ignored");
            return;
        };
        let id = *self.held().presence_id.get_or_insert_with(|| {
            static NEXT: AtomicU64 = AtomicU64::new(1);
            SessionId(NEXT.fetch_add(1, Ordering::Relaxed))
        });
        for change in changes {
            match change {
                PresenceChange::Track { topic, key, meta } => {
                    let tracked = match tracker.track(id, &topic, &key, meta.clone()) {
                        // Tracking again replaces the meta.
                        Err(cinder_presence::Error::AlreadyTracked { .. }) => {
                            tracker.update(id, &topic, &key, meta)
                        }
                        other => other,
                    };
                    if let Err(err) = tracked {
                        warn!(%topic, %key, %err, "track refused");
                    }
                }
                PresenceChange::Untrack { topic, key } => tracker.untrack(id, &topic, &key),
            }
        }
    }
}
