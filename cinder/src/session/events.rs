//! Client input on the view's channel, read top to bottom as a click takes it: the frame
//! dispatched by event, the view's (or a component's) callback run, then the render, the
//! diff and the reply.

use super::uploads::AllowAnswer;
use super::*;

impl<V: LiveView, O: Outbox> Actor<V, O> {
    pub(super) async fn frame(
        &mut self,
        socket: &mut Socket<V>,
        mut frame: ClientFrame,
    ) -> Outcome {
        let msg_ref = frame.msg_ref.as_deref();
        match frame.event.as_str() {
            "event" => {
                let cid = frame.payload.get("cid").map(|cid| cid.as_u64());
                let uploads = match frame.payload.as_object_mut().map(|p| p.remove("uploads")) {
                    Some(Some(Value::Object(uploads))) if !uploads.is_empty() => Some(uploads),
                    _ => None,
                };
                let (event, value) = match event_payload(frame.payload) {
                    Ok(parts) => parts,
                    Err(err) => {
                        ErrorReason::InvalidPayload.count();
                        return self
                            .reply(msg_ref, "error", &frame::reason(&err.to_string()))
                            .await;
                    }
                };
                if event == CLEAR_FLASH {
                    let key = value.get("key").and_then(Value::as_str).map(str::to_owned);
                    return self
                        .callback(socket, msg_ref, |socket| {
                            match key {
                                Some(kind) => socket.clear_flash_kind(kind),
                                None => socket.clear_flash(),
                            }
                            Ok(())
                        })
                        .await;
                }
                match cid {
                    None => {
                        self.callback(socket, msg_ref, |socket| {
                            if let (Some(uploads), Some(own)) =
                                (&uploads, V::uploads(&mut socket.assigns))
                            {
                                own.put_form_entries(uploads);
                            }
                            V::handle_event(socket, &event, value)
                        })
                        .await
                    }
                    Some(cid) => {
                        let cid = cid.and_then(|cid| u32::try_from(cid).ok());
                        self.component_call(socket, msg_ref, cid, |component| {
                            if let (Some(uploads), Some(own)) = (&uploads, component.uploads()) {
                                own.put_form_entries(uploads);
                            }
                            component.handle_event(&event, value).map(|()| None)
                        })
                        .await
                    }
                }
            }
            "live_patch" => {
                let Some(url) = frame
                    .payload
                    .get("url")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                else {
                    ErrorReason::InvalidPayload.count();
                    return self
                        .reply(msg_ref, "error", &frame::reason("live_patch needs a url"))
                        .await;
                };
                // Another view's URL: the client navigates there instead (a live
                // redirect), and this view stays as it is.
                let route = self.env.as_ref().and_then(|env| env.route.as_ref());
                if route.is_some_and(|route| route.matches(path_of(&url)).is_none()) {
                    return self.reply(msg_ref, "ok", r#"{"link_redirect":true}"#).await;
                }
                let query = match self.params(&url) {
                    Ok(query) => query,
                    Err(err) => {
                        ErrorReason::InvalidParams.count();
                        return self
                            .reply(msg_ref, "error", &frame::reason(&err.to_string()))
                            .await;
                    }
                };
                self.uri = url.as_str().into();
                self.callback(socket, msg_ref, |socket| {
                    V::handle_params(socket, &query, &url)
                })
                .await
            }
            "phx_leave" => {
                self.reply(msg_ref, "ok", "{}").await;
                Outcome::Stop
            }
            "allow_upload" => self.allow_upload(socket, msg_ref, &frame.payload).await,
            "progress" if frame.payload.get("cid").is_some_and(|cid| !cid.is_null()) => {
                let cid = frame.payload["cid"]
                    .as_u64()
                    .and_then(|cid| u32::try_from(cid).ok());
                let payload = frame.payload;
                self.component_call(socket, msg_ref, cid, |component| {
                    match component.uploads().and_then(|u| u.progress(&payload)) {
                        Some((name, entry)) => {
                            component.handle_progress(&name, entry).map(|()| None)
                        }
                        None => Ok(None),
                    }
                })
                .await
            }
            "progress" => {
                let payload = frame.payload;
                self.callback(socket, msg_ref, |socket| {
                    match V::uploads(&mut socket.assigns).and_then(|u| u.progress(&payload)) {
                        Some((name, entry)) => V::handle_progress(socket, &name, entry),
                        None => Ok(()),
                    }
                })
                .await
            }
            "cids_will_destroy" => {
                self.prints.will_destroy(&cids(&frame.payload));
                self.reply(msg_ref, "ok", "{}").await
            }
            "cids_destroyed" => {
                let cids = cids(&frame.payload);
                let keys: Vec<(u32, &'static str, String)> = cids
                    .iter()
                    .filter_map(|&cid| {
                        let (kind, id) = self.prints.component(cid)?;
                        Some((cid, kind, id.to_owned()))
                    })
                    .collect();
                let deleted = self.prints.destroy(&cids);
                for (cid, kind, id) in keys {
                    if deleted.contains(&cid) {
                        self.components.remove(kind, &id);
                    }
                }
                let response = to_json(&json!({ "cids": deleted }));
                self.reply(msg_ref, "ok", &response).await
            }
            "phx_join" => {
                ErrorReason::InvalidPayload.count();
                self.reply(msg_ref, "error", &frame::reason("already joined"))
                    .await
            }
            other => {
                debug!(event = other, "unmatched event");
                ErrorReason::UnmatchedEvent.count();
                self.reply(msg_ref, "error", &frame::reason("unmatched event"))
                    .await
            }
        }
    }

    /// Runs `f` on the component with `cid` (its `handle_event`, an upload step), then
    /// replies with its diff (and the view's, if the component's effects changed it),
    /// led by the fields `f` returned, if any.
    pub(super) async fn component_call(
        &mut self,
        socket: &mut Socket<V>,
        msg_ref: Option<&str>,
        cid: Option<u32>,
        f: impl FnOnce(&mut dyn Instance) -> Result<Option<Box<AllowAnswer>>, Error>,
    ) -> Outcome {
        let Some((kind, id)) = cid
            .and_then(|cid| self.prints.component(cid))
            .map(|(kind, id)| (kind, id.to_owned()))
        else {
            debug!(?cid, "event for an unknown component");
            ErrorReason::UnknownComponent.count();
            return self
                .reply(msg_ref, "error", &frame::reason("unknown component"))
                .await;
        };
        let components = &mut self.components;
        let ran = catch_unwind(AssertUnwindSafe(|| components.run(kind, &id, f)));
        let (result, effects) = match ran {
            Err(_) => {
                warn!("component callback panicked");
                return self.crash(ErrorReason::Panic).await;
            }
            Ok(None) => {
                ErrorReason::UnknownComponent.count();
                return self
                    .reply(msg_ref, "error", &frame::reason("unknown component"))
                    .await;
            }
            Ok(Some(ran)) => ran,
        };
        let fields = match result {
            Ok(fields) => fields,
            Err(err) => {
                warn!(error = %err, "component callback failed");
                ErrorReason::CallbackFailed.count();
                return self
                    .reply(msg_ref, "error", &frame::reason(&err.to_string()))
                    .await;
            }
        };
        self.allow_answer = fields;
        self.absorb(socket, effects);
        self.rerender.push((kind, id));
        self.callback(socket, msg_ref, |_| Ok(())).await
    }

    /// Takes a component's effects into the view's: its events and navigation join the
    /// next diff, its flash the view's flash, its messages the view's mailbox.
    pub(super) fn absorb(&self, socket: &mut Socket<V>, effects: ComponentEffects) {
        for event in effects.events {
            let effects = socket.effects();
            if event.before_patch {
                effects.push_event_before_patch(event.name, event.payload);
            } else {
                effects.push_event(event.name, event.payload);
            }
        }
        for op in effects.flash {
            socket.effects().flash(op);
        }
        if let Some(navigation) = effects.navigation {
            socket.effects().navigate(navigation);
        }
        for info in effects.to_parent {
            if self.me.try_send(Input::Info(info)).is_err() {
                warn!("a component's message to its view was dropped: mailbox full");
            }
        }
    }

    /// After a render was sent: the effects components' `update`s left in it, applied
    /// with one more render pushed as a `diff`. Effects that render leaves are dropped
    /// (an `update` that always has some would loop).
    pub(super) async fn after_updates(
        &mut self,
        socket: &mut Socket<V>,
        outcome: Outcome,
    ) -> Outcome {
        let Outcome::Continue = outcome else {
            return outcome;
        };
        let Some(effects) = self.components.take_update_effects() else {
            return outcome;
        };
        self.absorb(socket, effects);
        let outcome = self.callback_once(socket, None, |_| Ok(())).await;
        if self.components.take_update_effects().is_some() {
            warn!("effects of component updates in a follow-up render were dropped");
        }
        outcome
    }

    pub(super) async fn info(&mut self, socket: &mut Socket<V>, info: V::Info) -> Outcome {
        self.callback(socket, None, |socket| V::handle_info(socket, info))
            .await
    }

    /// Runs a callback, renders what changed and sends it: as the reply to `msg_ref`, or
    /// as a pushed `diff` when there is no ref (messages and timers). Then the effects
    /// of the components' updates, if any.
    pub(super) async fn callback(
        &mut self,
        socket: &mut Socket<V>,
        msg_ref: Option<&str>,
        callback: impl FnOnce(&mut Socket<V>) -> Result<(), Error>,
    ) -> Outcome {
        let outcome = self.callback_once(socket, msg_ref, callback).await;
        self.after_updates(socket, outcome).await
    }

    /// [`Actor::callback`] without the components' update effects.
    pub(super) async fn callback_once(
        &mut self,
        socket: &mut Socket<V>,
        msg_ref: Option<&str>,
        callback: impl FnOnce(&mut Socket<V>) -> Result<(), Error>,
    ) -> Outcome {
        let allow_answer = self.allow_answer.take();
        let ran = catch_unwind(AssertUnwindSafe(|| callback(socket)));
        let Ok(result) = ran else {
            warn!("callback panicked");
            return self.crash(ErrorReason::Panic).await;
        };
        let mut pending = socket.effects.take().map(|p| *p).unwrap_or_default();
        if let Err(err) = result {
            warn!(error = %err, "callback failed");
            ErrorReason::CallbackFailed.count();
            socket.assigns.clear();
            if msg_ref.is_some() {
                return self
                    .reply(msg_ref, "error", &frame::reason(&err.to_string()))
                    .await;
            }
            return Outcome::Continue;
        }
        let ops = std::mem::take(&mut pending.flash);
        let Ok(flash) = catch_unwind(AssertUnwindSafe(|| apply_flash(socket, ops))) else {
            warn!("flash hook panicked");
            return self.crash(ErrorReason::Panic).await;
        };
        let mut patched = None;
        if let Some(Navigation::Patch { to, replace }) = &pending.navigation {
            // Phoenix pushes `live_patch` first, runs handle_params, then replies with the diff.
            let jr = self.join_ref();
            let push = frame::encode(
                jr,
                None,
                &self.topic,
                "live_patch",
                &to_json(&redirect(to, *replace)),
            );
            if let Outcome::Stop = self.send(push).await {
                return Outcome::Stop;
            }
            let url = resolve(&self.uri, to);
            // The view built this URL, but it may carry what a client typed: over the
            // bounds, handle_params is skipped as if it had failed.
            let ran = self.params(&url).map(|query| {
                catch_unwind(AssertUnwindSafe(|| V::handle_params(socket, &query, &url)))
            });
            match ran {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(err))) => warn!(error = %err, "handle_params failed after push_patch"),
                Err(err) => warn!(error = %err, "push_patch to a URL with refused params"),
                Ok(Err(_)) => return self.crash(ErrorReason::Panic).await,
            }
            patched = Some(url);
        }
        if let Some(url) = patched {
            self.uri = url.into();
        }
        let extras = Extras {
            title: pending.title.as_deref(),
            events: &pending.events,
            reply: pending.reply.as_ref(),
        };
        let (prints, registry) = (&mut self.prints, &mut self.components);
        let rerender: Vec<_> = self
            .rerender
            .drain(..)
            .map(|(kind, id)| component::rerender(kind, id))
            .collect();
        let rendered = catch_unwind(AssertUnwindSafe(|| {
            let mut diff = String::with_capacity(64);
            let root = Some(V::render(&socket.assigns));
            prints.render_live(&mut diff, root, rerender, extras, registry);
            diff
        }));
        socket.assigns.clear();
        let failed = registry.take_failure();
        let Ok(diff) = rendered else {
            warn!("render panicked");
            return self.crash(ErrorReason::Panic).await;
        };
        if let Some(err) = failed {
            warn!(error = %err, "a component failed during the render");
            return self.crash(ErrorReason::ComponentFailed).await;
        }
        if diff != "{}"
            && let Some(live) = &self.live
        {
            live.sent_diff(diff.len());
        }
        self.schedule(pending.timers);
        self.cluster(pending.subscriptions, pending.broadcasts, pending.presences);
        let leaving = self.leaving(pending.navigation.as_ref(), flash);
        let stops = leaving.is_some();
        let outcome = match msg_ref {
            Some(_) => {
                let mut response = String::from("{");
                if let Some(answer) = allow_answer {
                    if let Outcome::Stop = self.upload_channels_allowed(answer.channels).await {
                        return Outcome::Stop;
                    }
                    response.push_str(&answer.fields);
                }
                if diff != "{}" {
                    json::key(&mut response, "diff");
                    response.push_str(&diff);
                }
                if let Some((event, payload)) = &leaving {
                    json::key(&mut response, event);
                    response.push_str(payload);
                }
                response.push('}');
                self.reply(msg_ref, "ok", &response).await
            }
            None => {
                let jr = self.join_ref();
                let mut outcome = Outcome::Continue;
                if diff != "{}" {
                    let push = frame::encode(jr, None, &self.topic, "diff", &diff);
                    outcome = self.send(push).await;
                }
                if let (Outcome::Continue, Some((event, payload))) = (&outcome, leaving) {
                    let push = frame::encode(self.join_ref(), None, &self.topic, event, &payload);
                    outcome = self.send(push).await;
                }
                outcome
            }
        };
        match outcome {
            _ if stops => Outcome::Stop,
            Outcome::Continue => self.close_finished_uploads(socket).await,
            Outcome::Stop => Outcome::Stop,
        }
    }
}

/// Splits an `event` payload into the event name and its value. Form payloads arrive
/// urlencoded and are decoded into nested params, with `meta` (`_target`, `phx-value-*`)
/// merged in as Phoenix does.
fn event_payload(payload: Value) -> Result<(String, Value), Error> {
    let Value::Object(mut payload) = payload else {
        return Err(Error::InvalidPayload(
            "an event payload is an object".into(),
        ));
    };
    let Some(Value::String(event)) = payload.remove("event") else {
        return Err(Error::InvalidPayload(
            "an event payload names its event".into(),
        ));
    };
    if event.len() > frame::MAX_EVENT_BYTES {
        return Err(Error::InvalidPayload(format!(
            "an event name is at most {} bytes",
            frame::MAX_EVENT_BYTES
        )));
    }
    let is_form = payload.get("type").and_then(Value::as_str) == Some("form");
    let value = payload.remove("value").unwrap_or(Value::Null);
    let value = match (is_form, value) {
        (true, Value::String(encoded)) => {
            let mut form =
                params::decode(&encoded).map_err(|e| Error::InvalidPayload(e.to_string()))?;
            if let Some(Value::Object(meta)) = payload.remove("meta") {
                for (key, value) in meta {
                    form.insert(key, value);
                }
            }
            Value::Object(form)
        }
        (_, value) => value,
    };
    Ok((event, value))
}

/// The `cids` of a `cids_will_destroy` or `cids_destroyed` payload.
fn cids(payload: &Value) -> Vec<u32> {
    payload
        .get("cids")
        .and_then(Value::as_array)
        .map(|cids| {
            cids.iter()
                .filter_map(|cid| u32::try_from(cid.as_u64()?).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The reserved event the client sends to clear the flash (value `{key}`).
const CLEAR_FLASH: &str = "lv:clear-flash";

/// Applies a callback's flash effects to the view's [`Flash`] field (marking it
/// changed) and returns the flash a navigation takes along: the view's whole flash, or
/// for a view without one the effects alone. `None` when the callback left the flash
/// alone, which then stays behind, as Phoenix carries only a changed flash.
pub(super) fn apply_flash<V: LiveView>(socket: &mut Socket<V>, ops: Vec<FlashOp>) -> Option<Flash> {
    if ops.is_empty() {
        return None;
    }
    let mut scratch = Flash::new();
    let flash = V::flash(&mut socket.assigns).unwrap_or(&mut scratch);
    for op in ops {
        flash.apply(op);
    }
    Some(flash.clone())
}

pub(super) fn redirect(to: &str, replace: bool) -> Value {
    serde_json::json!({ "to": to, "kind": if replace { "replace" } else { "push" } })
}

/// Resolves a patch target (`/path?q`) against the current absolute URL.
fn resolve(base: &str, to: &str) -> String {
    if to.contains("://") {
        return to.to_owned();
    }
    let origin_end = base
        .find("://")
        .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(base.len());
    format!("{}{}", &base[..origin_end], to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_patch_targets() {
        assert_eq!(
            resolve("http://h:4000/counter?x=1", "/counter?step=5"),
            "http://h:4000/counter?step=5"
        );
        assert_eq!(resolve("http://h", "/a"), "http://h/a");
    }

    #[test]
    fn decodes_form_events() {
        let (event, value) = event_payload(serde_json::json!({
            "type": "form", "event": "validate",
            "value": "user%5Bname%5D=Jo", "meta": {"_target": "user[name]"}
        }))
        .unwrap();
        assert_eq!(event, "validate");
        assert_eq!(
            value,
            serde_json::json!({"user": {"name": "Jo"}, "_target": "user[name]"})
        );
    }
}
