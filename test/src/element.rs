//! Finding an element in a view's HTML with a small selector, and reading it.
//!
//! Not a CSS engine: a [`Selector`] is one compound selector — an optional tag, an
//! optional `#id`, any number of `.class` and `[attr]` / `[attr=value]` parts — matched
//! against every start tag of the HTML; the first match wins. No combinators (`a b`,
//! `a > b`), no pseudo-classes. That is what a server-rendered view needs to be tested:
//! ids on what a test reads and clicks.

use cinder_protocol_client::html::{Tag, decode_entities, next_start_tag, start_tag};

use crate::error::{Error, Result};

/// Elements without content or end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// A parsed selector: `tag#id.class[attr][attr=value]`, each part optional.
///
/// ```
/// use cinder_test::Selector;
///
/// assert!(Selector::parse("#count").is_ok());
/// assert!(Selector::parse("form#signup").is_ok());
/// assert!(Selector::parse(r#"input[name="user[email]"]"#).is_ok());
/// assert!(Selector::parse("main h1").is_err(), "no combinators");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    tag: Option<String>,
    id: Option<String>,
    classes: Vec<String>,
    attrs: Vec<(String, Option<String>)>,
}

impl Selector {
    /// Parses `selector`.
    ///
    /// # Errors
    /// [`Error::Selector`] for anything beyond one compound selector.
    pub fn parse(selector: &str) -> Result<Selector> {
        let invalid = |reason: &str| Error::Selector {
            selector: selector.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parsed = Selector {
            tag: None,
            id: None,
            classes: Vec::new(),
            attrs: Vec::new(),
        };
        let is_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        let name_end = |text: &str| text.find(|c: char| !is_name(c)).unwrap_or(text.len());
        let mut rest = selector.trim();
        if rest.is_empty() {
            return Err(invalid("empty"));
        }
        let end = name_end(rest);
        if end > 0 {
            parsed.tag = Some(rest[..end].to_ascii_lowercase());
            rest = &rest[end..];
        }
        while let Some(first) = rest.chars().next() {
            match first {
                '#' | '.' => {
                    let end = name_end(&rest[1..]) + 1;
                    if end == 1 {
                        return Err(invalid("a name must follow # and ."));
                    }
                    let name = rest[1..end].to_owned();
                    if first == '#' {
                        parsed.id = Some(name);
                    } else {
                        parsed.classes.push(name);
                    }
                    rest = &rest[end..];
                }
                '[' => {
                    let (attr, after) = attribute(&rest[1..]).ok_or_else(|| {
                        invalid("an attribute is [name], [name=value] or [name=\"value\"]")
                    })?;
                    parsed.attrs.push(attr);
                    rest = after;
                }
                _ => return Err(invalid("only tag#id.class[attr=value] is supported")),
            }
        }
        Ok(parsed)
    }

    fn matches(&self, tag: &Tag) -> bool {
        self.tag.as_ref().is_none_or(|name| *name == tag.name)
            && self
                .id
                .as_ref()
                .is_none_or(|id| tag.attr("id") == Some(id.as_str()))
            && self.classes.iter().all(|class| {
                tag.attr("class")
                    .is_some_and(|classes| classes.split_whitespace().any(|c| c == class))
            })
            && self.attrs.iter().all(|(name, value)| match value {
                Some(value) => tag.attr(name) == Some(value.as_str()),
                None => tag.attr(name).is_some(),
            })
    }
}

/// Parses `name]`, `name=value]` or `name="value"]` (after the `[`).
fn attribute(text: &str) -> Option<((String, Option<String>), &str)> {
    let end = text.find([']', '='])?;
    let name = text[..end].trim().to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    let rest = &text[end..];
    if let Some(after) = rest.strip_prefix(']') {
        return Some(((name, None), after));
    }
    let value = rest.strip_prefix('=')?.trim_start();
    let (value, after) = match value.chars().next()? {
        quote @ ('"' | '\'') => {
            let inner = &value[1..];
            let close = inner.find(quote)?;
            let after = inner[close + 1..].trim_start().strip_prefix(']')?;
            (&inner[..close], after)
        }
        _ => {
            let close = value.find(']')?;
            (value[..close].trim(), &value[close + 1..])
        }
    };
    Some(((name, Some(value.to_owned())), after))
}

/// An element found in a view's HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    tag: Tag,
    inner: String,
}

impl Element {
    /// The first element of `html` that `selector` matches.
    ///
    /// # Errors
    /// [`Error::Selector`] for a selector [`Selector::parse`] refuses.
    ///
    /// ```
    /// use cinder_test::Element;
    ///
    /// let html = r#"<main><h1 id="count" class="big">4 &amp; <b>2</b></h1></main>"#;
    /// let h1 = Element::find(html, "h1#count")?.expect("the heading");
    /// assert_eq!(h1.text(), "4 & 2");
    /// assert_eq!(h1.attr("class"), Some("big"));
    /// assert_eq!(h1.inner_html(), "4 &amp; <b>2</b>");
    /// # Ok::<(), cinder_test::Error>(())
    /// ```
    pub fn find(html: &str, selector: &str) -> Result<Option<Element>> {
        let selector = Selector::parse(selector)?;
        let mut rest = html;
        while let Some((tag, after)) = next_start_tag(rest) {
            rest = after;
            if selector.matches(&tag) {
                let inner = if VOID.contains(&tag.name.as_str()) || tag.self_closing {
                    String::new()
                } else {
                    content(&tag.name, after).to_owned()
                };
                return Ok(Some(Element { tag, inner }));
            }
        }
        Ok(None)
    }

    /// The tag name, lowercased.
    pub fn tag(&self) -> &str {
        &self.tag.name
    }

    /// An attribute's value, entities decoded; `Some("")` for a bare attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.tag.attr(name)
    }

    /// The attributes in document order.
    pub fn attrs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tag
            .attrs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The HTML between the start and the end tag, as rendered.
    pub fn inner_html(&self) -> &str {
        &self.inner
    }

    /// The text content: tags dropped, entities decoded, runs of whitespace made one
    /// space and the ends trimmed (what a reader sees, not `textContent` verbatim).
    pub fn text(&self) -> String {
        let mut raw = String::new();
        let mut rest = self.inner.as_str();
        while let Some(at) = rest.find('<') {
            raw.push_str(&rest[..at]);
            rest = &rest[at..];
            rest = match rest.strip_prefix("<!--") {
                Some(comment) => comment.find("-->").map_or("", |end| &comment[end + 3..]),
                None => rest.find('>').map_or("", |end| &rest[end + 1..]),
            };
        }
        raw.push_str(rest);
        decode_entities(&raw)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The content of a `name` element whose start tag ended right before `html`: up to
/// the end tag that closes it, counting nested elements of the same name. Unclosed: to
/// the end.
fn content<'a>(name: &str, html: &'a str) -> &'a str {
    content_end(name, html).map_or(html, |end| &html[..end])
}

/// Where the end tag closing a `name` element starts in `html`.
fn content_end(name: &str, html: &str) -> Option<usize> {
    let raw_text = matches!(name, "script" | "style");
    let mut depth = 0_usize;
    let mut at = 0;
    while let Some(found) = html[at..].find('<') {
        let start = at + found;
        let rest = &html[start..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            at = comment
                .find("-->")
                .map_or(html.len(), |end| start + 4 + end + 3);
            continue;
        }
        if let Some(close) = rest.strip_prefix("</") {
            if names(close, name) {
                if depth == 0 {
                    return Some(start);
                }
                depth -= 1;
            }
        } else if !raw_text && names(&rest[1..], name) {
            let (tag, after) = start_tag(&rest[1..]);
            if !tag.self_closing {
                depth += 1;
            }
            at = html.len() - after.len();
            continue;
        }
        at = start + 1;
    }
    None
}

/// Whether `text` starts with the tag name `name` followed by the end of the name.
fn names(text: &str, name: &str) -> bool {
    text.get(..name.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(name))
        && text[name.len()..]
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || c == '>' || c == '/')
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTML: &str = r#"<main id="form">
  <!-- <p id="gone">commented</p> -->
  <form id="signup" phx-change="validate" phx-submit="save">
    <div class="row wide"><div id="inner">a<div>b</div>c</div></div>
    <input type="text" name="user[name]" value="Jo &amp; Co">
    <br/>
    <button type="submit" disabled>Sign up</button>
  </form>
  <p id="ok">Welcome,
     Jo!</p>
</main>"#;

    fn find(selector: &str) -> Option<Element> {
        Element::find(HTML, selector).unwrap()
    }

    #[test]
    fn ids_tags_classes_and_attributes() {
        assert_eq!(find("#signup").unwrap().attr("phx-submit"), Some("save"));
        assert_eq!(find("form").unwrap().attr("id"), Some("signup"));
        assert_eq!(find("p#ok").unwrap().text(), "Welcome, Jo!");
        assert!(find("div#ok").is_none());
        assert_eq!(find(".wide").unwrap().tag(), "div");
        assert!(find(".row.narrow").is_none());
        let input = find(r#"input[name="user[name]"]"#).unwrap();
        assert_eq!(input.attr("value"), Some("Jo & Co"));
        assert_eq!(input.inner_html(), "");
        assert_eq!(find("[name='user[name]']").unwrap(), input);
        assert_eq!(find("button[disabled]").unwrap().text(), "Sign up");
        assert!(find("#gone").is_none(), "comments are skipped");
    }

    #[test]
    fn nested_elements_of_the_same_name() {
        let inner = find("#inner").unwrap();
        assert_eq!(inner.inner_html(), "a<div>b</div>c");
        assert_eq!(inner.text(), "abc");
        let form = find("#signup").unwrap();
        assert!(form.inner_html().trim_end().ends_with("</button>"));
    }

    #[test]
    fn selectors_out_of_scope_are_refused() {
        for selector in ["", "main p", "a > b", "#", "a:hover", "[x", "[=1]"] {
            assert!(Selector::parse(selector).is_err(), "{selector:?}");
        }
    }
}
