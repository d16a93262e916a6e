//! Just enough HTML reading for a server-rendered page: start tags with their
//! attributes (values entity-decoded), skipping comments and the insides of `<script>`
//! and `<style>`. Not a full HTML tokenizer. Used by [`crate::Page`] and by view tests
//! that look elements up (`cinder-test`).

/// A start tag: its lowercased name and attributes, values entity-decoded; a bare
/// attribute's value is `""`, as in HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The lowercased tag name.
    pub name: String,
    /// The attributes in document order, names lowercased.
    pub attrs: Vec<(String, String)>,
    /// Written `<name … />`.
    pub self_closing: bool,
}

impl Tag {
    /// The value of attribute `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The next start tag in `html` and the text after it, skipping comments, end tags and
/// the contents of `<script>` and `<style>`.
pub fn next_start_tag(html: &str) -> Option<(Tag, &str)> {
    let mut rest = html;
    loop {
        let at = rest.find('<')?;
        rest = &rest[at..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let after = &rest[1..];
        if !after.starts_with(|c: char| c.is_ascii_alphabetic()) {
            rest = after;
            continue;
        }
        let (tag, mut remaining) = start_tag(after);
        if matches!(tag.name.as_str(), "script" | "style") {
            let close = format!("</{}", tag.name);
            remaining = remaining
                .to_ascii_lowercase()
                .find(&close)
                .map_or("", |end| &remaining[end..]);
        }
        return Some((tag, remaining));
    }
}

/// Parses a start tag after its `<`; returns it and the text after its `>`.
pub fn start_tag(text: &str) -> (Tag, &str) {
    let name_end = text
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .unwrap_or(text.len());
    let mut tag = Tag {
        name: text[..name_end].to_ascii_lowercase(),
        attrs: Vec::new(),
        self_closing: false,
    };
    let mut rest = &text[name_end..];
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("/>") {
            tag.self_closing = true;
            return (tag, after);
        }
        rest = rest.trim_start_matches('/');
        if rest.is_empty() {
            return (tag, rest);
        }
        if let Some(after) = rest.strip_prefix('>') {
            return (tag, after);
        }
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '/' || c == '>' || c == '=')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        let value = match rest.strip_prefix('=') {
            Some(after) => {
                let after = after.trim_start();
                let (value, remaining) = match after.chars().next() {
                    Some(quote @ ('"' | '\'')) => {
                        let inner = &after[1..];
                        let end = inner.find(quote).unwrap_or(inner.len());
                        (&inner[..end], inner.get(end + 1..).unwrap_or(""))
                    }
                    _ => {
                        let end = after
                            .find(|c: char| c.is_whitespace() || c == '>')
                            .unwrap_or(after.len());
                        after.split_at(end)
                    }
                };
                rest = remaining;
                decode_entities(value)
            }
            None => String::new(),
        };
        if name.is_empty() {
            // A stray character; skip it.
            rest = rest.get(1..).unwrap_or("");
            continue;
        }
        tag.attrs.push((name, value));
    }
}

/// Decodes the character references a server writes (named: `amp lt gt quot apos
/// nbsp`; numeric, decimal and hex); anything else stays as written.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("a&amp;b&#39;&#x41;&unknown;&"),
            "a&b'A&unknown;&"
        );
    }

    #[test]
    fn tags_attributes_and_skipped_text() {
        let html = r#"<!-- <a> --><script>if (a<b) {}</SCRIPT><p id=x hidden class="a &amp; b"/>"#;
        let (script, rest) = next_start_tag(html).unwrap();
        assert_eq!(script.name, "script");
        // `a<b` inside the script is not a tag.
        let (tag, rest) = next_start_tag(rest).unwrap();
        assert_eq!(tag.name, "p");
        assert_eq!(tag.attr("id"), Some("x"));
        assert_eq!(tag.attr("hidden"), Some(""));
        assert_eq!(tag.attr("class"), Some("a & b"));
        assert!(tag.self_closing);
        assert!(next_start_tag(rest).is_none());
    }
}
