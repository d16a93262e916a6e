//! A session kept through its client's reconnect ([`LiveView::PARK`]): parked when the
//! connection goes away, adopted by the rejoin from the same page.
//!
//! Parked, the session closes its outbox (the connection is gone), keeps its state,
//! subscriptions and presences, and goes on taking messages: `handle_info` runs and
//! renders, and the diffs go nowhere. The node's parking ends it after the grace. An adoption
//! swaps in the new connection's outbox and answers the rejoin with the whole page as
//! it is now (the prints reset, as for any rejoin), without running `mount`.

use super::*;

/// What adopts a parked session: the rejoin's frame and the new connection's outbox.
pub(crate) struct Adoption<O> {
    pub(crate) frame: ClientFrame,
    pub(crate) outbox: O,
}

impl<V: LiveView, O: Outbox> Actor<V, O> {
    /// The connection went away: park (the node's parking ends it after the grace), or
    /// stop if the view does not park.
    pub(super) async fn park(&mut self) -> Outcome {
        if !V::PARK {
            return Outcome::Stop;
        }
        if self.parked {
            return Outcome::Continue;
        }
        self.outbox.close().await;
        self.parked = true;
        debug!("parked");
        Outcome::Continue
    }

    /// A rejoin adopts this session: its outbox replaces the closed one and its reply
    /// renders everything.
    pub(super) async fn adopt(
        &mut self,
        socket: &mut Socket<V>,
        adoption: Box<dyn Any + Send>,
    ) -> Outcome {
        let Ok(adoption) = adoption.downcast::<Adoption<O>>() else {
            warn!("an adoption for another outbox type: ignored");
            return Outcome::Continue;
        };
        let Adoption { frame, outbox } = *adoption;
        if !self.parked {
            // Still connected elsewhere: the old connection's end has not reached it.
            // The old outbox closes; the new connection takes over.
            self.outbox.close().await;
        }
        self.outbox = outbox;
        self.parked = false;
        self.join_ref = frame.join_ref.map(String::into_boxed_str);
        let msg_ref = frame.msg_ref.as_deref();
        let mut response = String::from("{\"rendered\":");
        let extras = Extras {
            title: None,
            events: &[],
            reply: None,
        };
        socket.assigns.mark_all();
        let failed = self.render_whole(socket, &mut response, extras);
        socket.assigns.clear();
        if let Some(reason) = failed {
            warn!(
                reason = reason.as_str(),
                "render failed adopting a parked session"
            );
            reason.count();
            self.reply(msg_ref, "error", &frame::reason("join crashed"))
                .await;
            return Outcome::Stop;
        }
        response.push_str(",\"liveview_version\":");
        json::string(&mut response, LIVEVIEW_VERSION);
        response.push('}');
        debug!("adopted by a rejoin");
        self.reply(msg_ref, "ok", &response).await
    }
}
