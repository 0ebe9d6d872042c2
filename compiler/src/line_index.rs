//! The one conversion between byte offsets (what spans hold) and positions people and editors
//! use: 1-based line and column in characters for the CLI, 0-based line and UTF-16 code units
//! for the LSP.

/// Line starts of one text, for repeated lookups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineIndex {
    /// Byte offset where each line starts; the first is 0.
    starts: Vec<usize>,
    len: usize,
}

/// A position as the CLI prints it: 1-based line and column, the column counted in characters
/// (Unicode scalar values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

/// A position as LSP wants it: 0-based line, 0-based character offset in UTF-16 code units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf16Pos {
    pub line: u32,
    pub character: u32,
}

impl LineIndex {
    /// Lines end at `\n`, `\r\n` or a lone `\r`, as LSP counts them.
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, b) in bytes.iter().enumerate() {
            let ends_line = match b {
                b'\n' => true,
                b'\r' => bytes.get(i + 1) != Some(&b'\n'),
                _ => false,
            };
            if ends_line {
                starts.push(i + 1);
            }
        }
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// How many lines the text has (a final line break starts an empty last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The 0-based line holding byte `offset` and that line's start. Offsets past the end
    /// clamp to the end.
    pub fn line_of(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.len);
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        (line, self.starts.get(line).copied().unwrap_or(0))
    }

    /// Where 0-based `line` starts, and where the next one does (or the text ends): the line
    /// with its line break.
    pub fn line_range(&self, line: usize) -> Option<(usize, usize)> {
        let start = *self.starts.get(line)?;
        Some((
            start,
            self.starts.get(line + 1).copied().unwrap_or(self.len),
        ))
    }

    /// `text` must be the text this index was built from. An offset inside a character counts
    /// as that character.
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let (line, start) = self.line_of(offset);
        let before = prefix(text, start, offset);
        LineCol {
            line: line as u32 + 1,
            column: before.chars().count() as u32 + 1,
        }
    }

    pub fn utf16(&self, text: &str, offset: usize) -> Utf16Pos {
        let (line, start) = self.line_of(offset);
        let before = prefix(text, start, offset);
        Utf16Pos {
            line: line as u32,
            character: before.encode_utf16().count() as u32,
        }
    }

    /// The byte offset of an LSP position; positions past a line's end clamp to its end.
    pub fn offset_of_utf16(&self, text: &str, pos: Utf16Pos) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return self.len;
        };
        let next = self
            .starts
            .get(pos.line as usize + 1)
            .copied()
            .unwrap_or(self.len);
        let line = text.get(start..next).unwrap_or("");
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let end = start + line.len();
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units >= pos.character {
                return start + i;
            }
            units += c.len_utf16() as u32;
        }
        end
    }
}

/// `text[start..offset]`, with `offset` moved back to a character boundary.
fn prefix(text: &str, start: usize, offset: usize) -> &str {
    let mut end = offset.min(text.len());
    while end > start && !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(start..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_in_characters() {
        let text = "ab\ncd\n\nef";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), LineCol { line: 1, column: 1 });
        assert_eq!(idx.line_col(text, 4), LineCol { line: 2, column: 2 });
        assert_eq!(idx.line_col(text, 6), LineCol { line: 3, column: 1 });
        assert_eq!(idx.line_col(text, 8), LineCol { line: 4, column: 2 });
        assert_eq!(idx.line_col(text, 99), LineCol { line: 4, column: 3 });
    }

    #[test]
    fn emoji_and_combining_accents() {
        // "e\u{301}" is two characters (e and a combining acute), one UTF-16 unit each; the
        // emoji is one character and two UTF-16 units.
        let text = "x = \"e\u{301}😀\" + y";
        let idx = LineIndex::new(text);
        let y = text.find('y').unwrap();
        assert_eq!(idx.line_col(text, y).column, 13);
        assert_eq!(
            idx.utf16(text, y),
            Utf16Pos {
                line: 0,
                character: 13
            }
        );
        let after_emoji = text.find('😀').unwrap() + '😀'.len_utf8();
        assert_eq!(idx.line_col(text, after_emoji).column, 9);
        assert_eq!(idx.utf16(text, after_emoji).character, 9);
        assert_eq!(
            idx.offset_of_utf16(
                text,
                Utf16Pos {
                    line: 0,
                    character: 13
                }
            ),
            y
        );
        // Inside the emoji's bytes: the position of the emoji.
        let inside = text.find('😀').unwrap() + 1;
        assert_eq!(idx.line_col(text, inside).column, 8);
    }

    #[test]
    fn every_kind_of_line_break() {
        let text = "a\nb\r\nc\rd";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_count(), 4);
        for (c, line) in [('a', 1), ('b', 2), ('c', 3), ('d', 4)] {
            let at = text.find(c).unwrap();
            assert_eq!(idx.line_col(text, at), LineCol { line, column: 1 });
        }
        assert_eq!(
            idx.offset_of_utf16(
                text,
                Utf16Pos {
                    line: 1,
                    character: 9
                }
            ),
            3
        );
        assert_eq!(idx.line_range(1), Some((2, 5)));
    }

    #[test]
    fn utf16_round_trip_on_every_boundary() {
        let text = "a😀b\ncé\u{301}d\n";
        let idx = LineIndex::new(text);
        for (offset, _) in text.char_indices() {
            let pos = idx.utf16(text, offset);
            assert_eq!(idx.offset_of_utf16(text, pos), offset);
        }
    }
}
