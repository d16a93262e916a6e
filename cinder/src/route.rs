//! Route patterns: `/chat/:room` matched against request paths.

use serde_json::Value;

use crate::view::Params;

/// A path pattern with `:name` segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

impl Pattern {
    /// Parses `/chat/:room`.
    pub fn new(source: &str) -> Self {
        let segments = split(source)
            .map(|s| match s.strip_prefix(':') {
                Some(name) => Segment::Param(name.to_owned()),
                None => Segment::Literal(s.to_owned()),
            })
            .collect();
        Pattern {
            source: source.to_owned(),
            segments,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The path parameters when `path` (no query) matches.
    pub fn matches(&self, path: &str) -> Option<Params> {
        let parts: Vec<&str> = split(path).collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Params::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => {
                    let value = Value::String(crate::params::percent_decode(part));
                    params.insert(name.clone(), value);
                }
            }
        }
        Some(params)
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// The path of a URL or path-and-query (`http://h/a?b` → `/a`).
pub fn path_of(url: &str) -> &str {
    let rest = match url.find("://") {
        Some(i) => url[i + 3..].find('/').map_or("/", |j| &url[i + 3 + j..]),
        None => url,
    };
    rest.split(['?', '#']).next().unwrap_or("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_params_and_literals() {
        let p = Pattern::new("/chat/:room");
        assert_eq!(p.matches("/chat/lobby").unwrap()["room"], "lobby");
        assert_eq!(p.matches("/chat/a%20b").unwrap()["room"], "a b");
        assert_eq!(p.matches("/chat/a&b=c").unwrap()["room"], "a&b=c");
        assert!(p.matches("/chat").is_none());
        assert!(p.matches("/other/lobby").is_none());
        assert!(Pattern::new("/").matches("/").is_some());
    }

    #[test]
    fn extracts_paths() {
        assert_eq!(path_of("http://h:4000/chat/x?user=a#f"), "/chat/x");
        assert_eq!(path_of("http://h:4000"), "/");
        assert_eq!(path_of("/counter?step=5"), "/counter");
    }
}
