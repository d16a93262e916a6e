//! HTML escaping and the values a template may interpolate.
//!
//! Everything interpolated into a template goes through [`IntoDynamic`]: text is escaped,
//! [`Raw`] opts out of escaping, nested templates and comprehensions stay structured so the
//! diff engine can track them. Attribute values go through [`AttrValue`], which decides
//! whether `name="value"`, a bare `name` or nothing at all is rendered.

use std::borrow::Cow;
use std::fmt::Write;

use crate::rendered::{Comprehension, Dynamic, Rendered};

/// Appends `text` to `out` with `& < > " '` escaped, as `Phoenix.HTML` does.
pub fn escape_into(out: &mut String, text: &str) {
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

/// Returns `text` HTML-escaped, borrowing it when nothing needed escaping.
pub fn escape(text: &str) -> Cow<'_, str> {
    if text
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
    {
        let mut out = String::with_capacity(text.len() + 8);
        escape_into(&mut out, text);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// Markup that is inserted as is, without escaping. Only wrap trusted HTML.
///
/// ```
/// use cinder::Raw;
/// let hr = Raw("<hr>".to_owned());
/// assert_eq!(hr.0, "<hr>");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw<T>(pub T);

/// A value that can fill a dynamic slot of a template: `{expr}` in text.
///
/// Implemented for strings and numbers (escaped text), [`Raw`], `bool` (no output, so
/// `{cond && "x"}`-style code stays explicit), nested templates, comprehensions and
/// `Option`s of those (`None` renders nothing). Other types implement [`std::fmt::Display`];
/// interpolate `value.to_string()` for them.
pub trait IntoDynamic<'a> {
    /// Converts the value into what the diff engine tracks.
    fn into_dynamic(self) -> Dynamic<'a>;
}

impl<'a> IntoDynamic<'a> for Dynamic<'a> {
    fn into_dynamic(self) -> Dynamic<'a> {
        self
    }
}

impl<'a> IntoDynamic<'a> for Rendered<'a> {
    fn into_dynamic(self) -> Dynamic<'a> {
        Dynamic::Rendered(self)
    }
}

impl<'a> IntoDynamic<'a> for Comprehension<'a> {
    fn into_dynamic(self) -> Dynamic<'a> {
        Dynamic::Comprehension(self)
    }
}

impl<'a, T: IntoDynamic<'a>> IntoDynamic<'a> for Option<T> {
    fn into_dynamic(self) -> Dynamic<'a> {
        match self {
            Some(value) => value.into_dynamic(),
            None => Dynamic::Text(String::new()),
        }
    }
}

/// A value rendered as text: escaped, except for [`Raw`].
///
/// Interpolating a place (`{@name}`, `{row.title}`) borrows it, so `&T` is an
/// [`IntoDynamic`] for every `T: Text`.
pub trait Text {
    /// Appends the value as HTML.
    fn write_text(&self, out: &mut String);
}

impl Text for str {
    fn write_text(&self, out: &mut String) {
        escape_into(out, self);
    }
}

impl Text for String {
    fn write_text(&self, out: &mut String) {
        escape_into(out, self);
    }
}

impl Text for Cow<'_, str> {
    fn write_text(&self, out: &mut String) {
        escape_into(out, self);
    }
}

impl Text for char {
    fn write_text(&self, out: &mut String) {
        escape_into(out, self.encode_utf8(&mut [0; 4]));
    }
}

impl Text for bool {
    fn write_text(&self, _out: &mut String) {}
}

impl<T: Text + ?Sized> Text for &T {
    fn write_text(&self, out: &mut String) {
        (**self).write_text(out);
    }
}

impl<T: Text> Text for Option<T> {
    fn write_text(&self, out: &mut String) {
        if let Some(value) = self {
            value.write_text(out);
        }
    }
}

impl<T: AsRef<str>> Text for Raw<T> {
    fn write_text(&self, out: &mut String) {
        out.push_str(self.0.as_ref());
    }
}

impl<'a, T: Text + ?Sized> IntoDynamic<'a> for &T {
    fn into_dynamic(self) -> Dynamic<'a> {
        let mut out = String::new();
        self.write_text(&mut out);
        Dynamic::Text(out)
    }
}

impl<'a, T: AsRef<str>> IntoDynamic<'a> for Raw<T> {
    fn into_dynamic(self) -> Dynamic<'a> {
        Dynamic::Text(self.0.as_ref().to_owned())
    }
}

impl<'a> IntoDynamic<'a> for String {
    fn into_dynamic(self) -> Dynamic<'a> {
        match escape(&self) {
            Cow::Borrowed(_) => Dynamic::Text(self),
            Cow::Owned(escaped) => Dynamic::Text(escaped),
        }
    }
}

impl<'a> IntoDynamic<'a> for Cow<'_, str> {
    fn into_dynamic(self) -> Dynamic<'a> {
        Dynamic::Text(escape(&self).into_owned())
    }
}

impl<'a> IntoDynamic<'a> for char {
    fn into_dynamic(self) -> Dynamic<'a> {
        (&self).into_dynamic()
    }
}

impl<'a> IntoDynamic<'a> for bool {
    fn into_dynamic(self) -> Dynamic<'a> {
        Dynamic::Text(String::new())
    }
}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl Text for $t {
            fn write_text(&self, out: &mut String) {
                // Numbers never need escaping.
                let _ = write!(out, "{self}");
            }
        }
        impl<'a> IntoDynamic<'a> for $t {
            fn into_dynamic(self) -> Dynamic<'a> {
                Dynamic::Text(self.to_string())
            }
        }
    )*};
}
numbers!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64
);

/// A value of a dynamic attribute, `name={expr}`.
///
/// Text renders ` name="escaped"`; `true` renders the bare ` name`; `false` and `None`
/// render nothing, so `disabled={@busy}` and `class={@error.then_some("error")}` work
/// as in HEEx.
pub trait AttrValue {
    /// Appends ` name="…"`, ` name` or nothing to `out`.
    fn write_attr(&self, name: &str, out: &mut String);
}

fn write_text_attr(name: &str, value: &str, out: &mut String) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_into(out, value);
    out.push('"');
}

impl AttrValue for bool {
    fn write_attr(&self, name: &str, out: &mut String) {
        if *self {
            out.push(' ');
            out.push_str(name);
        }
    }
}

impl<T: AttrValue> AttrValue for Option<T> {
    fn write_attr(&self, name: &str, out: &mut String) {
        if let Some(value) = self {
            value.write_attr(name, out);
        }
    }
}

impl<T: AttrValue + ?Sized> AttrValue for &T {
    fn write_attr(&self, name: &str, out: &mut String) {
        (**self).write_attr(name, out);
    }
}

impl AttrValue for str {
    fn write_attr(&self, name: &str, out: &mut String) {
        write_text_attr(name, self, out);
    }
}

impl AttrValue for String {
    fn write_attr(&self, name: &str, out: &mut String) {
        write_text_attr(name, self, out);
    }
}

impl AttrValue for Cow<'_, str> {
    fn write_attr(&self, name: &str, out: &mut String) {
        write_text_attr(name, self, out);
    }
}

macro_rules! number_attrs {
    ($($t:ty),*) => {$(
        impl AttrValue for $t {
            fn write_attr(&self, name: &str, out: &mut String) {
                // Numbers never need escaping.
                let _ = write!(out, " {name}=\"{self}\"");
            }
        }
    )*};
}
number_attrs!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, char
);

/// Renders one dynamic attribute as the text of a template dynamic.
pub fn attr(name: &str, value: impl AttrValue) -> String {
    let mut out = String::new();
    value.write_attr(name, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_html_characters() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert!(matches!(escape("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn attributes_follow_heex_rules() {
        assert_eq!(attr("class", "a\"b"), r#" class="a&quot;b""#);
        assert_eq!(attr("disabled", true), " disabled");
        assert_eq!(attr("disabled", false), "");
        assert_eq!(attr("title", None::<&str>), "");
        assert_eq!(attr("value", 5), r#" value="5""#);
    }

    #[test]
    fn numbers_are_text() {
        assert!(matches!(5.into_dynamic(), Dynamic::Text(t) if t == "5"));
        assert!(matches!(Raw("<b>").into_dynamic(), Dynamic::Text(t) if t == "<b>"));
    }
}
