//! The subscriber on a Redis Cluster: the node's direct channel and its topics on
//! sharded pubsub (`SSUBSCRIBE`), each at the master that owns its channel's hash slot,
//! so that a publish reaches only the shard of its channel (a plain `PUBLISH` on a
//! cluster is copied to every shard).
//!
//! One task owns a cluster connection (redis-rs's, over RESP3: a connection per master,
//! routed by slot, following `MOVED`). Messages arrive as pushes and go straight to the
//! dispatch queue, as on a single Redis. Subscriptions follow the registry the same way
//! (`Changes`), one channel per command, since a command's channels must share a slot.
//!
//! What can lose messages, and the gap each one raises:
//!
//! - A connection to some master drops (a crash, a failover): the session ends. The next
//!   opens a fresh cluster connection (the current slot map), subscribes everything
//!   again, and only then raises a [`GapCause::Reconnected`] gap on every topic, as
//!   after a single Redis's loss. While a dead master's slots have no new owner yet,
//!   opening fails and is retried with backoff; the health says `Down` meanwhile.
//! - A slot moves (resharding): Redis unsubscribes its channels (`sunsubscribe` pushes
//!   nobody asked for). Each such topic is subscribed again (redis-rs follows `MOVED` to
//!   the new owner) and gets its gap once the new owner confirms it.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Msg, ProtocolVersion, PushInfo, PushKind, Value};
use std::future::Future;
use tokio::sync::{Notify, mpsc};
use tokio::time::{Instant, MissedTickBehavior};

use super::channel::Route;
use super::link::{Subscriber, forward, supervise};
use super::{LinkError, Shared, Stop, within};
use crate::GapCause;

/// Subscription confirmations and removals waiting for the task; past this the session
/// starts over (everything subscribed again, every topic gapped).
const CONTROL: usize = 4096;

/// The seed URLs of a cluster, if `url` names one: a comma-separated list of
/// `redis://` URLs, or one `redis+cluster://` (`rediss+cluster://`) URL.
pub(crate) fn seeds(url: &str) -> Option<Vec<String>> {
    if url.contains(',') {
        return Some(
            url.split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect(),
        );
    }
    let rest = url
        .strip_prefix("redis+cluster://")
        .map(|rest| format!("redis://{rest}"))
        .or_else(|| {
            url.strip_prefix("rediss+cluster://")
                .map(|rest| format!("rediss://{rest}"))
        })?;
    Some(vec![rest])
}

/// Keeps the cluster subscriber up until the backend stops.
pub(super) async fn run(
    shared: Arc<Shared>,
    seeds: Vec<String>,
    inbound: mpsc::Sender<Msg>,
    stop: Stop,
) {
    let open = || Session::open(&shared, &seeds, &inbound);
    supervise(&shared, stop, "Redis Cluster subscriber", open).await;
}

/// A push the task acts on.
enum Control {
    /// Redis confirmed a subscription to this channel.
    Subscribed(String),
    /// Redis dropped a subscription to this channel.
    Unsubscribed(String),
}

/// One cluster connection and what Redis has confirmed on it.
struct Session {
    connection: ClusterConnection,
    control: mpsc::Receiver<Control>,
    /// A master's connection dropped, or the control queue overflowed.
    lost: Arc<Notify>,
    subscribed: HashSet<Arc<str>>,
    /// Topics Redis unsubscribed by itself (their slot moved): they get their gap once
    /// subscribed again.
    moved: HashSet<Arc<str>>,
}

impl Session {
    /// Connects to the cluster, then subscribes the direct channel and every topic with
    /// a subscriber.
    async fn open(
        shared: &Arc<Shared>,
        seeds: &[String],
        inbound: &mpsc::Sender<Msg>,
    ) -> Result<Self, LinkError> {
        let config = &shared.config;
        let (control_tx, control) = mpsc::channel(CONTROL);
        let lost = Arc::new(Notify::new());
        let pushes = {
            let (shared, inbound, lost) = (shared.clone(), inbound.clone(), lost.clone());
            move |push: PushInfo| -> Result<(), ()> {
                on_push(&shared, &inbound, &control_tx, &lost, push);
                Ok(())
            }
        };
        let client = ClusterClientBuilder::new(seeds.to_vec())
            .use_protocol(ProtocolVersion::RESP3)
            .push_sender(pushes)
            .connection_timeout(config.connect_timeout)
            .response_timeout(config.response_timeout)
            .build()
            .map_err(|e| LinkError::Redis("cluster client", e))?;
        let mut connection = within(
            config.connect_timeout,
            "connect",
            client.get_async_connection(),
        )
        .await?;
        within(
            config.response_timeout,
            "SSUBSCRIBE (direct channel)",
            connection.ssubscribe(shared.channels.own()),
        )
        .await?;
        let requested = shared.changes.requested.load(Ordering::SeqCst);
        shared.changes.take();
        let topics = shared.registry.topics();
        let subscribes = topics.iter().map(|topic| {
            let mut connection = connection.clone();
            let channel = shared.channels.topic(topic);
            async move { connection.ssubscribe(channel).await }
        });
        // Every topic in flight at once: about one round trip per master.
        within(
            config.response_timeout,
            "SSUBSCRIBE (topics)",
            futures_util::future::try_join_all(subscribes),
        )
        .await?;
        shared.changes.applied(requested);
        Ok(Session {
            connection,
            control,
            lost,
            subscribed: topics.into_iter().collect(),
            moved: HashSet::new(),
        })
    }

    /// Runs until a master's connection drops or a command fails.
    async fn run(&mut self, shared: &Shared) -> LinkError {
        let interval = shared.config.probe_interval;
        let mut probe = tokio::time::interval_at(Instant::now() + interval, interval);
        probe.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let step = tokio::select! {
                control = self.control.recv() => match control {
                    Some(control) => self.on_control(shared, control).await,
                    None => Err(LinkError::Closed),
                },
                () = self.lost.notified() => Err(LinkError::NodeLost),
                () = shared.changes.wake.notified() => self.sync(shared).await,
                _ = probe.tick() => within(
                    shared.config.response_timeout,
                    "PING",
                    redis::cmd("PING").query_async::<Value>(&mut self.connection),
                )
                .await
                .map(drop),
            };
            if let Err(error) = step {
                return error;
            }
        }
    }

    async fn on_control(&mut self, shared: &Shared, control: Control) -> Result<(), LinkError> {
        match control {
            Control::Subscribed(channel) => {
                if let Some(Route::Topic(topic)) = shared.channels.route(&channel)
                    && let Some(topic) = self.moved.take(topic)
                {
                    shared.gap(&topic, GapCause::Reconnected);
                }
                Ok(())
            }
            Control::Unsubscribed(channel) => {
                let wanted = match shared.channels.route(&channel) {
                    Some(Route::Direct) => true,
                    Some(Route::Topic(topic)) => match self.subscribed.get(topic) {
                        Some(topic) => {
                            self.moved.insert(topic.clone());
                            true
                        }
                        // One this task unsubscribed.
                        None => false,
                    },
                    None => false,
                };
                if !wanted {
                    return Ok(());
                }
                tracing::info!(%channel, "Redis moved a subscribed channel's slot; subscribing at its new owner");
                within(
                    shared.config.response_timeout,
                    "SSUBSCRIBE (moved slot)",
                    self.connection.ssubscribe(channel),
                )
                .await
            }
        }
    }

    /// Subscribes topics that gained a first subscriber and unsubscribes those that lost
    /// their last.
    async fn sync(&mut self, shared: &Shared) -> Result<(), LinkError> {
        let requested = shared.changes.requested.load(Ordering::SeqCst);
        let mut add = Vec::new();
        let mut remove = Vec::new();
        for topic in shared.changes.take() {
            match (
                shared.registry.contains(&topic),
                self.subscribed.contains(&topic),
            ) {
                (true, false) => add.push(topic),
                (false, true) => remove.push(topic),
                _ => {}
            }
        }
        // Forgotten before Redis confirms, so that the confirmation is not taken for a
        // moved slot.
        for topic in &remove {
            self.subscribed.remove(topic);
            self.moved.remove(topic);
        }
        let commands = add
            .iter()
            .map(|topic| (true, topic))
            .chain(remove.iter().map(|topic| (false, topic)))
            .map(|(subscribe, topic)| {
                let mut connection = self.connection.clone();
                let channel = shared.channels.topic(topic);
                async move {
                    if subscribe {
                        connection.ssubscribe(channel).await
                    } else {
                        connection.sunsubscribe(channel).await
                    }
                }
            });
        within(
            shared.config.response_timeout,
            "SSUBSCRIBE/SUNSUBSCRIBE",
            futures_util::future::try_join_all(commands),
        )
        .await?;
        self.subscribed.extend(add);
        shared.changes.applied(requested);
        Ok(())
    }
}

impl Subscriber for Session {
    fn subscribed(&self) -> &HashSet<Arc<str>> {
        &self.subscribed
    }

    fn serve(&mut self, shared: &Shared) -> impl Future<Output = LinkError> {
        self.run(shared)
    }
}

/// Sorts a push from the cluster connection: messages to the dispatch queue at once,
/// subscription changes to the task, a dropped connection to `lost`.
fn on_push(
    shared: &Shared,
    inbound: &mpsc::Sender<Msg>,
    control: &mpsc::Sender<Control>,
    lost: &Notify,
    push: PushInfo,
) {
    let channel = |push: &PushInfo| match push.data.first() {
        Some(Value::BulkString(bytes)) => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    };
    let change = match push.kind {
        PushKind::SMessage => {
            if let Some(message) = Msg::from_push_info(push) {
                forward(shared, inbound, message);
            }
            return;
        }
        PushKind::Disconnection => {
            lost.notify_one();
            return;
        }
        PushKind::SSubscribe => channel(&push).map(Control::Subscribed),
        PushKind::SUnsubscribe => channel(&push).map(Control::Unsubscribed),
        _ => None,
    };
    if let Some(change) = change
        && control.try_send(change).is_err()
    {
        lost.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_or_a_cluster_scheme_names_a_cluster() {
        assert_eq!(seeds("redis://a:1"), None);
        assert_eq!(
            seeds("redis://a:1, redis://b:2"),
            Some(vec!["redis://a:1".to_owned(), "redis://b:2".to_owned()])
        );
        assert_eq!(
            seeds("redis+cluster://a:1"),
            Some(vec!["redis://a:1".to_owned()])
        );
        assert_eq!(
            seeds("rediss+cluster://u:p@a:1"),
            Some(vec!["rediss://u:p@a:1".to_owned()])
        );
    }
}
