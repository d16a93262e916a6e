//! Tag syntax: tag names, opening tags with their attributes and directives, and closing tags.

use crate::cursor::Cursor;
use crate::expr::{braced, split_for};
use crate::{Attr, AttrValue, Directives, Error, For};

/// HTML void elements: they never have children or a closing tag.
const VOID: [&str; 13] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Elements whose content is raw text, ended only by their closing tag.
const RAW_TEXT: [&str; 2] = ["script", "style"];

/// The attribute that turns off `{` interpolation in an element's body.
pub(crate) const NO_CURLY: &str = "phx-no-curly-interpolation";

/// Whether `tag` is an HTML void element.
pub(crate) fn is_void(tag: &str) -> bool {
    VOID.iter().any(|v| v.eq_ignore_ascii_case(tag))
}

/// Whether `tag`'s content is raw text (`<script>`, `<style>`).
pub(crate) fn is_raw_text(tag: &str) -> bool {
    RAW_TEXT.iter().any(|v| v.eq_ignore_ascii_case(tag))
}

/// What a tag opens: an HTML element, a function component or a named slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagKind {
    /// `<div>`
    Element,
    /// `<.name>`
    Component,
    /// `<:name>`
    Slot,
}

impl TagKind {
    /// The kind a tag has from the char after `<` (or `</`).
    pub(crate) fn from_sigil(c: char) -> Self {
        match c {
            '.' => Self::Component,
            ':' => Self::Slot,
            _ => Self::Element,
        }
    }

    /// The tag as written in messages, e.g. `<.card>`; `close` adds the slash.
    pub(crate) fn display(self, name: &str, close: bool) -> String {
        let slash = if close { "/" } else { "" };
        let sigil = match self {
            Self::Element => "",
            Self::Component => ".",
            Self::Slot => ":",
        };
        format!("<{slash}{sigil}{name}>")
    }
}

/// A parsed opening tag.
#[derive(Debug)]
pub(crate) struct OpenTag {
    /// Element, component or slot.
    pub(crate) kind: TagKind,
    /// The name without its sigil.
    pub(crate) name: String,
    /// Attributes in source order, directives excluded.
    pub(crate) attrs: Vec<Attr>,
    /// The tag's directives.
    pub(crate) directives: Directives,
    /// Written with `/>`.
    pub(crate) self_closing: bool,
    /// Byte offset of the `<`.
    pub(crate) offset: usize,
}

impl OpenTag {
    /// Whether the tag carries a (non-directive) attribute called `name`.
    pub(crate) fn has_attr(&self, name: &str) -> bool {
        self.attrs.iter().any(|a| a.name == name)
    }
}

/// A parsed closing tag.
#[derive(Debug)]
pub(crate) struct CloseTag {
    /// Element, component or slot.
    pub(crate) kind: TagKind,
    /// The name without its sigil.
    pub(crate) name: String,
    /// Byte offset of the `<`.
    pub(crate) offset: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

fn is_attr_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.' | '@')
}

/// Reads a tag name of `kind` (its sigil already consumed); the name must be
/// followed by whitespace, `/`, `>` or the end of input.
fn name(cur: &mut Cursor<'_>, kind: TagKind) -> Result<String, Error> {
    let start = cur.offset();
    let valid = match kind {
        TagKind::Element => {
            cur.peek().is_some_and(|c| c.is_ascii_alphabetic())
                && !cur
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
                    .is_empty()
        }
        TagKind::Slot => {
            cur.peek().is_some_and(is_ident_start) && !cur.take_while(is_ident_char).is_empty()
        }
        TagKind::Component => loop {
            if !cur.peek().is_some_and(is_ident_start) {
                break false;
            }
            cur.take_while(is_ident_char);
            if !cur.eat("::") {
                break true;
            }
        },
    };
    let ended = cur
        .peek()
        .is_none_or(|c| c.is_whitespace() || c == '/' || c == '>');
    if !valid || !ended {
        return Err(cur.error("invalid tag name", start));
    }
    Ok(cur.slice(start, cur.offset()).to_owned())
}

/// Parses an opening tag whose `<` is at the cursor, leaving the cursor after its `>`.
pub(crate) fn open_tag(cur: &mut Cursor<'_>) -> Result<OpenTag, Error> {
    let offset = cur.offset();
    cur.bump();
    let kind = cur.peek().map_or(TagKind::Element, TagKind::from_sigil);
    if kind != TagKind::Element {
        cur.bump();
    }
    let name = name(cur, kind)?;
    let mut tag = OpenTag {
        kind,
        name,
        attrs: Vec::new(),
        directives: Directives::default(),
        self_closing: false,
        offset,
    };
    let mut key_offset = None;
    loop {
        cur.skip_ws();
        match cur.peek() {
            None => {
                let message = format!("unclosed tag {}", kind.display(&tag.name, false));
                return Err(cur.error(message, offset));
            }
            Some('>') => {
                cur.bump();
                break;
            }
            Some('/') if cur.starts_with("/>") => {
                cur.eat("/>");
                tag.self_closing = true;
                break;
            }
            Some(c) if is_attr_name_char(c) => {
                let attr = attr(cur, &tag)?;
                if attr.name.starts_with(':') {
                    if attr.name == ":key" {
                        key_offset = Some(attr.pos.offset);
                    }
                    directive(cur, &mut tag.directives, attr)?;
                } else if tag.has_attr(&attr.name) {
                    let message = format!("duplicate attribute {}", attr.name);
                    return Err(cur.error(message, attr.pos.offset));
                } else {
                    tag.attrs.push(attr);
                }
            }
            Some(c) => {
                let message = format!(
                    "unexpected `{c}` in tag {}, expected an attribute name, > or />",
                    kind.display(&tag.name, false)
                );
                return Err(cur.error(message, cur.offset()));
            }
        }
    }
    if let Some(at) = key_offset
        && tag.directives.for_.is_none()
    {
        return Err(cur.error(":key requires :for", at));
    }
    Ok(tag)
}

/// Parses one attribute (name and optional value) at the cursor.
fn attr(cur: &mut Cursor<'_>, tag: &OpenTag) -> Result<Attr, Error> {
    let start = cur.offset();
    let name = cur.take_while(is_attr_name_char).to_owned();
    let pos = cur.pos(start);
    let before_value = cur.offset();
    cur.skip_ws();
    if !cur.eat("=") {
        cur.seek(before_value);
        return Ok(Attr {
            name,
            value: AttrValue::Bare,
            pos,
        });
    }
    cur.skip_ws();
    let value = match cur.peek() {
        Some(quote @ ('"' | '\'')) => {
            let open = cur.offset();
            cur.bump();
            let text = cur.take_while(|c| c != quote).to_owned();
            if cur.bump().is_none() {
                return Err(cur.error("unclosed attribute value", open));
            }
            AttrValue::Literal { text, quote }
        }
        Some('{') => AttrValue::Expr(braced(cur)?),
        None => {
            let message = format!("unclosed tag {}", tag.kind.display(&tag.name, false));
            return Err(cur.error(message, tag.offset));
        }
        Some(_) => {
            let message = format!(
                "invalid value for attribute {name}, expected \"text\", 'text' or {{expression}}"
            );
            return Err(cur.error(message, cur.offset()));
        }
    };
    Ok(Attr { name, value, pos })
}

/// Records directive `attr` (a name starting with `:`) into `directives`.
fn directive(cur: &Cursor<'_>, directives: &mut Directives, attr: Attr) -> Result<(), Error> {
    let at = attr.pos.offset;
    let known = matches!(attr.name.as_str(), ":if" | ":for" | ":key");
    if !known {
        return Err(cur.error(format!("unknown directive {}", attr.name), at));
    }
    let AttrValue::Expr(expr) = attr.value else {
        let message = format!("directive {} needs a {{expression}} value", attr.name);
        return Err(cur.error(message, at));
    };
    let duplicate = match attr.name.as_str() {
        ":if" => directives.if_.replace(expr).is_some(),
        ":key" => directives.key.replace(expr).is_some(),
        _ => {
            let (pattern, iter) = split_for(&expr.code)
                .ok_or_else(|| cur.error(":for expects {pattern in iterator}", expr.pos.offset))?;
            let for_ = For {
                pattern: pattern.to_owned(),
                iter: iter.to_owned(),
                pos: expr.pos,
            };
            directives.for_.replace(for_).is_some()
        }
    };
    if duplicate {
        return Err(cur.error(format!("duplicate attribute {}", attr.name), at));
    }
    Ok(())
}

/// Parses a closing tag whose `</` is at the cursor, leaving the cursor after its `>`.
pub(crate) fn close_tag(cur: &mut Cursor<'_>) -> Result<CloseTag, Error> {
    let offset = cur.offset();
    cur.eat("</");
    let kind = cur.peek().map_or(TagKind::Element, TagKind::from_sigil);
    if kind != TagKind::Element {
        cur.bump();
    }
    let name = name(cur, kind)?;
    cur.skip_ws();
    if !cur.eat(">") {
        let message = format!("unclosed tag {}", kind.display(&name, true));
        return Err(cur.error(message, offset));
    }
    Ok(CloseTag { kind, name, offset })
}
