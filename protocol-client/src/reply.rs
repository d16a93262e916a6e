//! A `phx_reply`, with what the client took out of its `diff`.

use serde_json::Value;

use crate::diff::{Extras, PushedEvent};

/// The server's answer to a push.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// `"ok"` or `"error"`.
    pub status: String,
    /// The response as received (its `diff`, if any, is already merged into the view).
    pub response: Value,
    /// The diff's top-level `"r"`: the reply a hook's `pushEvent` resolves with.
    pub reply: Option<Value>,
    /// The diff's `"t"`: a new page title.
    pub title: Option<String>,
    /// The diff's `"e"`: events pushed with the reply (also queued on the view).
    pub events: Vec<PushedEvent>,
}

impl Reply {
    /// Reads a reply payload `{"status": …, "response": …}`.
    pub(crate) fn new(payload: &Value, extras: Extras) -> Reply {
        Reply {
            status: payload
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            response: payload.get("response").cloned().unwrap_or(Value::Null),
            reply: extras.reply,
            title: extras.title,
            events: extras.events,
        }
    }

    /// `status` is `"ok"`.
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }

    /// The response's `diff`, if any.
    pub fn diff(&self) -> Option<&Value> {
        self.response.get("diff")
    }

    /// The response's `redirect` (`{to, flash?}`): a full page load.
    pub fn redirect(&self) -> Option<&Value> {
        self.response.get("redirect")
    }

    /// The response's `live_redirect` (`{to, kind, flash?}`): a live navigation.
    pub fn live_redirect(&self) -> Option<&Value> {
        self.response.get("live_redirect")
    }

    /// The response's `live_patch` (`{to, kind}`): a `pushState` after the patch.
    pub fn live_patch(&self) -> Option<&Value> {
        self.response.get("live_patch")
    }
}
