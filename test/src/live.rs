//! [`Live`]: one browser tab on a LiveView — the page's socket and main view, the URL
//! it shows, and the steps a user takes on it.
//!
//! Each step sends what `phoenix_live_view`'s JavaScript would send for it, waits for the
//! reply, and reads what came with it: the reply's diff (kept as [`Live::last_diff`]),
//! `live_patch` pushes (the URL changes), `live_redirect` and `redirect` (recorded for
//! [`Live::follow`]). Navigation does what the browser does: a patch stays on the
//! channel; a live navigation leaves it and joins the same topic with `redirect` over
//! the same socket; anything else loads the page anew.

use cinder_protocol_client::{Client, Page, Reply, View};
use serde_json::{Map, Value, json};

use crate::dead;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::upload::Chosen;

/// Redirects followed in a row before giving up (browsers allow about 20).
const MAX_REDIRECTS: usize = 10;

/// Where the server sent the view: a live navigation or a page load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The target as the server wrote it (`/counter`).
    pub to: String,
    /// `true` for `push_navigate` (`live_redirect`): another LiveView over the same
    /// socket; `false` for `redirect`: a full page load.
    pub live: bool,
    /// The signed flash the server sent along, passed back on the join.
    pub flash: Option<String>,
}

impl Redirect {
    /// Reads `{"live_redirect": {to, flash?}}` or `{"redirect": {to, flash?}}` off a reply
    /// or a join refusal.
    fn in_response(response: &Value) -> Option<Redirect> {
        let (target, live) = match response.get("live_redirect") {
            Some(target) => (target, true),
            None => (response.get("redirect")?, false),
        };
        Redirect::from_target(target, live)
    }

    /// Reads `{to, flash?}`.
    fn from_target(target: &Value, live: bool) -> Option<Redirect> {
        Some(Redirect {
            to: target.get("to")?.as_str()?.to_owned(),
            live,
            flash: target
                .get("flash")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

/// A LiveView mounted in a test: the dead render, the socket and the joined main view.
/// Made by [`crate::TestApp::live`].
#[derive(Debug)]
pub struct Live {
    /// `http://host:port` of the gateway.
    base: String,
    /// The URL the browser's location bar would show.
    url: String,
    /// The cookies of the last page load, sent with the next.
    cookie: Option<String>,
    /// The page the view was loaded from: its container id and tokens, reused by live
    /// navigation as the browser reuses the container.
    page: Page,
    client: Client,
    view: View,
    last_diff: Option<Value>,
    redirect: Option<Redirect>,
    /// Files chosen in live file inputs, not uploaded yet.
    pub(crate) chosen: Chosen,
}

// === impl Live ===

impl Live {
    /// Loads `url` and joins its main view.
    pub(crate) async fn open(base: String, url: String) -> Result<Live> {
        let loaded = load(&base, url, None).await?;
        let mut live = Live {
            base,
            url: loaded.url,
            cookie: loaded.page.cookie.clone(),
            page: loaded.page,
            client: loaded.client,
            view: loaded.view,
            last_diff: None,
            redirect: None,
            chosen: Chosen::default(),
        };
        live.joined();
        Ok(live)
    }

    /// The view's inner HTML as the browser would hold it after the last step.
    pub fn html(&self) -> String {
        self.view.html()
    }

    /// The absolute URL of the page, patches and navigation included.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL's path and query (`/counter?step=5`).
    pub fn path(&self) -> &str {
        self.url.strip_prefix(&self.base).unwrap_or(&self.url)
    }

    /// The page title the view set, if it set one.
    pub fn title(&self) -> Option<String> {
        self.view.title()
    }

    /// The diff of the last step's reply, or of the last `diff` push seen after it;
    /// `None` when the last step changed nothing and right after a join.
    pub fn last_diff(&self) -> Option<&Value> {
        self.last_diff.as_ref()
    }

    /// The redirect the last step brought, not yet followed.
    pub fn redirect(&self) -> Option<&Redirect> {
        self.redirect.as_ref()
    }

    /// The protocol client's view, for what this crate does not wrap (pushed events,
    /// streams, `wait_for`).
    pub fn view(&self) -> &View {
        &self.view
    }

    /// The first element of the view that `selector` matches (see
    /// [`crate::Selector`] for what a selector may be).
    ///
    /// # Errors
    /// [`Error::NoElement`] when none does, [`Error::Selector`] for a bad selector.
    pub fn element(&self, selector: &str) -> Result<Element> {
        Element::find(&self.html(), selector)?.ok_or_else(|| Error::NoElement(selector.to_owned()))
    }

    /// Whether `selector` matches an element of the view (`false` for a bad selector).
    pub fn has_element(&self, selector: &str) -> bool {
        matches!(Element::find(&self.html(), selector), Ok(Some(_)))
    }

    /// Sends a `phx-click` of `event` with `value` (the `phx-value-*` a button would
    /// carry) and returns the HTML after the reply.
    ///
    /// # Errors
    /// [`Error::Redirected`] if a redirect is pending, [`Error::Client`] when the push
    /// fails or the view refuses it.
    pub async fn click(&mut self, event: &str, value: Value) -> Result<String> {
        self.push(json!({"type": "click", "event": event, "value": value}))
            .await
    }

    /// Clicks the element `selector` matches as the browser does: its `phx-click`
    /// (a name, or a JS command list whose `push` is sent), its `phx-value-*` attributes,
    /// the `value` of a form control, and `cid` for a numeric `phx-target`.
    ///
    /// # Errors
    /// As [`Live::click`]; [`Error::MissingAttribute`] without a `phx-click`.
    pub async fn click_element(&mut self, selector: &str) -> Result<String> {
        let element = self.element(selector)?;
        let binding = required(&element, selector, "phx-click")?;
        let mut value = phx_values(&element);
        if matches!(
            element.tag(),
            "button" | "input" | "select" | "textarea" | "option"
        ) {
            let own = element.attr("value").unwrap_or_default();
            value.insert("value".into(), Value::String(own.to_owned()));
        }
        let (event, value) = js_push(selector, binding, value)?;
        let mut payload = json!({"type": "click", "event": event, "value": value});
        with_cid(&element, &mut payload);
        self.push(payload).await
    }

    /// Sends the `phx-change` of the form `selector` matches: `urlencoded` is the form
    /// as the browser serializes it (`user[name]=Jo&user[_unused_email]=&user[email]=`),
    /// `target` the name of the input that changed.
    ///
    /// # Errors
    /// As [`Live::click`]; [`Error::MissingAttribute`] without a `phx-change`.
    pub async fn change_form(
        &mut self,
        selector: &str,
        urlencoded: &str,
        target: &str,
    ) -> Result<String> {
        self.form_change(selector, urlencoded, target, json!({}))
            .await
    }

    /// The `phx-change` of the form `selector` with the live file inputs' `uploads`.
    pub(crate) async fn form_change(
        &mut self,
        selector: &str,
        urlencoded: &str,
        target: &str,
        uploads: Value,
    ) -> Result<String> {
        let form = self.element(selector)?;
        let event = required(&form, selector, "phx-change")?;
        let mut meta = phx_values(&form);
        meta.insert("_target".into(), Value::String(target.to_owned()));
        let mut payload = json!({
            "type": "form",
            "event": event,
            "value": urlencoded,
            "meta": meta,
            "uploads": uploads,
        });
        with_cid(&form, &mut payload);
        self.push(payload).await
    }

    /// Sends the `phx-submit` of the form `selector` matches with `urlencoded`.
    ///
    /// # Errors
    /// As [`Live::click`]; [`Error::MissingAttribute`] without a `phx-submit`.
    pub async fn submit_form(&mut self, selector: &str, urlencoded: &str) -> Result<String> {
        let form = self.element(selector)?;
        let event = required(&form, selector, "phx-submit")?;
        let mut payload = json!({
            "type": "form",
            "event": event,
            "value": urlencoded,
            "meta": phx_values(&form),
        });
        with_cid(&form, &mut payload);
        self.push(payload).await
    }

    /// A `live_patch` to `to` (`/counter?step=5`, or `?step=5`): `handle_params` runs
    /// and the URL changes. If the server answers that `to` is another LiveView, it is
    /// navigated to instead, as the browser does.
    ///
    /// # Errors
    /// As [`Live::click`].
    pub async fn patch(&mut self, to: &str) -> Result<String> {
        self.ensure_here()?;
        let url = resolve(&self.base, &self.url, to);
        let reply = self.view.live_patch(&url).await?;
        if reply.response.get("link_redirect") == Some(&Value::Bool(true)) {
            self.travel(Redirect {
                to: url,
                live: true,
                flash: None,
            })
            .await?;
        } else {
            self.url = url;
            self.settle(&reply);
        }
        Ok(self.html())
    }

    /// Follows the link `selector` matches as the browser does: `data-phx-link="patch"`
    /// patches, `data-phx-link="redirect"` navigates live over the same socket, and any
    /// other `href` loads the page anew.
    ///
    /// # Errors
    /// As [`Live::click`]; [`Error::MissingAttribute`] without an `href`; the errors of
    /// [`crate::TestApp::live`] for a page load.
    pub async fn follow_link(&mut self, selector: &str) -> Result<String> {
        let link = self.element(selector)?;
        let href = required(&link, selector, "href")?;
        match link.attr("data-phx-link") {
            Some("patch") => return self.patch(href).await,
            Some("redirect") => {
                self.ensure_here()?;
                self.travel(Redirect {
                    to: href.to_owned(),
                    live: true,
                    flash: None,
                })
                .await?;
            }
            _ => {
                let url = resolve(&self.base, &self.url, href);
                self.reload(url).await?;
            }
        }
        Ok(self.html())
    }

    /// Goes where the pending [`Live::redirect`] points: joins the new LiveView over the
    /// same socket for a live redirect, loads the page for a full one. Redirects met on
    /// the way are followed too.
    ///
    /// # Errors
    /// [`Error::NoRedirect`] if there is none; as [`Live::follow_link`] otherwise.
    pub async fn follow(&mut self) -> Result<String> {
        let redirect = self.redirect.clone().ok_or(Error::NoRedirect)?;
        self.travel(redirect).await?;
        Ok(self.html())
    }

    /// Waits for the next `diff` the server pushes on its own (a `handle_info` render)
    /// and returns it; navigation pushes met on the way are recorded.
    ///
    /// # Errors
    /// [`Error::Redirected`] when a redirect arrives first, [`Error::Client`] on a
    /// timeout or when the channel ends.
    pub async fn next_diff(&mut self) -> Result<Value> {
        loop {
            let push = self.view.next_push().await?;
            if push.event == "diff" {
                self.last_diff = Some(push.payload.clone());
                return Ok(push.payload);
            }
            self.on_push(&push.event, &push.payload);
            self.ensure_here()?;
        }
    }

    /// Sends an `event` push and reads its reply.
    async fn push(&mut self, payload: Value) -> Result<String> {
        self.push_reply("event", payload).await?;
        Ok(self.html())
    }

    /// Sends `event` on the view's channel, reads its reply and returns it.
    pub(crate) async fn push_reply(&mut self, event: &str, payload: Value) -> Result<Reply> {
        self.ensure_here()?;
        let reply = self.view.push(event, payload).await?;
        self.settle(&reply);
        Ok(reply)
    }

    /// The page's socket.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// After a reply: the pushes that came with it, then its diff and redirect.
    fn settle(&mut self, reply: &Reply) {
        self.drain();
        self.last_diff = reply.diff().cloned();
        if let Some(redirect) = Redirect::in_response(&reply.response) {
            self.redirect = Some(redirect);
        }
    }

    /// After a join: the patch the mount asked for, and what was pushed meanwhile.
    fn joined(&mut self) {
        self.redirect = None;
        self.last_diff = None;
        self.chosen.forget_files();
        let patched = self.view.join_response()["live_patch"]["to"]
            .as_str()
            .map(|to| resolve(&self.base, &self.url, to));
        if let Some(url) = patched {
            self.url = url;
        }
        self.drain();
    }

    /// Reads the pushes queued so far.
    fn drain(&mut self) {
        while let Some(push) = self.view.try_next_push() {
            self.on_push(&push.event, &push.payload);
        }
    }

    fn on_push(&mut self, event: &str, payload: &Value) {
        match event {
            // Already merged into the view by the client.
            "diff" => self.last_diff = Some(payload.clone()),
            "live_patch" => {
                if let Some(to) = payload.get("to").and_then(Value::as_str) {
                    self.url = resolve(&self.base, &self.url, to);
                }
            }
            "live_redirect" | "redirect" => {
                self.redirect = Redirect::from_target(payload, event == "live_redirect");
            }
            _ => {}
        }
    }

    fn ensure_here(&self) -> Result<()> {
        match &self.redirect {
            Some(redirect) => Err(Error::Redirected(redirect.to.clone())),
            None => Ok(()),
        }
    }

    /// Goes to `redirect`, and on to where each refused join points.
    async fn travel(&mut self, mut redirect: Redirect) -> Result<()> {
        for _ in 0..MAX_REDIRECTS {
            let url = resolve(&self.base, &self.url, &redirect.to);
            if !redirect.live {
                return self.reload(url).await;
            }
            match self.navigate(url, redirect.flash.as_deref()).await? {
                Some(next) => redirect = next,
                None => return Ok(()),
            }
        }
        Err(Error::TooManyRedirects(MAX_REDIRECTS))
    }

    /// A live navigation: leave the channel, join the same topic with `redirect: url`,
    /// the page's tokens and `_live_referer`. Returns where a refusal points: the
    /// redirect it holds, or a page load of `url` for `unauthorized` and `stale`.
    async fn navigate(&mut self, url: String, flash: Option<&str>) -> Result<Option<Redirect>> {
        // A view that redirected is already closed by the server; there is nothing to
        // leave then.
        let _ = self.view.leave().await;
        let mut payload =
            self.client
                .join_payload(&self.page.session, self.page.static_token.as_deref(), &url);
        if let Value::Object(join) = &mut payload {
            join.remove("url");
            join.insert("redirect".into(), Value::String(url.clone()));
            if let Some(flash) = flash {
                join.insert("flash".into(), Value::String(flash.to_owned()));
            }
            if let Some(Value::Object(params)) = join.get_mut("params") {
                params.insert("_live_referer".into(), Value::String(self.url.clone()));
            }
        }
        let topic = self.view.topic().to_owned();
        match self.client.join(&topic, payload).await {
            Ok(view) => {
                self.view = view;
                self.url = url;
                self.joined();
                Ok(None)
            }
            Err(cinder_protocol_client::Error::JoinRefused(response)) => {
                if let Some(redirect) = Redirect::in_response(&response) {
                    return Ok(Some(redirect));
                }
                match response.get("reason").and_then(Value::as_str) {
                    Some("unauthorized" | "stale") => Ok(Some(Redirect {
                        to: url,
                        live: false,
                        flash: None,
                    })),
                    _ => Err(cinder_protocol_client::Error::JoinRefused(response).into()),
                }
            }
            Err(error) => Err(error.into()),
        }
    }

    /// A full page load of `url`: a new dead render, socket and join.
    async fn reload(&mut self, url: String) -> Result<()> {
        let loaded = load(&self.base, url, self.cookie.clone()).await?;
        if loaded.page.cookie.is_some() {
            self.cookie.clone_from(&loaded.page.cookie);
        }
        self.url = loaded.url;
        self.page = loaded.page;
        self.client = loaded.client;
        self.view = loaded.view;
        self.joined();
        Ok(())
    }
}

/// A page loaded and its main view joined.
struct Loaded {
    url: String,
    page: Page,
    client: Client,
    view: View,
}

/// Loads `url` and joins its main view, following HTTP redirects and joins refused
/// with a redirect (each as a page load).
async fn load(base: &str, mut url: String, mut cookie: Option<String>) -> Result<Loaded> {
    for _ in 0..MAX_REDIRECTS {
        let dead = dead::get(&url, cookie.as_deref()).await?;
        if dead.cookie.is_some() {
            cookie.clone_from(&dead.cookie);
        }
        if let Some(location) = dead.redirect() {
            url = resolve(base, &url, location);
            continue;
        }
        if dead.status != 200 {
            return Err(Error::Status {
                url,
                status: dead.status,
            });
        }
        let page = Page::parse(&url, &dead.html, cookie.clone())?;
        let client = page.connect().await?;
        match page.join(&client).await {
            Ok(view) => {
                return Ok(Loaded {
                    url,
                    page,
                    client,
                    view,
                });
            }
            Err(cinder_protocol_client::Error::JoinRefused(response)) => {
                let redirect = Redirect::in_response(&response)
                    .ok_or(cinder_protocol_client::Error::JoinRefused(response))?;
                url = resolve(base, &url, &redirect.to);
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(Error::TooManyRedirects(MAX_REDIRECTS))
}

/// `to` made absolute against the page at `current` on `base` (`http://host:port`).
fn resolve(base: &str, current: &str, to: &str) -> String {
    if to.starts_with("http://") || to.starts_with("https://") {
        to.to_owned()
    } else if to.starts_with('/') {
        format!("{base}{to}")
    } else {
        let path = current.split(['?', '#']).next().unwrap_or(current);
        if to.starts_with('?') || to.starts_with('#') {
            format!("{path}{to}")
        } else {
            let dir = path.rfind('/').map_or(path, |slash| &path[..=slash]);
            format!("{dir}{to}")
        }
    }
}

/// The attribute a step needs.
fn required<'a>(element: &'a Element, selector: &str, attribute: &str) -> Result<&'a str> {
    element
        .attr(attribute)
        .ok_or_else(|| Error::MissingAttribute {
            selector: selector.to_owned(),
            attribute: attribute.to_owned(),
        })
}

/// `phx-value-foo="x"` → `{"foo": "x"}`.
fn phx_values(element: &Element) -> Map<String, Value> {
    element
        .attrs()
        .filter_map(|(name, value)| {
            let key = name.strip_prefix("phx-value-")?;
            Some((key.to_owned(), Value::String(value.to_owned())))
        })
        .collect()
}

/// A binding that is a JS command list (`[["push", {"event": …, "value": …}]]`) sends
/// its `push`; a plain one is the event name.
fn js_push(
    selector: &str,
    binding: &str,
    mut value: Map<String, Value>,
) -> Result<(String, Value)> {
    if !binding.trim_start().starts_with('[') {
        return Ok((binding.to_owned(), Value::Object(value)));
    }
    let commands: Value = serde_json::from_str(binding).map_err(|_| Error::MissingAttribute {
        selector: selector.to_owned(),
        attribute: "a phx-click that is JSON".into(),
    })?;
    let push = commands
        .as_array()
        .into_iter()
        .flatten()
        .find(|command| command[0] == "push")
        .map(|command| &command[1]);
    let Some(event) = push.and_then(|args| args["event"].as_str()) else {
        return Err(Error::MissingAttribute {
            selector: selector.to_owned(),
            attribute: "a push in its phx-click commands".into(),
        });
    };
    if let Some(Value::Object(extra)) = push.map(|args| &args["value"]) {
        value.extend(extra.clone());
    }
    Ok((event.to_owned(), Value::Object(value)))
}

/// A numeric `phx-target` (a component's `@myself`) is sent as `cid`.
fn with_cid(element: &Element, payload: &mut Value) {
    let cid = element
        .attr("phx-target")
        .and_then(|target| target.trim().parse::<i64>().ok());
    if let (Some(cid), Value::Object(payload)) = (cid, payload) {
        payload.insert("cid".into(), json!(cid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_resolve_like_links() {
        let base = "http://h:1";
        let here = "http://h:1/counter?step=5";
        assert_eq!(resolve(base, here, "/form"), "http://h:1/form");
        assert_eq!(resolve(base, here, "?step=1"), "http://h:1/counter?step=1");
        assert_eq!(resolve(base, here, "http://x/y"), "http://x/y");
        assert_eq!(
            resolve(base, "http://h:1/chat/lobby", "news"),
            "http://h:1/chat/news"
        );
    }

    #[test]
    fn js_commands_send_their_push() {
        let binding = r#"[["push",{"event":"inc","value":{"by":2}}]]"#;
        let (event, value) = js_push("#b", binding, Map::new()).unwrap();
        assert_eq!((event.as_str(), value), ("inc", json!({"by": 2})));
        assert!(js_push("#b", r#"[["toggle",{}]]"#, Map::new()).is_err());
        let (event, _) = js_push("#b", "save", Map::new()).unwrap();
        assert_eq!(event, "save");
    }

    #[test]
    fn redirects_are_read_from_replies() {
        let reply = json!({"live_redirect": {"to": "/x", "kind": "push", "flash": "F"}});
        assert_eq!(
            Redirect::in_response(&reply),
            Some(Redirect {
                to: "/x".into(),
                live: true,
                flash: Some("F".into())
            })
        );
        let reply = json!({"diff": {}, "redirect": {"to": "/y"}});
        assert_eq!(Redirect::in_response(&reply).map(|r| r.live), Some(false));
        assert_eq!(Redirect::in_response(&json!({"diff": {}})), None);
    }
}
