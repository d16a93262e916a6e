//! Entry tokens: what lets a client join an entry's `lvu:` channel.
//!
//! A token is `base64url(JSON) "." secret`. The JSON names the view's topic (the gateway
//! routes the `lvu:` join by it), the upload and the entry; the random secret is known
//! only to the session that issued it, which compares it in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// A new token for `entry` of the upload `conf` of the view on `topic`, and its secret.
pub(super) fn issue(topic: &str, conf: &str, entry: &str) -> (String, String) {
    let secret = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
    let claims = json!({"topic": topic, "conf": conf, "entry": entry});
    let token = format!("{}.{secret}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    (token, secret)
}

/// The secret of `token` if its claims name `topic` and `entry`; `invalid_token`
/// otherwise, the reason the client reads.
pub(super) fn claimed_secret<'t>(
    token: &'t str,
    topic: &str,
    entry: &str,
) -> Result<&'t str, &'static str> {
    let (claims, secret) = token.split_once('.').ok_or("invalid_token")?;
    let claims: Value = URL_SAFE_NO_PAD
        .decode(claims)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or("invalid_token")?;
    if claims.get("topic").and_then(Value::as_str) != Some(topic)
        || claims.get("entry").and_then(Value::as_str) != Some(entry)
    {
        return Err("invalid_token");
    }
    Ok(secret)
}

/// Whether `given` is the secret an entry was issued with.
pub(super) fn matches(issued: &str, given: &str) -> bool {
    cinder_proto::credential::constant_time_eq(issued.as_bytes(), given.as_bytes())
}
