//! Signed tokens: the session and static tokens a page carries to its socket join.
//!
//! A token is `base64url(json) "." base64url(HMAC-SHA256(secret, kind "." base64url(json)))`.
//! The JSON carries the view id the token is bound to and an expiry; the kind (`session`,
//! `static`) keeps one kind from being replayed as another. The client treats tokens as
//! opaque strings. A forged, expired or mismatched token makes the join answer `stale`,
//! and the client reloads the page, getting fresh tokens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How long page tokens stay valid, as Phoenix's (14 days).
pub const MAX_AGE: Duration = Duration::from_secs(14 * 24 * 3600);

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token this cluster signed (malformed or a bad signature).
    #[error("invalid token")]
    Invalid,
    /// Signed, but past its expiry.
    #[error("expired token")]
    Expired,
}

/// What a session token binds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The view id (`phx-…`): the join's topic must be `lv:<id>`.
    pub id: String,
    /// The route the page was rendered for.
    pub route: String,
    /// Expiry, unix seconds.
    pub exp: u64,
    /// The flash token the page was rendered with (from the `__phoenix_flash__` cookie a
    /// redirect left), for the first connected mount.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub flash: String,
}

/// Signs and verifies tokens with the cluster secret.
#[derive(Clone)]
pub struct Signer {
    secret: std::sync::Arc<[u8]>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

/// Unix seconds now.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Signer {
    /// A signer with the cluster secret.
    pub fn new(secret: &[u8]) -> Self {
        Signer {
            secret: secret.into(),
        }
    }

    fn mac(&self, kind: &str, body: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(kind.as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        mac
    }

    /// A 64-bit digest of `parts` keyed with the secret, the same on every node of the
    /// cluster: who may adopt a parked session, wherever it moved.
    pub(crate) fn digest(&self, kind: &str, parts: &[&str]) -> u64 {
        let mut mac = self.mac(kind, "");
        for part in parts {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part.as_bytes());
        }
        let tag = mac.finalize().into_bytes();
        let mut first = [0; 8];
        first.copy_from_slice(&tag[..8]);
        u64::from_le_bytes(first)
    }

    /// Signs `claims` as a token of `kind`.
    pub fn sign<T: Serialize>(&self, kind: &str, claims: &T) -> String {
        let json = serde_json::to_vec(claims).unwrap_or_default();
        let body = URL_SAFE_NO_PAD.encode(json);
        let tag = URL_SAFE_NO_PAD.encode(self.mac(kind, &body).finalize().into_bytes());
        format!("{body}.{tag}")
    }

    /// Verifies a token of `kind` and returns its claims.
    pub fn verify<T: for<'de> Deserialize<'de>>(
        &self,
        kind: &str,
        token: &str,
    ) -> Result<T, TokenError> {
        let (body, tag) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Invalid)?;
        self.mac(kind, body)
            .verify_slice(&tag)
            .map_err(|_| TokenError::Invalid)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Invalid)?;
        let value: serde_json::Value =
            serde_json::from_slice(&json).map_err(|_| TokenError::Invalid)?;
        let exp = value
            .get("exp")
            .and_then(serde_json::Value::as_u64)
            .ok_or(TokenError::Invalid)?;
        if exp < now() {
            return Err(TokenError::Expired);
        }
        serde_json::from_value(value).map_err(|_| TokenError::Invalid)
    }

    /// A session token for view `id` rendered at `route`.
    /// `flash` is a flash token the page was rendered with, or empty.
    pub fn session_token(&self, id: &str, route: &str, flash: &str) -> String {
        let claims = SessionClaims {
            id: id.to_owned(),
            route: route.to_owned(),
            exp: now() + MAX_AGE.as_secs(),
            flash: flash.to_owned(),
        };
        self.sign("session", &claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_forgeries() {
        let signer = Signer::new(b"secret");
        let token = signer.session_token("phx-1", "/counter", "");
        let claims: SessionClaims = signer.verify("session", &token).unwrap();
        assert_eq!(claims.id, "phx-1");
        assert_eq!(
            signer.verify::<SessionClaims>("static", &token),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            Signer::new(b"other").verify::<SessionClaims>("session", &token),
            Err(TokenError::Invalid)
        );
        let forged = format!("{}x", token);
        assert_eq!(
            signer.verify::<SessionClaims>("session", &forged),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            signer.verify::<SessionClaims>("session", "garbage"),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn refuses_expired_tokens() {
        let signer = Signer::new(b"secret");
        let token = signer.sign(
            "session",
            &SessionClaims {
                id: "x".into(),
                route: "/".into(),
                exp: 1,
                flash: String::new(),
            },
        );
        assert_eq!(
            signer.verify::<SessionClaims>("session", &token),
            Err(TokenError::Expired)
        );
    }
}
