//! What the gateway does with one client message, by topic and event.
//!
//! | message | what happens |
//! | --- | --- |
//! | `phoenix` `heartbeat` | answered here: `[null, ref, "phoenix", "phx_reply", ok]` |
//! | `phx_join` on `lv:<id>` | placed by `<id>` on a live view-node; `Up::Join` with the exact bytes |
//! | `phx_join` on an open topic | `phx_close` to the old join_ref, `Leave` upstream, then the join |
//! | `phx_join` on `lvu:<ref>` (an upload channel) | routed to the session that allowed the channel, as `Up::Frame` |
//! | `phx_join` on any other topic | error reply `unmatched topic` |
//! | anything on a joined topic | `Up::Frame` (text) or `Up::Binary`, bytes untouched |
//! | `phx_leave` on an upload channel | forwarded, then the channel's route is dropped |
//! | (from the view-node) `upload_allowed` | a session's channel: its join will be routed there |
//! | (from the view-node) `upload_closed` | the channel's route is dropped |
//! | anything on another topic | error reply `unmatched topic` |
//!
//! With no view-node up a join gets `{"reason":"unavailable"}`. A join whose topic is
//! longer than `max_topic_bytes` (or whose `join_ref` is longer than [`MAX_REF_BYTES`])
//! gets the error reply `invalid_topic`, and one past `max_channels` on this socket
//! `too_many_channels`; the socket goes on. An upload channel's route is made before the
//! view-node checks its join, and dropped again when the node refuses it
//! ([`crate::link`]). Messages are queued on the link without waiting; the socket's
//! reader then waits for them to leave (see [`crate::conn`]).
//!
//! The gateway never reads an upload channel's token: the view-node tells it which
//! session allowed which `lvu:` topic (`Down::upload_allowed`, before the reply that
//! hands the client the token), and checks the token itself. A join on a channel no
//! session of this socket allowed gets `{"reason":"invalid_token"}`.

use std::collections::HashMap;
use std::sync::Arc;

use cinder_proto::v1::{Join, Up, up};

use crate::conn::{CloseReason, Conn, Out, Route, RouteRefused};
use crate::frame;
use crate::link::{Link, SendError};
use crate::shared::Shared;

/// The reply to a frame on a topic that is not joined, or a join nobody serves.
const UNMATCHED_TOPIC: &str = "unmatched topic";
/// The reason of the `phx_error` a join gets when no view-node link is up. An error on
/// the channel (not an error reply) makes the client retry the join after its backoff
/// instead of reloading the page, so a page rides out a gateway restart or a moment
/// with no node.
const UNAVAILABLE: &str = "unavailable";
/// The reply to a join on an upload channel no session of this socket allowed.
const INVALID_TOKEN: &str = "invalid_token";
/// The reply to a join whose topic or `join_ref` is too long.
const INVALID_TOPIC: &str = "invalid_topic";
/// The reply to a join past the socket's `max_channels`.
const TOO_MANY_CHANNELS: &str = "too_many_channels";
/// The longest `join_ref` a route keeps, as raw JSON: the client's refs are counters.
pub(crate) const MAX_REF_BYTES: usize = 64;

/// One client socket, as the message handlers see it.
#[derive(Debug)]
pub(crate) struct Client<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) conn: &'a Arc<Conn>,
    /// The verdict of the CSRF check made at connect.
    pub(crate) csrf_ok: bool,
}

impl Client<'_> {
    /// Handles a complete text message.
    pub(crate) fn text(&self, bytes: Vec<u8>) -> Result<(), CloseReason> {
        let header = frame::decode(&bytes).map_err(|_| CloseReason::MALFORMED)?;
        let _span =
            tracing::trace_span!("message", topic = %header.topic, event = %header.event).entered();
        if header.topic == "phoenix" && header.event == "heartbeat" {
            self.reply(frame::heartbeat_reply(header.msg_ref));
            return Ok(());
        }
        if header.event == "phx_join" {
            if header.topic.len() > self.shared.config.max_topic_bytes
                || header.join_ref.len() > MAX_REF_BYTES
            {
                self.reply(frame::error_reply(
                    header.join_ref,
                    header.msg_ref,
                    &header.topic,
                    INVALID_TOPIC,
                ));
                return Ok(());
            }
            if header.topic.len() > 3 && header.topic.starts_with("lv:") {
                let (topic, join_ref) = (header.topic.to_string(), header.join_ref.to_owned());
                let msg_ref = header.msg_ref.to_owned();
                return self.join(&topic, &join_ref, &msg_ref, bytes);
            }
            if header.topic.len() > 4 && header.topic.starts_with("lvu:") {
                let (topic, join_ref) = (header.topic.to_string(), header.join_ref.to_owned());
                let msg_ref = header.msg_ref.to_owned();
                return self.join_upload(&topic, &join_ref, &msg_ref, bytes);
            }
            self.unmatched(header.join_ref, header.msg_ref, &header.topic);
            return Ok(());
        }
        let leaves_upload = header.event == "phx_leave" && header.topic.starts_with("lvu:");
        match self.conn.route(&header.topic) {
            Some((link, session)) => {
                let topic = leaves_upload.then(|| header.topic.to_string());
                let forwarded = self.forward(&link, session, up::Kind::Frame(bytes));
                if let Some(topic) = topic {
                    self.conn.take_route(&topic);
                }
                forwarded
            }
            None => {
                self.unmatched(header.join_ref, header.msg_ref, &header.topic);
                Ok(())
            }
        }
    }

    /// Opens an upload channel on the session that allowed it. A rejoin replaces the
    /// channel's route; nothing is left upstream, as the session is the view's.
    fn join_upload(
        &self,
        topic: &str,
        join_ref: &str,
        msg_ref: &str,
        bytes: Vec<u8>,
    ) -> Result<(), CloseReason> {
        let Some((link, session)) = self.conn.upload_route(topic) else {
            self.reply(frame::error_reply(join_ref, msg_ref, topic, INVALID_TOKEN));
            return Ok(());
        };
        self.conn.take_route(topic);
        if !self.add_route(topic, join_ref, msg_ref, link.clone(), session) {
            return Ok(());
        }
        self.forward(&link, session, up::Kind::Frame(bytes))
    }

    /// Adds a channel's route, or answers `too_many_channels` past the cap; false when the
    /// route was not added (also when the socket is finishing).
    fn add_route(
        &self,
        topic: &str,
        join_ref: &str,
        msg_ref: &str,
        link: Arc<Link>,
        session: u64,
    ) -> bool {
        match self
            .conn
            .add_route(Route::new(topic, join_ref, link, session))
        {
            Ok(()) => true,
            Err(RouteRefused::Finished) => false,
            Err(RouteRefused::Full) => {
                self.reply(frame::error_reply(
                    join_ref,
                    msg_ref,
                    topic,
                    TOO_MANY_CHANNELS,
                ));
                false
            }
        }
    }

    /// Handles a complete binary message (an upload chunk push).
    pub(crate) fn binary(&self, bytes: Vec<u8>) -> Result<(), CloseReason> {
        let header = frame::decode_binary(&bytes).map_err(|_| CloseReason::MALFORMED)?;
        match self.conn.route(header.topic) {
            Some((link, session)) => self.forward(&link, session, up::Kind::Binary(bytes)),
            None => {
                let join_ref = frame::json_ref_from_str(header.join_ref);
                let msg_ref = frame::json_ref_from_str(header.msg_ref);
                self.unmatched(&join_ref, &msg_ref, header.topic);
                Ok(())
            }
        }
    }

    fn join(
        &self,
        topic: &str,
        join_ref: &str,
        msg_ref: &str,
        bytes: Vec<u8>,
    ) -> Result<(), CloseReason> {
        if let Some(old) = self.conn.take_route(topic) {
            // A rejoin: the old channel ends first, so the client never sees two.
            if old.link.is_alive() {
                self.reply(frame::close(&old.join_ref, &old.topic));
            }
            old.link.leave(old.session, false);
            self.conn.remove_uploads(old.session);
        }
        let view_id = &topic["lv:".len()..];
        let Some(link) = self.shared.nodes.place(view_id) else {
            self.reply(frame::error(join_ref, topic, UNAVAILABLE));
            return Ok(());
        };
        let session = self.shared.next_session();
        tracing::debug!(view = %view_id, node = %link.addr, session, "join");
        // The route exists before the node can answer, so its first frames and a close
        // always find it.
        if !self.add_route(topic, join_ref, msg_ref, link.clone(), session) {
            return Ok(());
        }
        if !link.register(session, self.conn) {
            self.conn.remove_session(session);
            self.reply(frame::error(join_ref, topic, UNAVAILABLE));
            return Ok(());
        }
        self.shared.metrics.joins.increment(1);
        let join = up::Kind::Join(Join {
            frame: bytes,
            csrf_ok: self.csrf_ok,
        });
        if let Err(SendError::Closed) = link.send(up_message(session, join), self.conn) {
            link.unregister(session);
            self.conn.remove_session(session);
            self.reply(frame::error(join_ref, topic, UNAVAILABLE));
        }
        Ok(())
    }

    fn forward(&self, link: &Link, session: u64, kind: up::Kind) -> Result<(), CloseReason> {
        match link.send(up_message(session, kind), self.conn) {
            Ok(()) => Ok(()),
            Err(SendError::Closed) => {
                // The link died under this session; its reader may not have got to it.
                link.unregister(session);
                self.conn.node_down(session);
                Ok(())
            }
        }
    }

    fn unmatched(&self, join_ref: &str, msg_ref: &str, topic: &str) {
        self.reply(frame::error_reply(
            join_ref,
            msg_ref,
            topic,
            UNMATCHED_TOPIC,
        ));
    }

    fn reply(&self, frame: Vec<u8>) {
        self.conn.push(Out::Text(frame));
    }
}

fn up_message(session: u64, kind: up::Kind) -> Up {
    Up {
        session,
        trace: trace_context(session, &kind),
        kind: Some(kind),
    }
}

/// When traces are exported, a span for this client message and its W3C context, which
/// the view-node continues (see `cinder_telemetry`); otherwise nothing.
fn trace_context(session: u64, kind: &up::Kind) -> HashMap<String, String> {
    if !cinder_telemetry::exporting() {
        return HashMap::new();
    }
    let message = match kind {
        up::Kind::Join(_) => "join",
        up::Kind::Frame(_) => "frame",
        up::Kind::Binary(_) => "chunk",
        up::Kind::Leave(_) => "leave",
        up::Kind::Migrate(_) => "migrate",
        up::Kind::Resume(_) => "resume",
    };
    let span = tracing::info_span!("gateway.forward", session, message);
    cinder_telemetry::inject(&span)
}
