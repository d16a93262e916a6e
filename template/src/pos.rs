//! Source positions: the public [`Pos`] type and the line index that computes it.

/// 1-based line and column (in chars) of a byte offset in the template source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in chars from the start of the line.
    pub column: usize,
    /// 0-based byte offset in the template source.
    pub offset: usize,
}

/// Byte offsets of line starts, used to turn offsets into [`Pos`] values.
#[derive(Debug)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `src`.
    pub(crate) fn new(src: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { starts }
    }

    /// The position of byte `offset` in `src` (the text this index was built from).
    pub(crate) fn pos(&self, src: &str, offset: usize) -> Pos {
        let line = self.starts.partition_point(|&start| start <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = src.get(start..offset).map_or(0, |s| s.chars().count()) + 1;
        Pos {
            line,
            column,
            offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_char_columns() {
        let src = "ab\nçé{x}\n\nz";
        let index = LineIndex::new(src);
        let at = |needle: &str| index.pos(src, src.find(needle).unwrap());
        assert_eq!(
            at("a"),
            Pos {
                line: 1,
                column: 1,
                offset: 0
            }
        );
        assert_eq!(
            at("b"),
            Pos {
                line: 1,
                column: 2,
                offset: 1
            }
        );
        assert_eq!(at("{").line, 2);
        assert_eq!(at("{").column, 3, "columns count chars, not bytes");
        assert_eq!(
            at("z"),
            Pos {
                line: 4,
                column: 1,
                offset: src.len() - 1
            }
        );
        assert_eq!(index.pos(src, src.len()).line, 4);
    }
}
