//! Flash messages: short notices by kind (`info`, `error`) that a view shows once.
//!
//! As in Phoenix LiveView, a callback puts a flash with [`Effects::put_flash`]
//! (`socket.put_flash("info", "Saved")`) and clears it with
//! [`Effects::clear_flash`] / [`Effects::clear_flash_kind`], or the client clears it
//! with the reserved event `lv:clear-flash` (value `{key}`). A view that renders its
//! flash keeps a [`Flash`] field and hands it to the session through
//! [`LiveView::flash`]; the session applies the effects to that field through the
//! [`Tracked`](crate::Tracked) wrapper, so only the dynamics reading `@flash` are resent.
//!
//! Across a live navigation (`push_navigate`) or a redirect, a flash changed in the
//! callback travels in the `live_redirect` / `redirect` payload as a signed token
//! (`{"to":"/x","kind":"push","flash":"<token>"}`) valid for [`MAX_AGE`]; the client
//! sends it back as the next join's `flash` parameter, and the new view finds it in
//! [`Mount::flash`] and in its own `Flash` field. A forged or expired token counts as
//! no flash.
//!
//! [`Effects::put_flash`]: crate::Effects::put_flash
//! [`Effects::clear_flash`]: crate::Effects::clear_flash
//! [`Effects::clear_flash_kind`]: crate::Effects::clear_flash_kind
//! [`LiveView::flash`]: crate::LiveView::flash
//! [`Mount::flash`]: crate::Mount::flash

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::token::Signer;

/// How long a flash token stays valid: long enough for the next join, no longer
/// (Phoenix's flash cookie lives 60 s too).
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// The cookie the client stores a `redirect`'s flash token in (for 60 s), for the next
/// page load to read.
pub const COOKIE: &str = "__phoenix_flash__";

/// The value of the flash cookie in a `Cookie` request header, if any.
pub fn from_cookie_header(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then_some(value)
    })
}

/// The token kind flash tokens are signed as, so no other token passes for one.
const KIND: &str = "flash";

/// Flash messages by kind (`"info"`, `"error"`…), at most one per kind.
///
/// ```
/// let mut flash = cinder::Flash::default();
/// flash.put("info", "Saved");
/// assert_eq!(flash.get("info"), Some("Saved"));
/// flash.clear_kind("info");
/// assert!(flash.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Flash(BTreeMap<String, String>);

impl Flash {
    /// No messages.
    pub const fn new() -> Self {
        Flash(BTreeMap::new())
    }

    /// The message of `kind`, if any.
    pub fn get(&self, kind: &str) -> Option<&str> {
        self.0.get(kind).map(String::as_str)
    }

    /// Sets the message of `kind`, replacing the previous one.
    pub fn put(&mut self, kind: impl Into<String>, message: impl Into<String>) {
        self.0.insert(kind.into(), message.into());
    }

    /// Removes every message.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Removes the message of `kind`.
    pub fn clear_kind(&mut self, kind: &str) {
        self.0.remove(kind);
    }

    /// Whether there is no message.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages as `(kind, message)`, by kind.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Applies one effect.
    pub(crate) fn apply(&mut self, op: FlashOp) {
        match op {
            FlashOp::Put { kind, message } => {
                self.0.insert(kind, message);
            }
            FlashOp::Clear => self.clear(),
            FlashOp::ClearKind(kind) => self.clear_kind(&kind),
        }
    }

    /// Signs the flash for the next join (`live_redirect` / `redirect` payloads).
    pub fn sign(&self, signer: &Signer) -> String {
        let claims = Claims {
            flash: self.clone(),
            exp: crate::token::now() + MAX_AGE.as_secs(),
        };
        signer.sign(KIND, &claims)
    }

    /// The flash a join's `flash` parameter carries; a forged, expired or malformed
    /// token is no flash (an empty one), never an error.
    pub fn verify(signer: &Signer, token: &str) -> Flash {
        match signer.verify::<Claims>(KIND, token) {
            Ok(claims) => claims.flash,
            Err(err) => {
                tracing::debug!(%err, "ignored a flash token");
                Flash::default()
            }
        }
    }
}

/// What a flash token carries.
#[derive(Serialize, Deserialize)]
struct Claims {
    flash: Flash,
    /// Expiry, unix seconds.
    exp: u64,
}

/// A flash effect, applied after the callback returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FlashOp {
    Put { kind: String, message: String },
    Clear,
    ClearKind(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_forgeries_are_empty() {
        let signer = Signer::new(b"secret");
        let mut flash = Flash::default();
        flash.put("info", "Deleted");
        let token = flash.sign(&signer);
        assert_eq!(Flash::verify(&signer, &token), flash);
        assert!(Flash::verify(&Signer::new(b"other"), &token).is_empty());
        assert!(Flash::verify(&signer, &format!("{token}x")).is_empty());
        assert!(Flash::verify(&signer, "").is_empty());
        // A session token is not a flash token.
        assert!(Flash::verify(&signer, &signer.session_token("phx-1", "/", "")).is_empty());
    }

    #[test]
    fn reads_the_flash_cookie() {
        let header = "_cinder_key=abc; __phoenix_flash__=tok.en; other=1";
        assert_eq!(from_cookie_header(header), Some("tok.en"));
        assert_eq!(from_cookie_header("__phoenix_flash__="), None);
        assert_eq!(from_cookie_header("x__phoenix_flash__=a"), None);
    }

    #[test]
    fn expired_tokens_are_empty() {
        let signer = Signer::new(b"secret");
        let mut flash = Flash::default();
        flash.put("info", "Old");
        let token = signer.sign(KIND, &Claims { flash, exp: 1 });
        assert!(Flash::verify(&signer, &token).is_empty());
    }

    #[test]
    fn applies_effects() {
        let mut flash = Flash::default();
        flash.apply(FlashOp::Put {
            kind: "info".into(),
            message: "a".into(),
        });
        flash.apply(FlashOp::Put {
            kind: "error".into(),
            message: "b".into(),
        });
        flash.apply(FlashOp::ClearKind("info".into()));
        assert_eq!(flash.iter().collect::<Vec<_>>(), [("error", "b")]);
        flash.apply(FlashOp::Clear);
        assert!(flash.is_empty());
    }
}
