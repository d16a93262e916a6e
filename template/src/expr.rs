//! Scanning of Rust expression text: matching braces and splitting `:for` at `in`,
//! skipping string/char literals and comments.

use crate::cursor::Cursor;
use crate::{Error, Expr};

/// A significant token of Rust source; literals, comments and whitespace are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// A punctuation char such as `{`, `)` or `+`.
    Punct(char),
    /// An identifier or keyword (raw identifiers keep their `r#`).
    Ident(&'a str),
}

/// Iterator over the significant tokens of Rust source, with their byte offsets.
///
/// Iteration stops at the end of the text or at an unterminated literal or
/// block comment (which swallows the rest of the text).
struct Tokens<'a> {
    src: &'a str,
    at: usize,
}

impl<'a> Tokens<'a> {
    fn new(src: &'a str, at: usize) -> Self {
        Self { src, at }
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.at..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_nth(&self, n: usize) -> Option<char> {
        self.rest().chars().nth(n)
    }

    /// Advances past the char at the cursor.
    fn skip_char(&mut self) {
        if let Some(c) = self.peek() {
            self.at += c.len_utf8();
        }
    }

    /// Marks the text as exhausted (unterminated literal or comment).
    fn exhaust(&mut self) -> Option<()> {
        self.at = self.src.len();
        None
    }

    /// Skips past the closing `"` of a string whose opening quote was consumed.
    fn string(&mut self) -> Option<()> {
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    self.at += i + 1;
                    return Some(());
                }
                _ => {}
            }
        }
        self.exhaust()
    }

    /// Skips a raw string body `#*"..."#*`, starting at the first `#` or `"`.
    /// Returns `false` (consuming nothing) if this is not a raw string, e.g. `r#ident`.
    fn raw_string(&mut self) -> Option<bool> {
        let hashes = self.rest().chars().take_while(|&c| c == '#').count();
        if self.peek_nth(hashes) != Some('"') {
            return Some(false);
        }
        self.at += hashes + 1;
        let closing = format!("\"{}", "#".repeat(hashes));
        match self.rest().find(&closing) {
            Some(i) => {
                self.at += i + closing.len();
                Some(true)
            }
            None => self.exhaust().map(|()| true),
        }
    }

    /// At a `'`: skips a char literal, or just the quote of a lifetime or label.
    fn quote(&mut self) -> Option<()> {
        self.skip_char();
        match (self.peek(), self.peek_nth(1)) {
            (Some('\\'), _) => {
                // Escaped char literal: '\n', '\'', '\u{7f}'.
                self.at += 1;
                self.skip_char();
                match self.rest().find('\'') {
                    Some(i) => self.at += i + 1,
                    None => return self.exhaust(),
                }
            }
            (Some(_), Some('\'')) => {
                self.skip_char();
                self.skip_char();
            }
            // A lifetime or label such as 'a: the identifier is scanned next.
            _ => {}
        }
        Some(())
    }

    /// Skips a `/* */` comment (nesting allowed) whose `/*` is at the cursor.
    fn block_comment(&mut self) -> Option<()> {
        self.at += 2;
        let mut depth = 1usize;
        while depth > 0 {
            let rest = self.rest();
            if rest.starts_with("/*") {
                depth += 1;
                self.at += 2;
            } else if rest.starts_with("*/") {
                depth -= 1;
                self.at += 2;
            } else if rest.is_empty() {
                return self.exhaust();
            } else {
                self.skip_char();
            }
        }
        Some(())
    }

    /// Scans an identifier (or a literal it prefixes, such as `b"..."`) at the cursor.
    /// Returns the identifier, or `None` inside `Some` when it was a literal prefix.
    fn ident(&mut self) -> Option<Option<&'a str>> {
        let start = self.at;
        let len = self
            .rest()
            .find(|c: char| !(c == '_' || c.is_alphanumeric()))
            .unwrap_or(self.rest().len());
        self.at += len;
        let word = self.src.get(start..self.at).unwrap_or("");
        match (word, self.peek()) {
            ("r" | "br" | "cr", Some('"' | '#')) => {
                if self.raw_string()? {
                    return Some(None);
                }
                if word == "r" {
                    // Raw identifier such as r#in.
                    self.at += 1;
                    let len = self
                        .rest()
                        .find(|c: char| !(c == '_' || c.is_alphanumeric()))
                        .unwrap_or(self.rest().len());
                    self.at += len;
                    return Some(self.src.get(start..self.at));
                }
                Some(Some(word))
            }
            ("b" | "c", Some('"')) => {
                self.at += 1;
                self.string().map(|()| None)
            }
            ("b", Some('\'')) => self.quote().map(|()| None),
            _ => Some(Some(word)),
        }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = (usize, Token<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let start = self.at;
            let c = self.peek()?;
            match c {
                c if c.is_whitespace() => self.skip_char(),
                '/' if self.peek_nth(1) == Some('/') => {
                    let len = self.rest().find('\n').unwrap_or(self.rest().len());
                    self.at += len;
                }
                '/' if self.peek_nth(1) == Some('*') => self.block_comment()?,
                '"' => {
                    self.skip_char();
                    self.string()?;
                }
                '\'' => self.quote()?,
                c if c == '_' || c.is_alphabetic() => {
                    if let Some(word) = self.ident()? {
                        return Some((start, Token::Ident(word)));
                    }
                }
                c if c.is_ascii_digit() => {
                    // Numbers (with suffixes such as 1u8 or 1e9) are not significant.
                    let len = self
                        .rest()
                        .find(|c: char| !(c == '_' || c.is_alphanumeric()))
                        .unwrap_or(self.rest().len());
                    self.at += len;
                }
                c => {
                    self.skip_char();
                    return Some((start, Token::Punct(c)));
                }
            }
        }
    }
}

/// Byte offset in `src` of the `}` that closes an expression whose code starts
/// at byte `start` (just after its `{`), or `None` if it is never closed.
pub(crate) fn closing_brace(src: &str, start: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (at, token) in Tokens::new(src, start) {
        match token {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') if depth == 0 => return Some(at),
            Token::Punct('}') => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Splits `:for` code at its first top-level `in` keyword into the trimmed
/// pattern and iterator, or `None` if there is no such `in` or a side is empty.
pub(crate) fn split_for(code: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    for (at, token) in Tokens::new(code, 0) {
        match token {
            Token::Punct('(' | '[' | '{') => depth += 1,
            Token::Punct(')' | ']' | '}') => depth = depth.saturating_sub(1),
            Token::Ident("in") if depth == 0 => {
                let pattern = code.get(..at)?.trim();
                let iter = code.get(at + 2..)?.trim();
                return (!pattern.is_empty() && !iter.is_empty()).then_some((pattern, iter));
            }
            _ => {}
        }
    }
    None
}

/// Parses a `{expr}` whose `{` is at the cursor, leaving the cursor after its `}`.
pub(crate) fn braced(cur: &mut Cursor<'_>) -> Result<Expr, Error> {
    let open = cur.offset();
    let start = open + 1;
    let close = closing_brace(cur.src(), start)
        .ok_or_else(|| cur.error("unclosed expression, missing }", open))?;
    let code = cur.slice(start, close);
    if code.trim().is_empty() {
        return Err(cur.error("empty expression {}", open));
    }
    cur.seek(close + 1);
    Ok(Expr {
        code: code.to_owned(),
        pos: cur.pos(start),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code of the expression starting after a leading `{`.
    fn code(src: &str) -> Option<&str> {
        closing_brace(src, 1).map(|end| &src[1..end])
    }

    #[test]
    fn nested_braces() {
        assert_eq!(
            code("{ if a { b } else { c } } tail}"),
            Some(" if a { b } else { c } ")
        );
        assert_eq!(code("{x}}"), Some("x"));
        assert_eq!(code("{ { }"), None);
    }

    #[test]
    fn braces_in_strings_are_skipped() {
        assert_eq!(code(r#"{ "}" }"#), Some(r#" "}" "#));
        assert_eq!(code(r#"{ "\"}" }"#), Some(r#" "\"}" "#));
        assert_eq!(code(r#"{ b"{" }"#), Some(r#" b"{" "#));
        assert_eq!(code(r#"{ c"}" }"#), Some(r#" c"}" "#));
        assert_eq!(code("{ format!(\"{}\", x) }"), Some(" format!(\"{}\", x) "));
        assert_eq!(code(r#"{ "unterminated }"#), None);
    }

    #[test]
    fn braces_in_raw_strings_are_skipped() {
        assert_eq!(code(r##"{ r"}" }"##), Some(r##" r"}" "##));
        assert_eq!(code(r###"{ r#"a "} b"# }"###), Some(r###" r#"a "} b"# "###));
        assert_eq!(
            code(r###"{ br##"}"# }"## }"###),
            Some(r###" br##"}"# }"## "###)
        );
        assert_eq!(code("{ r#type }"), Some(" r#type "));
    }

    #[test]
    fn braces_in_chars_are_skipped() {
        assert_eq!(code("{ '}' }"), Some(" '}' "));
        assert_eq!(code("{ '{' }"), Some(" '{' "));
        assert_eq!(
            code(r"{ '\'' == c || c == '}' }"),
            Some(r" '\'' == c || c == '}' ")
        );
        assert_eq!(code(r"{ '\u{7d}' }"), Some(r" '\u{7d}' "));
        assert_eq!(code("{ b'}' }"), Some(" b'}' "));
        assert_eq!(code("{ '}' }"), Some(" '}' "));
    }

    #[test]
    fn lifetimes_and_labels_are_not_chars() {
        assert_eq!(code("{ f::<'a>(x) }"), Some(" f::<'a>(x) "));
        assert_eq!(
            code("{ 'outer: loop { break 'outer; } }"),
            Some(" 'outer: loop { break 'outer; } ")
        );
        assert_eq!(code("{ |x: &'a str| x }"), Some(" |x: &'a str| x "));
        assert_eq!(code("{ &'static '}' }"), Some(" &'static '}' "));
    }

    #[test]
    fn braces_in_comments_are_skipped() {
        assert_eq!(code("{ x // }\n }"), Some(" x // }\n "));
        assert_eq!(
            code("{ x /* } /* } */ } */ }"),
            Some(" x /* } /* } */ } */ ")
        );
        assert_eq!(code("{ x /* } "), None);
        assert_eq!(code("{ a / b }"), Some(" a / b "));
    }

    #[test]
    fn split_for_at_top_level_in() {
        assert_eq!(
            split_for(" (i, row) in @rows.iter().enumerate() "),
            Some(("(i, row)", "@rows.iter().enumerate()"))
        );
        assert_eq!(split_for("index in indices"), Some(("index", "indices")));
        assert_eq!(
            split_for("x in xs.iter().filter(|y| { for z in w {} true })"),
            Some(("x", "xs.iter().filter(|y| { for z in w {} true })"))
        );
        assert_eq!(split_for("r#in in \" in \""), Some(("r#in", "\" in \"")));
        assert_eq!(split_for("[a, b]in pairs"), Some(("[a, b]", "pairs")));
        assert_eq!(split_for("items"), None);
        assert_eq!(split_for("f(x in y)"), None);
        assert_eq!(split_for(" in items"), None);
        assert_eq!(split_for("x in "), None);
    }
}
