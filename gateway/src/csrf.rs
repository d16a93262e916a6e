//! The CSRF scheme: the gateway is the only tier that knows it.
//!
//! A browser gets a random `_cinder_key` cookie with its first page. The page carries a
//! token bound to that cookie, which the app's JS passes as the socket's `_csrf_token`
//! param; at connect the gateway checks the pair, and the view-node only learns the
//! verdict (`Join.csrf_ok`), answering `stale` when it is false.
//!
//! `token = "{exp}.{mac}"`, where `exp` is unix seconds and
//! `mac = base64url_nopad(HMAC-SHA256(secret, "cinder-csrf:" ‖ cookie ‖ ":" ‖ exp))`.
//! A token is valid while `exp` is in the future and the MAC matches the cookie
//! (compared in constant time).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use hyper::HeaderMap;
use hyper::header::COOKIE;
use rand::RngCore as _;
use sha2::Sha256;

/// The cookie that binds a browser to its CSRF tokens.
pub const COOKIE_NAME: &str = "_cinder_key";

/// How long a minted token stays valid: 14 days, as Phoenix's.
pub const TOKEN_TTL_SECS: u64 = 14 * 24 * 60 * 60;

/// Mints and checks CSRF tokens with the cluster secret.
#[derive(Clone)]
pub struct Csrf {
    secret: Vec<u8>,
}

impl std::fmt::Debug for Csrf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Csrf { secret: <redacted> }")
    }
}

impl Csrf {
    /// A signer over `secret`.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            secret: secret.into(),
        }
    }

    fn mac(&self, cookie: &str, exp: &str) -> Hmac<Sha256> {
        // An empty secret is refused earlier, by `bind`.
        #[expect(
            clippy::expect_used,
            reason = "HMAC takes keys of any length, so `new_from_slice` never fails"
        )]
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .expect("HMAC takes keys of any length");
        mac.update(b"cinder-csrf:");
        mac.update(cookie.as_bytes());
        mac.update(b":");
        mac.update(exp.as_bytes());
        mac
    }

    /// A token for `cookie`, valid for [`TOKEN_TTL_SECS`] after `now` (unix seconds).
    pub fn mint(&self, cookie: &str, now: u64) -> String {
        let exp = (now + TOKEN_TTL_SECS).to_string();
        let tag = self.mac(cookie, &exp).finalize().into_bytes();
        format!("{exp}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Whether `token` was minted for `cookie` and has not expired at `now`.
    pub fn verify(&self, token: &str, cookie: Option<&str>, now: u64) -> bool {
        let Some(cookie) = cookie else {
            return false;
        };
        let Some((exp, tag)) = token.split_once('.') else {
            return false;
        };
        let Ok(expires) = exp.parse::<u64>() else {
            return false;
        };
        if expires <= now {
            return false;
        }
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        self.mac(cookie, exp).verify_slice(&tag).is_ok()
    }
}

/// A fresh `_cinder_key` value: 16 random bytes as 22 url-safe characters.
pub fn new_cookie_value() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The `Set-Cookie` value that gives a browser `value` as its `_cinder_key`.
pub fn set_cookie(value: &str) -> String {
    format!("{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Lax")
}

/// The value of cookie `name` in the request's `Cookie` headers, if present.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

/// Seconds since the unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn a_minted_token_verifies_against_its_cookie() {
        let csrf = Csrf::new("secret");
        let token = csrf.mint("abc", NOW);
        assert!(token.starts_with(&format!("{}.", NOW + TOKEN_TTL_SECS)));
        assert!(csrf.verify(&token, Some("abc"), NOW));
    }

    #[test]
    fn a_token_fails_for_another_cookie_secret_or_no_cookie() {
        let token = Csrf::new("secret").mint("abc", NOW);
        assert!(!Csrf::new("secret").verify(&token, Some("abd"), NOW));
        assert!(!Csrf::new("other").verify(&token, Some("abc"), NOW));
        assert!(!Csrf::new("secret").verify(&token, None, NOW));
    }

    #[test]
    fn an_expired_token_fails() {
        let csrf = Csrf::new("secret");
        let token = csrf.mint("abc", NOW);
        assert!(!csrf.verify(&token, Some("abc"), NOW + TOKEN_TTL_SECS));
    }

    #[test]
    fn a_forged_expiry_or_garbage_fails() {
        let csrf = Csrf::new("secret");
        let token = csrf.mint("abc", NOW);
        let (_, tag) = token.split_once('.').unwrap();
        let forged = format!("{}.{tag}", NOW + 10 * TOKEN_TTL_SECS);
        assert!(!csrf.verify(&forged, Some("abc"), NOW));
        for garbage in ["", ".", "x.y", "123", "99999999999.!!!"] {
            assert!(!csrf.verify(garbage, Some("abc"), NOW), "{garbage:?}");
        }
    }

    #[test]
    fn the_mac_is_the_documented_one() {
        let csrf = Csrf::new("secret");
        let token = csrf.mint("abc", NOW);
        let exp = (NOW + TOKEN_TTL_SECS).to_string();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"secret").unwrap();
        mac.update(format!("cinder-csrf:abc:{exp}").as_bytes());
        let expected = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        assert_eq!(token, format!("{exp}.{expected}"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; _cinder_key=xyz"));
        headers.append(COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, COOKIE_NAME), Some("xyz"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn cookie_values_are_22_url_safe_chars() {
        let value = new_cookie_value();
        assert_eq!(value.len(), 22);
        assert!(
            value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(value, new_cookie_value());
    }
}
