//! The cursor: a read position over the template source with position and error helpers.

use crate::pos::LineIndex;
use crate::{Error, Pos};

/// A byte position in the template source that parsing code advances.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    src: &'a str,
    offset: usize,
    lines: LineIndex,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `src`.
    pub(crate) fn new(src: &'a str) -> Self {
        Self {
            src,
            offset: 0,
            lines: LineIndex::new(src),
        }
    }

    /// The whole template source.
    pub(crate) fn src(&self) -> &'a str {
        self.src
    }

    /// The current byte offset.
    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    /// Moves to byte `offset` (clamped to the end of the source).
    pub(crate) fn seek(&mut self, offset: usize) {
        self.offset = offset.min(self.src.len());
    }

    /// The source from the current offset on.
    pub(crate) fn rest(&self) -> &'a str {
        self.src.get(self.offset..).unwrap_or("")
    }

    /// The source between two byte offsets (empty if out of range).
    pub(crate) fn slice(&self, from: usize, to: usize) -> &'a str {
        self.src.get(from..to).unwrap_or("")
    }

    /// The char at the current offset.
    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// The char after the current one.
    pub(crate) fn peek_second(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    /// Whether the source at the current offset starts with `s`.
    pub(crate) fn starts_with(&self, s: &str) -> bool {
        self.rest().starts_with(s)
    }

    /// Consumes and returns the current char.
    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.offset += c.len_utf8();
        Some(c)
    }

    /// Consumes `s` if the source continues with it.
    pub(crate) fn eat(&mut self, s: &str) -> bool {
        let found = self.starts_with(s);
        if found {
            self.offset += s.len();
        }
        found
    }

    /// Consumes chars while `keep` holds and returns them.
    pub(crate) fn take_while(&mut self, mut keep: impl FnMut(char) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c| !keep(c)).unwrap_or(rest.len());
        self.offset += len;
        rest.get(..len).unwrap_or("")
    }

    /// Skips whitespace.
    pub(crate) fn skip_ws(&mut self) {
        self.take_while(char::is_whitespace);
    }

    /// The line/column position of byte `offset`.
    pub(crate) fn pos(&self, offset: usize) -> Pos {
        self.lines.pos(self.src, offset)
    }

    /// An error with `message` pointing at byte `offset`.
    pub(crate) fn error(&self, message: impl Into<String>, offset: usize) -> Error {
        Error {
            message: message.into(),
            pos: self.pos(offset),
        }
    }
}
