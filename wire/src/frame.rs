//! Text frames: `[join_ref, ref, topic, event, payload]`, a JSON array whose payload is
//! already JSON text when it is written.
//!
//! Refs come two ways. [`open`] takes them as values (`Some("4")` is written `"4"`, `None`
//! `null`), as the view-node holds them; [`open_raw`] takes them as the JSON text a client
//! sent (`"4"`, `null`), as the gateway forwards them without parsing.

use crate::json;

/// Starts a frame `[join_ref, ref, topic, event, ` and leaves the payload open.
pub fn open(
    out: &mut String,
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    event: &str,
) {
    out.push('[');
    optional(out, join_ref);
    out.push(',');
    optional(out, msg_ref);
    out.push(',');
    json::string(out, topic);
    out.push(',');
    json::string(out, event);
    out.push(',');
}

/// Like [`open`], with refs that are already JSON text (a string or `null`).
pub fn open_raw(out: &mut String, join_ref: &str, msg_ref: &str, topic: &str, event: &str) {
    out.push('[');
    out.push_str(join_ref);
    out.push(',');
    out.push_str(msg_ref);
    out.push(',');
    json::string(out, topic);
    out.push(',');
    json::string(out, event);
    out.push(',');
}

fn optional(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => json::string(out, s),
        None => out.push_str("null"),
    }
}

/// A complete frame whose payload is already JSON text.
pub fn encode(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    event: &str,
    payload: &str,
) -> String {
    let mut out = String::with_capacity(payload.len() + topic.len() + 40);
    open(&mut out, join_ref, msg_ref, topic, event);
    out.push_str(payload);
    out.push(']');
    out
}

/// A `phx_reply` with `status` and a response that is already JSON text.
pub fn reply(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    status: &str,
    response: &str,
) -> String {
    let mut out = String::with_capacity(response.len() + topic.len() + 64);
    open(&mut out, join_ref, msg_ref, topic, "phx_reply");
    reply_payload(&mut out, status, response);
    out.push(']');
    out
}

/// Appends a reply's payload: `{"status": status, "response": response}`.
pub fn reply_payload(out: &mut String, status: &str, response: &str) {
    out.push_str("{\"status\":");
    json::string(out, status);
    out.push_str(",\"response\":");
    out.push_str(response);
    out.push('}');
}

/// The response of an error reply, and the payload of a `phx_error`: `{"reason":"…"}`.
pub fn reason(reason: &str) -> String {
    let mut out = String::from("{\"reason\":");
    json::string(&mut out, reason);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_json_arrays_in_phoenix_order() {
        assert_eq!(
            encode(Some("1"), None, "lv:a\"b", "diff", "{}"),
            r#"["1",null,"lv:a\"b","diff",{}]"#
        );
        assert_eq!(
            reply(Some("1"), Some("2"), "lv:x", "error", &reason("stale")),
            r#"["1","2","lv:x","phx_reply",{"status":"error","response":{"reason":"stale"}}]"#
        );
        let mut raw = String::new();
        open_raw(&mut raw, "\"1\"", "null", "phoenix", "phx_reply");
        assert_eq!(raw, r#"["1",null,"phoenix","phx_reply","#);
    }
}
