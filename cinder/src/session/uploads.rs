//! The session's upload steps: `allow_upload`, the `lvu:` channels' joins, leaves and
//! chunks, and closing the channels of entries the view is done with (see
//! [`crate::upload`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use serde_json::Value;
use tracing::debug;

use super::{Actor, ErrorReason, Input, Outbox, Outcome, SendError, UploadChannel, to_json};
use crate::Error;
use crate::component::{Key, Registry};
use crate::frame::{self, Chunk, ClientFrame};
use crate::mailbox::WeakSender;
use crate::socket::Socket;
use crate::upload::{ChunkError, Uploads};
use crate::view::LiveView;

impl<V: LiveView, O: Outbox> Actor<V, O> {
    /// `allow_upload`: records the entries, then replies with the tokens and the diff
    /// (the input's preflighted refs changed).
    pub(super) async fn allow_upload(
        &mut self,
        socket: &mut Socket<V>,
        msg_ref: Option<&str>,
        payload: &Value,
    ) -> Outcome {
        if let Some(cid) = payload.get("cid").filter(|cid| !cid.is_null()) {
            let cid = cid.as_u64().and_then(|cid| u32::try_from(cid).ok());
            let topic = self.topic.to_string();
            return self
                .component_call(socket, msg_ref, cid, |component| {
                    let uploads = component.uploads().ok_or_else(|| {
                        Error::InvalidPayload("this component allows no uploads".into())
                    })?;
                    let answer = uploads
                        .allow_upload(&topic, payload)
                        .map_err(Error::InvalidPayload)?;
                    Ok(Some(AllowAnswer::new(&answer)))
                })
                .await;
        }
        let topic = &self.topic;
        let answered = catch_unwind(AssertUnwindSafe(|| {
            V::uploads(&mut socket.assigns).map(|u| u.allow_upload(topic, payload))
        }));
        match answered {
            Err(_) => self.crash(ErrorReason::Panic).await,
            Ok(None) => {
                ErrorReason::UploadRefused.count();
                socket.assigns.clear();
                let reason = frame::reason("this view allows no uploads");
                self.reply(msg_ref, "error", &reason).await
            }
            Ok(Some(Err(err))) => {
                ErrorReason::UploadRefused.count();
                socket.assigns.clear();
                self.reply(msg_ref, "error", &frame::reason(&err)).await
            }
            Ok(Some(Ok(answer))) => {
                self.allow_answer = Some(AllowAnswer::new(&answer));
                self.callback(socket, msg_ref, |_| Ok(())).await
            }
        }
    }

    /// A frame on one of the view's upload channels (`lvu:<entry ref>`): its join and
    /// leave. Replies go to the channel, with the frame's own join ref.
    pub(super) async fn upload_frame(
        &mut self,
        socket: &mut Socket<V>,
        frame: ClientFrame,
    ) -> Outcome {
        let Some(entry_ref) = frame.topic.strip_prefix("lvu:") else {
            debug!(topic = %frame.topic, "frame for another topic");
            return Outcome::Continue;
        };
        let (topic, components) = (&self.topic, &mut self.components);
        let result = catch_unwind(AssertUnwindSafe(|| {
            // An entry nobody holds: the view's uploads still tell a forged token.
            let uploads = match uploads_owning(components, socket, entry_ref) {
                Some((_, uploads)) => uploads,
                None => V::uploads(&mut socket.assigns).ok_or("disallowed")?,
            };
            match frame.event.as_str() {
                "phx_join" => {
                    let token = frame.payload.get("token").and_then(Value::as_str);
                    let join_ref = frame.join_ref.as_deref().unwrap_or_default();
                    uploads.join(topic, entry_ref, token.unwrap_or_default(), join_ref)?;
                    Ok(uploads.arm_timer())
                }
                "phx_leave" => {
                    uploads.leave(entry_ref);
                    Ok(None)
                }
                _ => Err("unmatched event"),
            }
        }));
        // Nothing the template shows changed.
        socket.assigns.clear();
        let (status, response) = match result {
            Err(_) => return self.crash(ErrorReason::Panic).await,
            Ok(Ok(timer)) => {
                self.wake_at(timer);
                ("ok", "{}".to_owned())
            }
            Ok(Err(reason)) => {
                ErrorReason::UploadRefused.count();
                ("error", frame::reason(reason))
            }
        };
        let (join_ref, msg_ref) = (frame.join_ref.as_deref(), frame.msg_ref.as_deref());
        let reply = frame::reply(join_ref, msg_ref, &frame.topic, status, &response);
        let outcome = self.send(reply).await;
        if status == "error" && frame.event == "phx_join" && matches!(outcome, Outcome::Continue) {
            let join_ref = frame.join_ref.unwrap_or_default();
            return self.upload_channel_closed(frame.topic, join_ref).await;
        }
        outcome
    }

    /// An upload chunk: appended to the entry's file, then acknowledged. A write that
    /// fails records `writer_error` on the entry, which the view's next diff shows.
    pub(super) async fn chunk(&mut self, socket: &mut Socket<V>, chunk: Chunk) -> Outcome {
        let entry_ref = chunk.topic.strip_prefix("lvu:").unwrap_or_default();
        if let Some(live) = &self.live {
            live.took_upload(chunk.bytes.len());
        }
        let components = &mut self.components;
        let written = catch_unwind(AssertUnwindSafe(|| {
            uploads_owning(components, socket, entry_ref).map(|(owner, u)| {
                let written = u.write(entry_ref, &chunk.bytes).map(|()| u.arm_timer());
                (owner, written)
            })
        }));
        let (status, response, rerender) = match written {
            Err(_) => return self.crash(ErrorReason::Panic).await,
            Ok(Some((_, Ok(timer)))) => {
                self.wake_at(timer);
                ("ok", "{}".to_owned(), false)
            }
            Ok(None) => {
                ErrorReason::UploadRefused.count();
                ("error", ChunkError::Disallowed.response(), false)
            }
            Ok(Some((owner, Err(err)))) => {
                ErrorReason::UploadRefused.count();
                if let (ChunkError::Writer, Some(key)) = (err, owner) {
                    self.rerender.push(key);
                }
                ("error", err.response(), err == ChunkError::Writer)
            }
        };
        if !rerender {
            socket.assigns.clear();
        }
        let (join_ref, msg_ref) = (chunk.join_ref.as_deref(), chunk.msg_ref.as_deref());
        let reply = frame::reply(join_ref, msg_ref, &chunk.topic, status, &response);
        match self.send(reply).await {
            Outcome::Continue if rerender => self.callback(socket, None, |_| Ok(())).await,
            outcome => outcome,
        }
    }

    /// A chunk timer fired: drops the entries whose channels have been idle past their
    /// `chunk_timeout` (their channels close with the render that shows it), then arms
    /// the next timers.
    pub(super) async fn upload_timeout(&mut self, socket: &mut Socket<V>) -> Outcome {
        let now = Instant::now();
        let components = &mut self.components;
        let expired = catch_unwind(AssertUnwindSafe(|| {
            let mut timers = Vec::new();
            let view = V::uploads(&mut socket.assigns).is_some_and(|u| {
                u.timer_fired();
                let dropped = u.expire(now);
                timers.extend(u.arm_timer());
                dropped
            });
            let mut owners = Vec::new();
            components.for_each_uploads(|key, u| {
                u.timer_fired();
                if u.expire(now) {
                    owners.push(key.clone());
                }
                timers.extend(u.arm_timer());
            });
            (view, owners, timers)
        }));
        let Ok((view, owners, timers)) = expired else {
            return self.crash(ErrorReason::Panic).await;
        };
        for at in timers {
            self.wake_at(Some(at));
        }
        if !view {
            socket.assigns.clear();
        }
        if !view && owners.is_empty() {
            return Outcome::Continue;
        }
        self.rerender.extend(owners);
        self.callback(socket, None, |_| Ok(())).await
    }

    /// Queues [`Input::UploadTimeout`] for this session at `at`, if given.
    fn wake_at(&self, at: Option<Instant>) {
        if let Some(at) = at {
            tokio::spawn(wake(self.me.clone(), at));
        }
    }

    /// Closes (`phx_close`) the upload channels whose entries the view consumed or
    /// cancelled, as Phoenix ends an upload channel with its entry.
    pub(super) async fn close_finished_uploads(&mut self, socket: &mut Socket<V>) -> Outcome {
        let components = &mut self.components;
        let finished = catch_unwind(AssertUnwindSafe(|| {
            let mut finished = V::uploads(&mut socket.assigns)
                .map(Uploads::take_finished)
                .unwrap_or_default();
            finished.extend(components.take_finished_uploads());
            finished
        }));
        // Only channels changed: nothing the template shows (the render cleared the rest).
        socket.assigns.clear();
        let Ok(finished) = finished else {
            return self.crash(ErrorReason::Panic).await;
        };
        for (topic, join_ref) in finished {
            let close = frame::encode(Some(&join_ref), Some(&join_ref), &topic, "phx_close", "{}");
            if let Outcome::Stop = self.send(close).await {
                return Outcome::Stop;
            }
            if let Outcome::Stop = self.upload_channel_closed(topic, join_ref).await {
                return Outcome::Stop;
            }
        }
        Outcome::Continue
    }

    /// Tells the outbox that the channels of an `allow_upload` answer are this session's,
    /// before the reply gives the client their tokens.
    pub(super) async fn upload_channels_allowed(&mut self, channels: Vec<String>) -> Outcome {
        for topic in channels {
            if !self
                .outbox
                .upload_channel(UploadChannel::Allowed { topic })
                .await
            {
                return Outcome::Stop;
            }
        }
        Outcome::Continue
    }

    /// Tells the outbox that the channel `topic` joined with `join_ref` ended, after the
    /// frame that told the client.
    async fn upload_channel_closed(&mut self, topic: String, join_ref: String) -> Outcome {
        if self.parked {
            // The connection that held the channel is gone, and its routes with it.
            return Outcome::Continue;
        }
        let closed = UploadChannel::Closed { topic, join_ref };
        if self.outbox.upload_channel(closed).await {
            Outcome::Continue
        } else {
            Outcome::Stop
        }
    }
}

/// Whether the view has an upload in progress: its state cannot then be written down
/// (a snapshot carries no entries), so it neither moves nor sleeps.
pub(super) fn uploading<V: LiveView>(socket: &mut Socket<V>) -> bool {
    let uploading = V::uploads(&mut socket.assigns).is_some_and(|u| u.has_entries());
    // `uploads` marked its field; nothing else is pending between callbacks.
    socket.assigns.clear();
    uploading
}

/// The uploads holding the entry `entry_ref`: the view's, or a component's (with its
/// key, to render it again).
fn uploads_owning<'a, V: LiveView>(
    components: &'a mut Registry,
    socket: &'a mut Socket<V>,
    entry_ref: &str,
) -> Option<(Option<Key>, &'a mut Uploads)> {
    if V::uploads(&mut socket.assigns).is_some_and(|u| u.owns(entry_ref)) {
        return V::uploads(&mut socket.assigns).map(|u| (None, u));
    }
    components
        .uploads_owning(entry_ref)
        .map(|(key, u)| (Some(key), u))
}

/// Sleeps until `at`, then queues [`Input::UploadTimeout`], waiting out a full mailbox;
/// gives up once the session is gone.
async fn wake(me: WeakSender<Input>, at: Instant) {
    tokio::time::sleep_until(at.into()).await;
    while let Err(SendError::Full) = me.try_send(Input::UploadTimeout) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An `allow_upload` answer, waiting for the reply that carries it.
#[derive(Debug)]
pub(super) struct AllowAnswer {
    /// The answer's fields, without its braces, to lead the reply.
    pub(super) fields: String,
    /// The upload channels it allows (`lvu:<entry ref>`), one per entry token.
    pub(super) channels: Vec<String>,
}

impl AllowAnswer {
    fn new(answer: &Value) -> Box<Self> {
        let json = to_json(answer);
        let channels = answer
            .get("entries")
            .and_then(Value::as_object)
            .map(|tokens| tokens.keys().map(|entry| format!("lvu:{entry}")).collect())
            .unwrap_or_default();
        Box::new(AllowAnswer {
            fields: json[1..json.len() - 1].to_owned(),
            channels,
        })
    }
}
