//! The actor's loop: what it takes from its mailbox, the cluster it is part of (topics,
//! presence), and how it sends.

use super::*;

impl<V: LiveView, O: Outbox> Actor<V, O> {
    /// The join frame arrives boxed, and handler futures are boxed, so that an idle
    /// session's task holds only this loop's small state.
    pub(super) async fn run(
        mut self: Box<Self>,
        start: Start<V>,
        mut rx: mailbox::Receiver<Input>,
    ) {
        let joined = match start {
            // Instrumented inside the box: the idle loop's state stays a pointer per arm.
            Start::Join(mut join, adopted) => match join.span.take() {
                Some(span) => Box::pin(self.join(join, adopted).instrument(*span)).await,
                None => Box::pin(self.join(join, adopted)).await,
            },
            Start::Restore(restored) => Box::pin(self.restore(*restored)).await,
        };
        // A failed join skips the loop but still tells the outbox the session is over.
        if let Some(mut socket) = joined
            && let Outcome::Continue =
                Box::pin(self.after_updates(&mut socket, Outcome::Continue)).await
        {
            let mut resident = Resident::Awake(socket);
            loop {
                let input = match (V::HIBERNATE_AFTER, &resident) {
                    // Boxed: the idle loop of a view that never sleeps holds no timer.
                    (Some(idle), Resident::Awake(_)) => {
                        match Box::pin(tokio::time::timeout(idle, rx.recv())).await {
                            Ok(input) => input,
                            Err(_) => {
                                if let Resident::Awake(socket) = resident {
                                    resident = self.hibernate(socket);
                                }
                                continue;
                            }
                        }
                    }
                    _ => rx.recv().await,
                };
                let Some(input) = input else { break };
                if let Resident::Asleep(bytes) = &resident {
                    let Some(socket) = Box::pin(self.wake(bytes)).await else {
                        break;
                    };
                    resident = Resident::Awake(socket);
                }
                let Resident::Awake(socket) = &mut resident else {
                    break;
                };
                let outcome = match input {
                    Input::Frame(frame) if frame.topic != *self.topic => {
                        Box::pin(self.upload_frame(socket, *frame)).await
                    }
                    Input::Frame(mut frame) => {
                        let timer = match frame.event.as_str() {
                            "event" => self.timer(Kind::Event),
                            _ => None,
                        };
                        match frame.span.take() {
                            Some(span) => {
                                let handling = timed(timer, self.frame(socket, *frame));
                                Box::pin(handling.instrument(*span)).await
                            }
                            None => Box::pin(timed(timer, self.frame(socket, *frame))).await,
                        }
                    }
                    Input::Chunk(chunk) => Box::pin(self.chunk(socket, *chunk)).await,
                    Input::Info(info) => match info.downcast::<V::Info>() {
                        Ok(info) => {
                            let timer = self.timer(Kind::Info);
                            Box::pin(timed(timer, self.info(socket, *info))).await
                        }
                        Err(other) => match other.downcast::<PresenceResync<V::Info>>() {
                            Ok(resync) => {
                                let timer = self.timer(Kind::Info);
                                let info = self.presence_resync(&resync);
                                Box::pin(timed(timer, self.info(socket, info))).await
                            }
                            Err(_) => {
                                warn!("dropped a message of the wrong type for this view");
                                Outcome::Continue
                            }
                        },
                    },
                    Input::UploadTimeout => Box::pin(self.upload_timeout(socket)).await,
                    Input::Park => Box::pin(self.park()).await,
                    Input::Adopt(adoption) => Box::pin(self.adopt(socket, adoption)).await,
                    Input::Drain => Box::pin(self.drain(socket)).await,
                    Input::Migrate(identity) => Box::pin(self.migrate(socket, identity)).await,
                    Input::Shutdown => Outcome::Stop,
                };
                if let Outcome::Stop = outcome {
                    break;
                }
            }
        }
        // Out of `cinder_sessions` before the outbox closes, so whoever sees the close
        // sees the count without it.
        self.live = None;
        self.release();
        // A parked session closed its outbox when it parked.
        if !self.parked {
            self.outbox.close().await;
        }
        debug!("session ended");
    }

    /// Starts timing an input of `kind`, once mounted.
    pub(super) fn timer(&self, kind: Kind) -> Option<Timer> {
        self.live.as_ref().map(|live| live.timer(kind))
    }

    pub(super) fn params(&self, url: &str) -> Result<Params, params::ParamsError> {
        match &self.env {
            Some(env) => env.params(url),
            None => params::from_url(url),
        }
    }

    pub(super) fn tracker(&self) -> Option<&Tracker> {
        self.env.as_ref().and_then(|env| env.presence.as_ref())
    }

    /// Subscribes this session to the topics a callback asked for, publishes its
    /// broadcasts and applies its presence changes, in that order (so a session that
    /// subscribes to a topic's presence and tracks itself there sees its own join).
    pub(super) fn cluster(
        &mut self,
        subscriptions: Vec<Subscription<V::Info>>,
        broadcasts: Vec<(String, Value)>,
        presences: Vec<PresenceChange>,
    ) {
        let pubsub = self.env.as_ref().and_then(|env| env.pubsub.clone());
        for subscription in subscriptions {
            let convert = subscription.convert;
            let sink = self.sink(convert);
            if subscription.kind == SubscriptionKind::Presence {
                self.subscribe_presence(&subscription.topic, convert, sink);
                continue;
            }
            let Some(pubsub) = &pubsub else {
                warn!(topic = %subscription.topic, "subscribe without a pubsub: ignored");
                continue;
            };
            // Presence and gap events come only from their own subscriptions: an app
            // message dressed as one never reaches the view.
            let sink = Box::new(move |message: &Message| {
                if let Some(event) = crate::topics::framework_event(&message.payload) {
                    debug!(topic = %message.topic, %event, "app message naming a framework event dropped");
                    return Delivery::Delivered;
                }
                sink(message)
            });
            let id = if subscription.kind == SubscriptionKind::MessagesAndGaps {
                let gaps = self.sink(convert);
                let gaps = Box::new(move |gap: &Gap| gaps(&gap_message(gap)));
                pubsub.subscribe_with_gaps(&subscription.topic, sink, gaps)
            } else {
                pubsub.subscribe(&subscription.topic, sink)
            };
            self.held()
                .subscriptions
                .push(Subscribed::messages(&subscription.topic, id));
        }
        for (topic, payload) in broadcasts {
            match &pubsub {
                Some(pubsub) => {
                    pubsub.publish(&topic, payload);
                }
                None => warn!(%topic, "broadcast without a pubsub: ignored"),
            }
        }
        if !presences.is_empty() {
            self.presence(presences);
        }
    }

    /// Hands a topic's messages to this session's `handle_info`, without waiting.
    pub(super) fn sink(
        &self,
        convert: fn(&Message) -> V::Info,
    ) -> Box<dyn Fn(&Message) -> Delivery + Send + Sync> {
        let me = self.me.clone();
        Box::new(move |message: &Message| {
            match me.try_send(Input::Info(Box::new(convert(message)))) {
                Ok(()) => Delivery::Delivered,
                Err(SendError::Full) => Delivery::Dropped,
                Err(SendError::Closed) => Delivery::Gone,
            }
        })
    }

    pub(super) fn join_ref(&self) -> Option<&str> {
        self.join_ref.as_deref()
    }

    pub(super) fn signer(&self) -> Option<&Signer> {
        self.env.as_ref().and_then(|env| env.signer.as_ref())
    }

    pub(super) fn node(&self) -> &str {
        self.env.as_deref().map_or("", Env::node)
    }

    /// The event and payload that send the client away (`live_redirect` for
    /// `push_navigate`, `redirect`), with the `flash` the callback changed as a signed
    /// token; `None` when the view stays.
    pub(super) fn leaving(
        &self,
        navigation: Option<&Navigation>,
        flash: Option<Flash>,
    ) -> Option<(&'static str, String)> {
        let (event, mut payload) = match navigation? {
            Navigation::Navigate { to, replace } => ("live_redirect", redirect(to, *replace)),
            Navigation::Redirect { to } => ("redirect", json!({ "to": to })),
            Navigation::Patch { .. } => return None,
        };
        let signer = self.signer();
        if let (Some(flash), Some(signer), Value::Object(payload)) = (flash, signer, &mut payload)
            && !flash.is_empty()
        {
            payload.insert("flash".into(), Value::String(flash.sign(signer)));
        }
        Some((event, to_json(&payload)))
    }

    /// Sends one frame. A frame larger than the outbox carries fails the session as a
    /// crash does (`phx_error`, then the end), so that it costs no other session
    /// anything: on the link, one message over the limit would break every session.
    pub(super) async fn send(&mut self, frame: String) -> Outcome {
        if self.parked {
            // Nobody to tell while parked: the adopting rejoin renders the state whole.
            return Outcome::Continue;
        }
        let max = self.outbox.max_frame_bytes();
        if frame.len() > max {
            warn!(
                bytes = frame.len(),
                max, "a frame over the outbox's limit ends the session"
            );
            metrics::counter!("cinder_oversized_frames_total").increment(1);
            ErrorReason::FrameTooLarge.count();
            return self.fail("frame_too_large").await;
        }
        if self.outbox.send(frame).await {
            Outcome::Continue
        } else {
            Outcome::Stop
        }
    }

    pub(super) async fn reply(
        &mut self,
        msg_ref: Option<&str>,
        status: &str,
        response: &str,
    ) -> Outcome {
        let frame = frame::reply(self.join_ref(), msg_ref, &self.topic, status, response);
        self.send(frame).await
    }

    /// Ends the session with `phx_error`, counted under `reason`.
    pub(super) async fn crash(&mut self, reason: ErrorReason) -> Outcome {
        reason.count();
        self.fail("channel_crash").await
    }

    /// Fails the channel with `phx_error` and `{"reason": reason}` (the client rejoins),
    /// and ends the session. A parked session has nobody to tell.
    pub(super) async fn fail(&mut self, reason: &'static str) -> Outcome {
        if !self.parked {
            let jr = self.join_ref();
            let payload = format!(r#"{{"reason":"{reason}"}}"#);
            let frame = frame::encode(jr, jr, &self.topic, "phx_error", &payload);
            self.outbox.send(frame).await;
        }
        Outcome::Stop
    }

    pub(super) fn schedule(&self, timers: Vec<(std::time::Duration, V::Info)>) {
        for (delay, info) in timers {
            let tx = self.me.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if tx.try_send(Input::Info(Box::new(info))).is_err() {
                    warn!("a timer's message was dropped: mailbox full or session ended");
                }
            });
        }
    }
}

/// Runs an input's handler, then records its time if it is timed. The timer is part of
/// the boxed handler's state, not of the idle loop's: a task's allocation grows in steps
/// of 128 bytes and the loop's state leaves no room (a timer held there cost each idle
/// session 128 bytes in the `session_memory` bench).
async fn timed(timer: Option<Timer>, handling: impl Future<Output = Outcome>) -> Outcome {
    let outcome = handling.await;
    if let Some(timer) = timer {
        timer.stop();
    }
    outcome
}
