//! Signed members: the value a registration writes under its member key, and how a
//! watcher tells it from a forgery.
//!
//! Anyone who can write to the cluster's Redis could otherwise add a member pointing at
//! their own host, and gateways would send it users' cookies and sessions. So a view-node
//! signs what it registers with the cluster secret, and a gateway places nothing on a
//! member whose signature does not check. The value of `<prefix>:member:<name>` is
//!
//! ```text
//! v1.1764722403000.<base64url tag>.127.0.0.1:7001
//! ```
//!
//! the format version, the signature's expiry in Unix milliseconds (the heartbeat's time
//! plus the TTL, renewed with every heartbeat), the tag, and the address (last, so it may
//! hold any character). The tag is `HMAC-SHA256(member key, message)` over the prefix,
//! the name, the address and the expiry, each length-prefixed, with the member key
//! `HMAC-SHA256(secret, "cinder member v1")`, so a value copied to another name, prefix or
//! address does not check, and a copied value stops checking [`SIGNATURE_SKEW`] after it
//! expired.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long after its expiry a signed value still checks: room for clocks that differ
/// between view-nodes and gateways.
pub const SIGNATURE_SKEW: Duration = Duration::from_secs(60);

/// What the member key is derived with; a new format gets a new label.
const LABEL: &[u8] = b"cinder member v1";

/// The value's version prefix.
const VERSION: &str = "v1";

/// Why a member's value was not believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Forgery {
    /// Not `v1.<expiry>.<tag>.<address>` (an unsigned address, for one).
    Unsigned,
    /// The tag is not the cluster's.
    BadSignature,
    /// Signed, but expired more than [`SIGNATURE_SKEW`] ago.
    Expired,
}

impl Forgery {
    /// A short label, for logs.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Forgery::Unsigned => "unsigned",
            Forgery::BadSignature => "bad signature",
            Forgery::Expired => "expired",
        }
    }
}

/// The key members are signed with, derived from the cluster secret.
#[derive(Clone)]
pub struct MemberKey {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for MemberKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemberKey(<redacted>)")
    }
}

// === impl MemberKey ===

impl MemberKey {
    /// The member key of the cluster whose secret is `secret`.
    pub fn derive(secret: &[u8]) -> Self {
        let mut derive = keyed(secret);
        derive.update(LABEL);
        MemberKey {
            mac: keyed(&derive.finalize().into_bytes()),
        }
    }

    /// The value that registers `name` at `addr` under `prefix` until `expires_ms` (Unix
    /// milliseconds).
    pub fn sign(&self, prefix: &str, name: &str, addr: &str, expires_ms: u64) -> String {
        let expires = expires_ms.to_string();
        let tag = URL_SAFE_NO_PAD.encode(self.tag(prefix, name, addr, &expires));
        format!("{VERSION}.{expires}.{tag}.{addr}")
    }

    /// The address `value` registers `name` at, if the cluster signed it and it has not
    /// expired by `now_ms` (give or take [`SIGNATURE_SKEW`]).
    pub(crate) fn verify<'v>(
        &self,
        prefix: &str,
        name: &str,
        value: &'v str,
        now_ms: u64,
    ) -> Result<&'v str, Forgery> {
        let mut parts = value.splitn(4, '.');
        let (Some(VERSION), Some(expires), Some(tag), Some(addr)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Forgery::Unsigned);
        };
        if expires.is_empty() || !expires.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Forgery::Unsigned);
        }
        let expires_ms: u64 = expires.parse().map_err(|_| Forgery::Unsigned)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| Forgery::Unsigned)?;
        let mut mac = self.mac.clone();
        feed(&mut mac, prefix, name, addr, expires);
        // Constant time, and before the expiry: a forger learns nothing from the refusal.
        mac.verify_slice(&tag).map_err(|_| Forgery::BadSignature)?;
        let skew = u64::try_from(SIGNATURE_SKEW.as_millis()).unwrap_or(u64::MAX);
        if expires_ms.saturating_add(skew) < now_ms {
            return Err(Forgery::Expired);
        }
        Ok(addr)
    }

    fn tag(&self, prefix: &str, name: &str, addr: &str, expires: &str) -> Vec<u8> {
        let mut mac = self.mac.clone();
        feed(&mut mac, prefix, name, addr, expires);
        mac.finalize().into_bytes().to_vec()
    }
}

/// The signed message: every field length-prefixed, so no two field lists run together
/// into the same bytes.
fn feed(mac: &mut Hmac<Sha256>, prefix: &str, name: &str, addr: &str, expires: &str) {
    mac.update(VERSION.as_bytes());
    for field in [prefix, name, addr, expires] {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field.as_bytes());
    }
}

/// The clock in Unix milliseconds (0 before 1970).
pub(crate) fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
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

    const SECRET: &[u8] = b"member test secret of 32 bytes..";
    const NOW: u64 = 1_764_722_400_000;

    #[test]
    fn a_signed_member_checks_under_its_own_name_prefix_and_address_only() {
        let key = MemberKey::derive(SECRET);
        let value = key.sign("cinder", "node-1", "10.0.0.1:7001", NOW + 3000);
        assert_eq!(
            key.verify("cinder", "node-1", &value, NOW),
            Ok("10.0.0.1:7001")
        );
        assert_eq!(
            key.verify("cinder", "node-2", &value, NOW),
            Err(Forgery::BadSignature)
        );
        assert_eq!(
            key.verify("other", "node-1", &value, NOW),
            Err(Forgery::BadSignature)
        );
        let moved = value.replace("10.0.0.1:7001", "10.6.6.6:7001");
        assert_eq!(
            key.verify("cinder", "node-1", &moved, NOW),
            Err(Forgery::BadSignature)
        );
        let other = MemberKey::derive(b"another cluster's secret........");
        assert_eq!(
            other.verify("cinder", "node-1", &value, NOW),
            Err(Forgery::BadSignature)
        );
    }

    #[test]
    fn unsigned_and_expired_members_are_refused() {
        let key = MemberKey::derive(SECRET);
        for value in [
            "127.0.0.1:7001",
            "",
            "v1.x.AAAA.a:1",
            "v1.1.!!.a:1",
            "v2.1.AAAA.a:1",
        ] {
            assert_eq!(
                key.verify("cinder", "n", value, NOW),
                Err(Forgery::Unsigned),
                "{value:?}"
            );
        }
        let skew = u64::try_from(SIGNATURE_SKEW.as_millis()).unwrap();
        let old = key.sign("cinder", "n", "a:1", NOW - skew - 1);
        assert_eq!(key.verify("cinder", "n", &old, NOW), Err(Forgery::Expired));
        let late = key.sign("cinder", "n", "a:1", NOW - skew);
        assert_eq!(key.verify("cinder", "n", &late, NOW), Ok("a:1"));
    }
}
