//! The join: the view mounted from the join frame's URL and params, and the join reply
//! with its first render.

use super::*;

impl<V: LiveView, O: Outbox> Actor<V, O> {
    /// Mounts the view (or takes over `adopted`, the state its dead render mounted) and
    /// sends the join reply; `None` when the join failed.
    pub(super) async fn join(
        &mut self,
        join: Box<ClientFrame>,
        adopted: Option<Adopted<V>>,
    ) -> Option<Socket<V>> {
        let ClientFrame {
            join_ref,
            msg_ref,
            payload,
            ..
        } = *join;
        self.join_ref = join_ref.map(String::into_boxed_str);
        let msg_ref = msg_ref.as_deref();
        let url = payload
            .get("url")
            .or_else(|| payload.get("redirect"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let query = match self.params(url) {
            Ok(query) => query,
            Err(err) => {
                debug!(error = %err, "join with refused params");
                ErrorReason::InvalidParams.count();
                self.reply(msg_ref, "error", &frame::reason(&err.to_string()))
                    .await;
                return None;
            }
        };
        self.uri = url.into();
        let flash = match (payload.get("flash").and_then(Value::as_str), self.signer()) {
            (Some(token), Some(signer)) => Flash::verify(signer, token),
            _ => Flash::new(),
        };
        let mounts = payload["params"]["_mounts"].as_u64().unwrap_or(0);
        let mounted = catch_unwind(AssertUnwindSafe(|| -> Result<Mounted<V>, Error> {
            let (mut socket, pending) = match adopted {
                Some(adopted) => {
                    let (socket, title) = *adopted;
                    let pending = crate::socket::Pending {
                        title,
                        ..Default::default()
                    };
                    (socket, Some(Box::new(pending)))
                }
                None => crate::socket::mount::<V>(&query, url, true, &flash, self.node(), mounts)?,
            };
            if !V::ADOPT_DEAD_RENDER {
                return Ok((socket, pending));
            }
            V::connected(&mut socket)?;
            let mut pending = pending.map(|p| *p).unwrap_or_default();
            if let Some(later) = socket.effects.take() {
                pending.absorb(*later);
            }
            socket.assigns.mark_all();
            Ok((socket, Some(Box::new(pending))))
        }));
        let (mut socket, pending) = match mounted {
            Ok(Ok(mounted)) => mounted,
            Ok(Err(err)) => {
                warn!(error = %err, "mount failed");
                ErrorReason::MountFailed.count();
                self.reply(msg_ref, "error", &frame::reason(&err.to_string()))
                    .await;
                return None;
            }
            Err(_) => {
                warn!("mount panicked");
                ErrorReason::Panic.count();
                self.reply(msg_ref, "error", &frame::reason("join crashed"))
                    .await;
                return None;
            }
        };
        let mut pending = pending.map(|p| *p).unwrap_or_default();
        let Ok(flash) = catch_unwind(AssertUnwindSafe(|| {
            apply_flash(&mut socket, std::mem::take(&mut pending.flash))
        })) else {
            warn!("flash hook panicked during join");
            ErrorReason::Panic.count();
            self.reply(msg_ref, "error", &frame::reason("join crashed"))
                .await;
            return None;
        };
        // A mount that navigates away answers the join with the navigation instead.
        if let Some((event, payload)) = self.leaving(pending.navigation.as_ref(), flash) {
            let response = format!("{{\"{event}\":{payload}}}");
            self.reply(msg_ref, "error", &response).await;
            return None;
        }
        let mut response = String::from("{\"rendered\":");
        let extras = Extras {
            title: pending.title.as_deref(),
            events: &pending.events,
            reply: None,
        };
        self.components = Registry::default();
        if let Some(reason) = self.render_whole(&socket, &mut response, extras) {
            warn!(reason = reason.as_str(), "render failed during join");
            reason.count();
            self.reply(msg_ref, "error", &frame::reason("join crashed"))
                .await;
            return None;
        }
        // Mounted: counted from here until the actor is dropped, whatever ends it.
        let live = Live::start(instruments::for_view::<V>());
        live.sent_diff(response.len());
        self.live = Some(live);
        socket.assigns.clear();
        response.push_str(",\"liveview_version\":");
        json::string(&mut response, LIVEVIEW_VERSION);
        if let Some(Navigation::Patch { to, replace }) = &pending.navigation {
            response.push_str(",\"live_patch\":");
            response.push_str(&to_json(&redirect(to, *replace)));
        }
        response.push('}');
        self.schedule(pending.timers);
        self.cluster(pending.subscriptions, pending.broadcasts, pending.presences);
        debug!("joined");
        match self.reply(msg_ref, "ok", &response).await {
            Outcome::Continue => Some(socket),
            Outcome::Stop => None,
        }
    }

    /// Renders the whole page into `response`, as a (re)join's reply carries it: the
    /// prints reset, so the client gets everything. The reason, if it failed.
    pub(super) fn render_whole(
        &mut self,
        socket: &Socket<V>,
        response: &mut String,
        extras: Extras<'_>,
    ) -> Option<ErrorReason> {
        let (prints, components) = (&mut self.prints, &mut self.components);
        let rendered = catch_unwind(AssertUnwindSafe(|| {
            prints.reset();
            let root = Some(V::render(&socket.assigns));
            prints.render_live(response, root, Vec::new(), extras, components);
        }));
        match rendered {
            Err(_) => Some(ErrorReason::Panic),
            Ok(()) => components
                .take_failure()
                .map(|_| ErrorReason::ComponentFailed),
        }
    }
}
