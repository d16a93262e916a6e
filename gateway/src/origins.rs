//! Which origins may open a socket: the request's own host, and the configured extra
//! origins (`--allowed-origin`).

/// The configured extra origins, normalized (`scheme://host[:port]`, lower case).
#[derive(Debug, Default)]
pub(crate) struct Origins {
    allowed: Vec<String>,
}

impl Origins {
    pub(crate) fn new(allowed: &[String]) -> Self {
        Self {
            allowed: allowed.iter().map(|o| normalize(o)).collect(),
        }
    }

    /// Whether a socket from `origin` may connect to a gateway reached as `host`.
    pub(crate) fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = normalize(origin);
        if self.allowed.contains(&origin) {
            return true;
        }
        let authority = origin
            .split_once("://")
            .map_or(origin.as_str(), |(_, rest)| rest);
        host.is_some_and(|host| host.eq_ignore_ascii_case(authority))
    }
}

fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_own_host_and_configured_origins() {
        let origins = Origins::new(&["https://App.example.com/".to_owned()]);
        assert!(origins.allows("http://localhost:4000", Some("localhost:4000")));
        assert!(origins.allows("https://app.example.com", Some("gw:4000")));
        assert!(!origins.allows("http://evil.example", Some("localhost:4000")));
        assert!(!origins.allows("http://localhost:4001", Some("localhost:4000")));
        assert!(!origins.allows("null", Some("localhost:4000")));
        assert!(!origins.allows("http://localhost:4000", None));
    }
}
