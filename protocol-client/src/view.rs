//! A joined LiveView: its channel (topic and join ref), its [`Rendered`] tree kept up to
//! date with every reply and push, and the helpers that push events like the browser.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::diff::{Diff, Extras, PushedEvent};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::inbox::{Empty, Inbox};
use crate::rendered::Rendered;
use crate::reply::Reply;
use crate::socket::{Client, JOIN_TIMEOUT, PUSH_TIMEOUT, Target, WAIT_TIMEOUT, timeout_error};

/// Server pushes kept per view; older ones are dropped.
const PUSH_CAPACITY: usize = 1024;

/// A message the server pushed on the view's topic (no ref): `diff`, `live_patch`,
/// `live_redirect`, `redirect`, `phx_close`, `phx_error`…
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    /// The event.
    pub event: String,
    /// Its payload (a `diff` push is already merged when it is seen here).
    pub payload: Value,
}

/// A render that brought stream entries. The browser inserts them into the DOM
/// (`phx-update="stream"`) and the tree forgets them, so [`View::html`] does not show
/// them; this keeps the HTML of the render that did.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamPatch {
    /// The stream tuples rendered: `[ref, inserts, delete_ids, reset]`.
    pub streams: Vec<Value>,
    /// The view's HTML as that render produced it, the new entries included.
    pub html: String,
}

/// Where a view's channel stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `phx_join` sent, no reply yet.
    Joining,
    /// Joined; replies and pushes are merged.
    Joined,
    /// The join was refused.
    Refused,
    /// Left with `phx_leave`.
    Left,
    /// The server closed the channel (`phx_close`), or a newer join of the same topic
    /// replaced it.
    Closed,
    /// The server reported a crash (`phx_error`); the browser would rejoin.
    Crashed,
    /// The socket closed.
    Disconnected,
}

impl Status {
    fn is_gone(self) -> bool {
        !matches!(self, Status::Joining | Status::Joined)
    }
}

/// One joined LiveView channel. Cheap to clone.
#[derive(Clone, Debug)]
pub struct View {
    client: Client,
    shared: Arc<ViewShared>,
}

/// The view's state, shared with the socket's reader task.
#[derive(Debug)]
pub(crate) struct ViewShared {
    pub(crate) topic: String,
    /// The ref of the `phx_join`, sent with every push and checked on every message.
    pub(crate) join_ref: String,
    /// `http://host[:port]` of the page, to make `live_patch` URLs absolute.
    base: String,
    state: Mutex<State>,
    pushes: Inbox<Push>,
    /// Signalled on every change of `state`.
    changed: Notify,
}

#[derive(Debug)]
struct State {
    status: Status,
    rendered: Option<Rendered>,
    /// The join reply's response without its `rendered`.
    join_response: Value,
    /// The view's HTML after the last render, stream entries left out.
    html: String,
    stream_patches: Vec<StreamPatch>,
    title: Option<String>,
    events: Vec<PushedEvent>,
    /// The first merge or render failure; the tree is unreliable from then on.
    broken: Option<String>,
    /// `diff` pushes that arrived before the join reply, merged right after it (the
    /// browser's `pendingDiffs`).
    early: Vec<Value>,
}

// === impl View ===

impl View {
    pub(crate) fn new(client: Client, shared: Arc<ViewShared>) -> View {
        View { client, shared }
    }

    /// The topic, `lv:<view id>`.
    pub fn topic(&self) -> &str {
        &self.shared.topic
    }

    /// The view id (the topic without `lv:`).
    pub fn id(&self) -> &str {
        self.shared
            .topic
            .strip_prefix("lv:")
            .unwrap_or(&self.shared.topic)
    }

    /// The ref of the join, sent as `join_ref` with every push.
    pub fn join_ref(&self) -> &str {
        &self.shared.join_ref
    }

    /// The socket this view lives on.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The view's inner HTML as the client renders it from its merged tree, without the
    /// attributes the client adds for itself (`data-phx-id`…).
    pub fn html(&self) -> String {
        self.shared.state().html.clone()
    }

    /// The join reply's response without `rendered`: `liveview_version`, and the
    /// optional `live_patch` or `container`.
    pub fn join_response(&self) -> Value {
        self.shared.state().join_response.clone()
    }

    /// The page title from the last `"t"`, if any.
    pub fn title(&self) -> Option<String> {
        self.shared.state().title.clone()
    }

    /// The events pushed so far (`"e"` of the join, replies and pushes), oldest first.
    pub fn take_events(&self) -> Vec<PushedEvent> {
        std::mem::take(&mut self.shared.state().events)
    }

    /// Where the channel stands.
    pub fn status(&self) -> Status {
        self.shared.state().status
    }

    /// The renders that brought stream entries since the last call, oldest first.
    pub fn take_stream_patches(&self) -> Vec<StreamPatch> {
        std::mem::take(&mut self.shared.state().stream_patches)
    }

    /// The first diff that failed to merge or render, if one did.
    pub fn broken(&self) -> Option<String> {
        self.shared.state().broken.clone()
    }

    /// The merged tree as JSON (see [`Rendered::to_json`]).
    pub fn tree(&self) -> Value {
        self.shared
            .state()
            .rendered
            .as_ref()
            .map_or(Value::Null, Rendered::to_json)
    }

    /// Pushes `event` with `payload` on the view's channel and waits up to
    /// [`PUSH_TIMEOUT`]. A reply `diff` is merged before this returns; an `error` reply
    /// is [`Error::PushRefused`].
    pub async fn push(&self, event: &str, payload: Value) -> Result<Reply> {
        self.ensure_live()?;
        let answer = self
            .client
            .call(
                Some(&self.shared.join_ref),
                &self.shared.topic,
                event,
                payload,
                PUSH_TIMEOUT,
                Target::Push(self.shared.clone()),
            )
            .await?;
        let reply = Reply::new(&answer.frame.payload, answer.extras?);
        if reply.is_ok() {
            Ok(reply)
        } else {
            Err(Error::PushRefused {
                event: event.to_owned(),
                response: reply.response,
            })
        }
    }

    /// An `event` push `{"type": kind, "event": event, "value": value}`.
    pub async fn event(&self, kind: &str, event: &str, value: Value) -> Result<Reply> {
        self.push(
            "event",
            json!({"type": kind, "event": event, "value": value}),
        )
        .await
    }

    /// A `phx-click`: `value` holds the element's `phx-value-*` attributes.
    pub async fn click(&self, event: &str, value: Value) -> Result<Reply> {
        self.event("click", event, value).await
    }

    /// A `phx-change` on a form: `urlencoded` is the serialized form, `target` the name
    /// of the input that changed (the browser sends `"undefined"` when there is none).
    pub async fn form_change(&self, event: &str, urlencoded: &str, target: &str) -> Result<Reply> {
        self.push(
            "event",
            json!({
                "type": "form",
                "event": event,
                "value": urlencoded,
                "meta": {"_target": target},
                "uploads": {},
            }),
        )
        .await
    }

    /// A `phx-submit`: `urlencoded` is the serialized form.
    pub async fn submit(&self, event: &str, urlencoded: &str) -> Result<Reply> {
        self.push(
            "event",
            json!({"type": "form", "event": event, "value": urlencoded, "meta": {}}),
        )
        .await
    }

    /// A `live_patch` to `url`; a path is made absolute with the page's origin, as the
    /// browser does. The reply may hold `link_redirect: true` (another LiveView).
    pub async fn live_patch(&self, url: &str) -> Result<Reply> {
        let url = if url.starts_with('/') {
            format!("{}{url}", self.shared.base)
        } else {
            url.to_owned()
        };
        self.push("live_patch", json!({"url": url})).await
    }

    /// Leaves the channel (`phx_leave`) and forgets the view.
    pub async fn leave(&self) -> Result<Reply> {
        self.ensure_live()?;
        let answer = self
            .client
            .call(
                Some(&self.shared.join_ref),
                &self.shared.topic,
                "phx_leave",
                json!({}),
                JOIN_TIMEOUT,
                Target::Plain,
            )
            .await;
        self.shared.finish(Status::Left);
        self.client.forget(&self.shared);
        let answer = answer?;
        Ok(Reply::new(&answer.frame.payload, answer.extras?))
    }

    /// Reports components no longer in the view as the browser does once their elements
    /// are gone: `cids_will_destroy`, then `cids_destroyed`, then forgets the cids the
    /// server confirms. Returns those cids.
    pub async fn destroy_orphan_components(&self) -> Result<Vec<i64>> {
        let orphans = self
            .shared
            .state()
            .rendered
            .as_ref()
            .map(Rendered::orphan_component_ids)
            .unwrap_or_default();
        if orphans.is_empty() {
            return Ok(orphans);
        }
        self.push("cids_will_destroy", json!({"cids": orphans}))
            .await?;
        let reply = self
            .push("cids_destroyed", json!({"cids": orphans}))
            .await?;
        let destroyed: Vec<i64> = reply
            .response
            .get("cids")
            .and_then(Value::as_array)
            .map(|cids| cids.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        if let Some(rendered) = self.shared.state().rendered.as_mut() {
            rendered.prune_components(&destroyed);
        }
        Ok(destroyed)
    }

    /// The next server push, waiting up to [`WAIT_TIMEOUT`].
    pub async fn next_push(&self) -> Result<Push> {
        self.next_push_within(WAIT_TIMEOUT).await
    }

    /// [`View::next_push`] with a timeout. Once the channel is gone and its pushes are
    /// drained: [`Error::ViewGone`].
    pub async fn next_push_within(&self, timeout: Duration) -> Result<Push> {
        match self.shared.pushes.pop(timeout).await {
            Ok(push) => Ok(push),
            Err(Empty::Closed) => Err(self.gone()),
            Err(Empty::Timeout) => Err(timeout_error(
                &format!("a push on {}", self.shared.topic),
                timeout,
            )),
        }
    }

    /// The next server push if one is queued.
    pub fn try_next_push(&self) -> Option<Push> {
        self.shared.pushes.try_pop()
    }

    /// Waits up to [`WAIT_TIMEOUT`] until the view's HTML satisfies `predicate`, and
    /// returns that HTML.
    pub async fn wait_for(&self, predicate: impl FnMut(&str) -> bool) -> Result<String> {
        self.wait_for_within(WAIT_TIMEOUT, predicate).await
    }

    /// [`View::wait_for`] with a timeout. Fails at once if a diff failed to merge or the
    /// channel is gone.
    pub async fn wait_for_within(
        &self,
        timeout: Duration,
        mut predicate: impl FnMut(&str) -> bool,
    ) -> Result<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let state = self.shared.state();
                if predicate(&state.html) {
                    return Ok(state.html.clone());
                }
                if let Some(reason) = &state.broken {
                    return Err(Error::ViewBroken {
                        topic: self.shared.topic.clone(),
                        reason: reason.clone(),
                    });
                }
                if state.status.is_gone() {
                    drop(state);
                    return Err(self.gone());
                }
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                let html = self.html();
                return Err(timeout_error(
                    &format!("the HTML of {} to match; it is {html:?}", self.shared.topic),
                    timeout,
                ));
            }
        }
    }

    fn ensure_live(&self) -> Result<()> {
        if self.status().is_gone() {
            Err(self.gone())
        } else {
            Ok(())
        }
    }

    fn gone(&self) -> Error {
        let state = match self.status() {
            Status::Joining => "joining",
            Status::Joined => "joined",
            Status::Refused => "refused",
            Status::Left => "left",
            Status::Closed => "closed by the server",
            Status::Crashed => "crashed",
            Status::Disconnected => "disconnected",
        };
        Error::ViewGone {
            topic: self.shared.topic.clone(),
            state: state.to_owned(),
        }
    }
}

// === impl ViewShared ===

impl ViewShared {
    pub(crate) fn new(topic: &str, join_ref: &str, base: String) -> ViewShared {
        ViewShared {
            topic: topic.to_owned(),
            join_ref: join_ref.to_owned(),
            base,
            state: Mutex::new(State {
                status: Status::Joining,
                rendered: None,
                join_response: Value::Null,
                html: String::new(),
                stream_patches: Vec::new(),
                title: None,
                events: Vec::new(),
                broken: None,
                early: Vec::new(),
            }),
            pushes: Inbox::new(PUSH_CAPACITY),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The join's reply: builds the tree from `response.rendered` (as `View.onJoin`),
    /// then merges any `diff` push that came first.
    pub(crate) fn on_join_reply(&self, payload: &Value) -> Result<Extras> {
        let result = {
            let mut state = self.state();
            if payload.get("status").and_then(Value::as_str) == Some("ok") {
                let result = join(&mut state, payload);
                if let Err(e) = &result {
                    state.broken.get_or_insert_with(|| e.to_string());
                }
                state.status = Status::Joined;
                for diff in std::mem::take(&mut state.early) {
                    apply(&mut state, &diff);
                }
                result
            } else {
                state.status = Status::Refused;
                self.pushes.close();
                Ok(Extras::default())
            }
        };
        self.changed.notify_waiters();
        result
    }

    /// A reply to a push: merges its `diff`, if any.
    pub(crate) fn on_reply(&self, payload: &Value) -> Result<Extras> {
        let ok = payload.get("status").and_then(Value::as_str) == Some("ok");
        let diff = payload
            .get("response")
            .and_then(|response| response.get("diff"));
        let (true, Some(diff)) = (ok, diff) else {
            return Ok(Extras::default());
        };
        let result = {
            let mut state = self.state();
            let result = merge(&mut state, diff);
            if let Err(e) = &result {
                state.broken.get_or_insert_with(|| e.to_string());
            }
            result
        };
        self.changed.notify_waiters();
        result
    }

    /// A server push on the topic. Returns whether it ended the channel.
    pub(crate) fn on_push(&self, frame: Frame) -> bool {
        let ended = {
            let mut state = self.state();
            let ended = match frame.event.as_str() {
                "diff" => {
                    apply(&mut state, &frame.payload);
                    None
                }
                "phx_close" => Some(Status::Closed),
                "phx_error" => Some(Status::Crashed),
                _ => None,
            };
            if let Some(status) = ended {
                state.status = status;
            }
            ended.is_some()
        };
        self.pushes.push(Push {
            event: frame.event,
            payload: frame.payload,
        });
        if ended {
            self.pushes.close();
        }
        self.changed.notify_waiters();
        ended
    }

    /// A newer join of the same topic took over.
    pub(crate) fn on_replaced(&self) {
        self.finish(Status::Closed);
    }

    /// The socket closed.
    pub(crate) fn on_disconnect(&self) {
        self.finish(Status::Disconnected);
    }

    /// Ends the channel with `status` unless it already ended.
    fn finish(&self, status: Status) {
        {
            let mut state = self.state();
            if !state.status.is_gone() {
                state.status = status;
            }
        }
        self.pushes.close();
        self.changed.notify_waiters();
    }
}

/// Builds the tree from a join reply.
fn join(state: &mut State, payload: &Value) -> Result<Extras> {
    let rendered = payload
        .get("response")
        .and_then(|response| response.get("rendered"))
        .ok_or_else(|| Error::InvalidDiff("a join reply without response.rendered".into()))?;
    let (diff, extras) = Diff::extract(rendered)?;
    if let Some(Value::Object(response)) = payload.get("response") {
        let mut response = response.clone();
        response.remove("rendered");
        state.join_response = Value::Object(response);
    }
    let (mut tree, html) = Rendered::join(diff)?;
    state.html = settle(state, &mut tree, html)?;
    state.rendered = Some(tree);
    note(state, &extras);
    Ok(extras)
}

/// Merges a `diff` push, recording a failure (a push has nobody to return it to).
fn apply(state: &mut State, diff: &Value) {
    if state.rendered.is_none() {
        state.early.push(diff.clone());
        return;
    }
    if let Err(e) = merge(state, diff) {
        tracing::warn!(error = %e, "a pushed diff failed to merge");
        state.broken.get_or_insert_with(|| e.to_string());
    }
}

/// `View.update`: merges a diff and keeps the rendered HTML, title and events.
fn merge(state: &mut State, diff: &Value) -> Result<Extras> {
    let (diff, extras) = Diff::extract(diff)?;
    let mut rendered = state
        .rendered
        .take()
        .ok_or_else(|| Error::Render("a diff before the join".into()))?;
    let result = rendered.update(diff).and_then(|html| {
        html.map(|html| settle(state, &mut rendered, html))
            .transpose()
    });
    state.rendered = Some(rendered);
    if let Some(html) = result? {
        state.html = html;
    }
    note(state, &extras);
    Ok(extras)
}

/// The HTML to show after a render: when the render brought stream entries, they are
/// kept aside as a [`StreamPatch`] and the view is rendered again without them.
fn settle(state: &mut State, rendered: &mut Rendered, html: String) -> Result<String> {
    let streams = rendered.take_streams();
    if streams.is_empty() {
        return Ok(html);
    }
    state.stream_patches.push(StreamPatch { streams, html });
    rendered.render()
}

fn note(state: &mut State, extras: &Extras) {
    if let Some(title) = &extras.title {
        state.title = Some(title.clone());
    }
    state.events.extend(extras.events.iter().cloned());
}
