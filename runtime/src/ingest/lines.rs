//! Where each input line starts: physical lines as bytes for NDJSON and whitespace text, and
//! line numbers of CSV records, which the `csv` crate cannot report exactly.

use super::error::IngestError;
use std::collections::VecDeque;
use std::io::{BufRead, Read};

/// Spreadsheet exports often start with a byte-order mark, which would stick to the first
/// column's name.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

pub(crate) fn io_error(line: u64, e: &std::io::Error) -> IngestError {
    IngestError {
        line,
        field: None,
        message: format!("cannot read the file: {e}"),
        fatal: true,
    }
}

/// Physical lines as bytes, so that invalid UTF-8 is one line's error rather than the file's.
pub(crate) struct Lines<R> {
    reader: R,
    pub buf: Vec<u8>,
    /// The 1-based number of the line in `buf`.
    pub line: u64,
    pub bytes: u64,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R) -> Lines<R> {
        Lines {
            reader,
            buf: Vec::new(),
            line: 0,
            bytes: 0,
        }
    }

    /// Reads the next line into `buf` without its line ending; `false` at the end of input.
    pub fn advance(&mut self) -> Result<bool, IngestError> {
        self.buf.clear();
        match self.reader.read_until(b'\n', &mut self.buf) {
            Ok(0) => Ok(false),
            Ok(n) => {
                self.bytes += n as u64;
                self.line += 1;
                if self.buf.last() == Some(&b'\n') {
                    self.buf.pop();
                }
                if self.buf.last() == Some(&b'\r') {
                    self.buf.pop();
                }
                if self.line == 1 && self.buf.starts_with(BOM) {
                    self.buf.drain(..BOM.len());
                }
                Ok(true)
            }
            Err(e) => Err(io_error(self.line + 1, &e)),
        }
    }

    pub fn text(&self) -> Result<&str, IngestError> {
        std::str::from_utf8(&self.buf).map_err(|e| IngestError {
            line: self.line,
            field: None,
            message: format!(
                "the line is not valid UTF-8 (at byte {})",
                e.valid_up_to() + 1
            ),
            fatal: false,
        })
    }
}

/// Sits under the CSV parser and notes the offset of every CR and LF that passes through.
///
/// The parser's own record positions point just after the previous record, before a leftover
/// LF of its CRLF and before skipped blank lines, so they name the wrong line. A record's first
/// content byte is the first byte at or after that position that is not CR or LF, and its
/// line is one more than the LFs before it.
pub(crate) struct LineTracker<R> {
    inner: R,
    /// Offset of the next byte to pass through.
    offset: u64,
    /// CRs and LFs not yet behind the last asked-for position: (offset, is LF).
    breaks: VecDeque<(u64, bool)>,
    /// LFs already dropped from `breaks`.
    lines_before: u64,
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, b) in buf.iter().take(n).enumerate() {
            if *b == b'\n' || *b == b'\r' {
                self.breaks.push_back((self.offset + i as u64, *b == b'\n'));
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R> LineTracker<R> {
    pub fn new(inner: R) -> LineTracker<R> {
        LineTracker {
            inner,
            offset: 0,
            breaks: VecDeque::new(),
            lines_before: 0,
        }
    }

    /// Forgets the breaks before `pos`, counting their LFs.
    fn drop_before(&mut self, pos: u64) {
        while let Some(&(at, lf)) = self.breaks.front() {
            if at >= pos {
                break;
            }
            self.lines_before += u64::from(lf);
            self.breaks.pop_front();
        }
    }

    /// The 1-based line of the first content byte of a record the parser says starts at
    /// `start`. Positions must be asked for in increasing order.
    pub fn record_line(&mut self, start: u64) -> u64 {
        self.drop_before(start);
        let mut pos = start;
        while let Some(&(at, lf)) = self.breaks.front() {
            if at != pos {
                break;
            }
            self.lines_before += u64::from(lf);
            self.breaks.pop_front();
            pos += 1;
        }
        self.lines_before + 1
    }

    /// The line at byte `pos`, for errors that happen between records.
    pub fn line_at(&mut self, pos: u64) -> u64 {
        self.drop_before(pos);
        self.lines_before + 1
    }
}
