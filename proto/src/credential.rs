//! The link credential: how a view-node knows that a call comes from a gateway of its own
//! cluster, and the cluster secret's minimum length.
//!
//! Both tiers hold the cluster secret (`CINDER_SECRET`). Neither sends it: both derive the
//! *link key*, `HMAC-SHA256(secret, "cinder link v1")`, and the gateway presents, on every
//! call (`Link`, `Render`), the metadata
//!
//! ```text
//! x-cinder-link: v1.1764722400.<base64url(HMAC-SHA256(link key, "v1.1764722400"))>
//! ```
//!
//! where the number is the gateway's clock in Unix seconds. The view-node recomputes the
//! tag, compares it in constant time, and refuses with `UNAUTHENTICATED` a token that is
//! missing, malformed, wrong, or more than [`MAX_SKEW`] away from its own clock.
//!
//! # Why a timestamp and no nonce
//!
//! A fixed key sent as is would be a password good forever to whoever once reads it (a
//! packet capture, a debug log of request headers). Binding the token to the time limits
//! such a leak to [`MAX_SKEW`]. A nonce cache would also stop a replay inside that window,
//! but only a reader of the plaintext link can replay, and that reader already sees every
//! session's cookies and frames: against it the answer is TLS on the link, not a nonce.
//! The cost of the timestamp is that gateways and view-nodes need clocks within
//! [`MAX_SKEW`] of each other, which NTP gives.
//!
//! The derived key is one-way: a leaked token or link key does not reveal the secret that
//! signs sessions, CSRF tokens and members.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// The fewest bytes a cluster secret may have: 256 bits, the size of an HMAC-SHA256
/// key. `openssl rand -base64 32` prints a secret that fits (44 bytes).
pub const MIN_SECRET_BYTES: usize = 32;

/// The gRPC metadata that carries the link token.
pub const METADATA_KEY: &str = "x-cinder-link";

/// How far a token's time may be from the checking node's clock, either way.
pub const MAX_SKEW: Duration = Duration::from_secs(300);

/// What the link key is derived with; a new format gets a new label.
const LABEL: &[u8] = b"cinder link v1";

/// The token's version prefix.
const VERSION: &str = "v1";

/// A cluster secret under [`MIN_SECRET_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeakSecret {
    /// The secret's length in bytes.
    pub len: usize,
}

impl std::fmt::Display for WeakSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the cluster secret is {} bytes; it needs at least {MIN_SECRET_BYTES} (try `openssl rand -base64 32`)",
            self.len
        )
    }
}

impl std::error::Error for WeakSecret {}

/// The cluster secret held by the environment variable `name`: `Ok(None)` when it is not
/// set, an error naming the variable when it is under [`MIN_SECRET_BYTES`] (or not
/// UTF-8).
///
/// # Errors
/// One line naming the variable and what it must hold.
pub fn secret_from_env(name: &str) -> Result<Option<Vec<u8>>, String> {
    let Some(secret) = std::env::var_os(name) else {
        return Ok(None);
    };
    let secret = secret
        .into_string()
        .map_err(|_| format!("{name}: the cluster secret is not UTF-8"))?;
    check_secret(secret.as_bytes()).map_err(|weak| format!("{name}: {weak}"))?;
    Ok(Some(secret.into_bytes()))
}

/// Whether `a` and `b` are equal, in a time that does not depend on where they differ
/// (only on their lengths): for tokens and secrets presented by callers.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Refuses a cluster secret shorter than [`MIN_SECRET_BYTES`] (an empty one included).
///
/// # Errors
/// [`WeakSecret`] with the secret's length.
pub fn check_secret(secret: &[u8]) -> Result<(), WeakSecret> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(WeakSecret { len: secret.len() });
    }
    Ok(())
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No `x-cinder-link` metadata, or not text.
    Missing,
    /// Not `v1.<seconds>.<tag>`.
    Malformed,
    /// The time is more than [`MAX_SKEW`] from the node's clock.
    Stale,
    /// The tag is not the link key's.
    Forged,
}

impl Refusal {
    /// A short label, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Malformed => "malformed",
            Refusal::Stale => "stale",
            Refusal::Forged => "forged",
        }
    }
}

/// The key gateways present and view-nodes check, derived from the cluster secret.
#[derive(Clone)]
pub struct LinkKey {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(<redacted>)")
    }
}

// === impl LinkKey ===

impl LinkKey {
    /// The link key of the cluster whose secret is `secret`.
    pub fn derive(secret: &[u8]) -> Self {
        let key = hmac(secret, LABEL);
        LinkKey { mac: keyed(&key) }
    }

    /// The token for the time `unix_secs`.
    pub fn token(&self, unix_secs: u64) -> String {
        let signed = format!("{VERSION}.{unix_secs}");
        let mut mac = self.mac.clone();
        mac.update(signed.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signed}.{tag}")
    }

    /// Checks `token` against this key and the clock `now_secs`.
    ///
    /// # Errors
    /// The [`Refusal`] saying what is wrong with it.
    pub fn verify(&self, token: &str, now_secs: u64) -> Result<(), Refusal> {
        let mut parts = token.splitn(3, '.');
        let (Some(VERSION), Some(secs), Some(tag)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::Malformed);
        };
        if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Refusal::Malformed);
        }
        let signed = secs.parse::<u64>().map_err(|_| Refusal::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| Refusal::Malformed)?;
        let mut mac = self.mac.clone();
        mac.update(VERSION.as_bytes());
        mac.update(b".");
        mac.update(secs.as_bytes());
        // Constant time: the tag is checked before the time, so a forger learns nothing
        // from which refusal comes back.
        mac.verify_slice(&tag).map_err(|_| Refusal::Forged)?;
        if signed.abs_diff(now_secs) > MAX_SKEW.as_secs() {
            return Err(Refusal::Stale);
        }
        Ok(())
    }

    /// Checks the token a request carries, against the clock now.
    ///
    /// # Errors
    /// The [`Refusal`] saying what is wrong with it.
    pub fn verify_request<T>(&self, request: &Request<T>) -> Result<(), Refusal> {
        let token = request
            .metadata()
            .get(METADATA_KEY)
            .and_then(|value| value.to_str().ok())
            .ok_or(Refusal::Missing)?;
        self.verify(token, unix_now())
    }

    /// An interceptor that adds this key's token to every call of a client.
    pub fn credential(&self) -> Credential {
        Credential { key: self.clone() }
    }
}

/// A client interceptor presenting a fresh link token on every call:
/// `ViewNodeClient::with_interceptor(channel, key.credential())`.
#[derive(Clone, Debug)]
pub struct Credential {
    key: LinkKey,
}

impl Interceptor for Credential {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let token = self.key.token(unix_now());
        let value = MetadataValue::try_from(token)
            .map_err(|_| Status::internal("the link token is not valid metadata"))?;
        request.metadata_mut().insert(METADATA_KEY, value);
        Ok(request)
    }
}

/// The clock in Unix seconds (0 before 1970, which the skew check then refuses).
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// `HMAC-SHA256(key, message)`.
fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = keyed(key);
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// An HMAC-SHA256 state keyed with `key`.
#[expect(
    clippy::expect_used,
    reason = "HMAC takes keys of every length; `new_from_slice` fails only for fixed-size keys"
)]
fn keyed(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of every length")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: u64 = 1_764_722_400;

    #[test]
    fn a_token_verifies_with_the_same_secret_only() {
        let token = LinkKey::derive(SECRET).token(NOW);
        assert_eq!(LinkKey::derive(SECRET).verify(&token, NOW), Ok(()));
        assert_eq!(
            LinkKey::derive(b"another secret of thirty-two bytes").verify(&token, NOW),
            Err(Refusal::Forged)
        );
    }

    #[test]
    fn a_token_is_good_within_the_skew_only() {
        let key = LinkKey::derive(SECRET);
        let skew = MAX_SKEW.as_secs();
        assert_eq!(key.verify(&key.token(NOW - skew), NOW), Ok(()));
        assert_eq!(key.verify(&key.token(NOW + skew), NOW), Ok(()));
        assert_eq!(
            key.verify(&key.token(NOW - skew - 1), NOW),
            Err(Refusal::Stale)
        );
        assert_eq!(
            key.verify(&key.token(NOW + skew + 1), NOW),
            Err(Refusal::Stale)
        );
    }

    #[test]
    fn a_changed_time_or_garbage_is_refused() {
        let key = LinkKey::derive(SECRET);
        let token = key.token(NOW);
        let moved = token.replacen(&NOW.to_string(), &(NOW + 1).to_string(), 1);
        assert_eq!(key.verify(&moved, NOW), Err(Refusal::Forged));
        for garbage in ["", "v1", "v1.x.y", "v2.1.AAAA", "v1.1.!!", "v1.-1.AAAA"] {
            assert_eq!(
                key.verify(garbage, NOW),
                Err(Refusal::Malformed),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(check_secret(b""), Err(WeakSecret { len: 0 }));
        assert_eq!(check_secret(b"change-me"), Err(WeakSecret { len: 9 }));
        assert_eq!(check_secret(SECRET), Ok(()));
    }
}
