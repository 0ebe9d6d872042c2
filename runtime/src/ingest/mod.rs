//! Reading events from files: NDJSON, CSV and whitespace-separated text, checked against the
//! schema field by field, with one error per bad line and no panic on any input.

mod convert;
mod error;
mod lines;
mod ndjson;
pub mod strict_json;
mod table;
#[cfg(test)]
mod tests;

pub use error::IngestError;

use crate::event::Event;
use error::Problem;
use lines::{BOM, LineTracker, Lines};
use offer_compiler::schema::Schema;
use offer_compiler::value::Nanos;
use std::io::BufRead;
use std::sync::Arc;
use table::Table;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line with `type`, `key`, `at` and the fields.
    Ndjson,
    /// Standard CSV with a header row.
    Csv { delimiter: u8 },
    /// Cells separated by runs of spaces or tabs; the first non-empty line is the header.
    Whitespace,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    Column(String),
    /// The 1-based number of the data row, as text.
    Row,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeSource {
    /// A column holding the event type's name.
    Column(String),
    /// Every row is this event type.
    Fixed(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeSource {
    /// `format`: a strftime format (jiff's); `None` means RFC 3339.
    Column {
        name: String,
        format: Option<String>,
    },
    Fixed(Nanos),
}

/// How the columns of a CSV or whitespace file make an event. NDJSON ignores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub type_source: TypeSource,
    pub key: KeySource,
    pub time: TimeSource,
}

/// Reads events one line (or CSV record) at a time.
pub struct EventReader<R: BufRead> {
    schema: Arc<Schema>,
    source: Source<R>,
    /// Set after an I/O error or the end of input, so that iteration stays finished.
    done: bool,
}

enum Source<R: BufRead> {
    Ndjson(Lines<R>),
    Whitespace {
        lines: Lines<R>,
        table: Table,
    },
    Csv {
        reader: Box<csv::Reader<LineTracker<R>>>,
        record: csv::ByteRecord,
        table: Table,
    },
}

enum Step {
    Item(Result<Event, IngestError>),
    /// The input cannot be read further.
    Fatal(IngestError),
    End,
}

fn csv_error(line: u64, e: &csv::Error) -> IngestError {
    let message = match e.kind() {
        csv::ErrorKind::Io(io) => format!("cannot read the file: {io}"),
        _ => format!("cannot read the file as CSV: {e}"),
    };
    IngestError {
        line,
        field: None,
        message,
        fatal: true,
    }
}

/// A CSV record's cells as text; `None` for a blank line, which csv reports as one empty cell.
fn csv_cells<'r>(
    record: &'r csv::ByteRecord,
    columns: Option<&[String]>,
    line: u64,
) -> Result<Option<Vec<&'r str>>, IngestError> {
    // The byte-order mark can only precede the header.
    let first = columns.is_none();
    if record.len() <= 1 && record.iter().all(|c| c.trim_ascii().is_empty()) {
        return Ok(None);
    }
    let mut cells = Vec::with_capacity(record.len());
    for (i, cell) in record.iter().enumerate() {
        let cell = if i == 0 && first {
            cell.strip_prefix(BOM).unwrap_or(cell)
        } else {
            cell
        };
        match std::str::from_utf8(cell) {
            Ok(text) => cells.push(text),
            Err(_) => {
                let field = match columns {
                    Some(cols) => cols
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| format!("column {}", i + 1)),
                    None => format!("column {}", i + 1),
                };
                return Err(Problem::new(Some(&field), "the cell is not valid UTF-8").at(line));
            }
        }
    }
    Ok(Some(cells))
}

/// Reads the next CSV record; `Ok(None)` at the end of input, `Err` when the input cannot be
/// read further. The line is that of the record's first content byte.
fn next_csv_record<R: std::io::Read>(
    reader: &mut csv::Reader<LineTracker<R>>,
    record: &mut csv::ByteRecord,
) -> Result<Option<u64>, IngestError> {
    let before = reader.position().byte();
    match reader.read_byte_record(record) {
        Ok(true) => {
            let start = record.position().map_or(before, csv::Position::byte);
            Ok(Some(reader.get_mut().record_line(start)))
        }
        Ok(false) => Ok(None),
        Err(e) => {
            let at = reader.position().byte();
            Err(csv_error(reader.get_mut().line_at(at), &e))
        }
    }
}

fn no_header() -> IngestError {
    IngestError {
        line: 1,
        field: None,
        message: "the file is empty; expected a header line".to_owned(),
        fatal: false,
    }
}

fn header_columns(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.trim().to_owned()).collect()
}

impl<R: BufRead> EventReader<R> {
    /// A reader of NDJSON, whose lines carry their own type, key and time.
    pub fn ndjson(reader: R, schema: Arc<Schema>) -> Self {
        EventReader {
            schema,
            source: Source::Ndjson(Lines::new(reader)),
            done: false,
        }
    }

    /// For CSV and whitespace this reads the header line; a header problem (a required
    /// field's column missing, the key/type/time column missing) is fatal for the file.
    pub fn new(
        reader: R,
        format: Format,
        mapping: Mapping,
        schema: Arc<Schema>,
    ) -> Result<Self, IngestError> {
        let source = match format {
            Format::Ndjson => return Ok(EventReader::ndjson(reader, schema)),
            Format::Whitespace => {
                let mut lines = Lines::new(reader);
                let table = loop {
                    if !lines.advance()? {
                        return Err(no_header());
                    }
                    let text = lines.text()?;
                    let cells: Vec<&str> = text.split_ascii_whitespace().collect();
                    if !cells.is_empty() {
                        break Table::new(&schema, header_columns(&cells), &mapping, lines.line)?;
                    }
                };
                Source::Whitespace { lines, table }
            }
            Format::Csv { delimiter } => {
                let mut reader = csv::ReaderBuilder::new()
                    .delimiter(delimiter)
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(LineTracker::new(reader));
                let mut record = csv::ByteRecord::new();
                let table = loop {
                    let Some(line) = next_csv_record(&mut reader, &mut record)? else {
                        return Err(no_header());
                    };
                    if let Some(cells) = csv_cells(&record, None, line)? {
                        break Table::new(&schema, header_columns(&cells), &mapping, line)?;
                    }
                };
                Source::Csv {
                    reader: Box::new(reader),
                    record,
                    table,
                }
            }
        };
        Ok(EventReader {
            schema,
            source,
            done: false,
        })
    }

    /// Header columns that feed no field and are not the key, type or time column.
    pub fn ignored_columns(&self) -> &[String] {
        match &self.source {
            Source::Ndjson(_) => &[],
            Source::Whitespace { table, .. } | Source::Csv { table, .. } => table.ignored(),
        }
    }

    /// Bytes consumed so far, for a progress bar.
    pub fn bytes_read(&self) -> u64 {
        match &self.source {
            Source::Ndjson(lines) | Source::Whitespace { lines, .. } => lines.bytes,
            Source::Csv { reader, .. } => reader.position().byte(),
        }
    }

    fn step(&mut self) -> Step {
        let schema = &*self.schema;
        loop {
            match &mut self.source {
                Source::Ndjson(lines) => {
                    match lines.advance() {
                        Ok(true) => {}
                        Ok(false) => return Step::End,
                        Err(e) => return Step::Fatal(e),
                    }
                    let text = match lines.text() {
                        Ok(text) => text,
                        Err(e) => return Step::Item(Err(e)),
                    };
                    if !text.trim().is_empty() {
                        return Step::Item(ndjson::parse_line(schema, text, lines.line));
                    }
                }
                Source::Whitespace { lines, table } => {
                    match lines.advance() {
                        Ok(true) => {}
                        Ok(false) => return Step::End,
                        Err(e) => return Step::Fatal(e),
                    }
                    let text = match lines.text() {
                        Ok(text) => text,
                        Err(e) => {
                            table.skip_row();
                            return Step::Item(Err(e));
                        }
                    };
                    let cells: Vec<&str> = text.split_ascii_whitespace().collect();
                    if !cells.is_empty() {
                        return Step::Item(table.row(schema, &cells, lines.line));
                    }
                }
                Source::Csv {
                    reader,
                    record,
                    table,
                } => {
                    let line = match next_csv_record(reader, record) {
                        Ok(Some(line)) => line,
                        Ok(None) => return Step::End,
                        Err(e) => return Step::Fatal(e),
                    };
                    match csv_cells(record, Some(table.columns()), line) {
                        Ok(Some(cells)) => return Step::Item(table.row(schema, &cells, line)),
                        Ok(None) => {}
                        Err(e) => {
                            table.skip_row();
                            return Step::Item(Err(e));
                        }
                    }
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for EventReader<R> {
    type Item = Result<Event, IngestError>;

    /// An I/O error ends the iteration: one `Err` for it, then `None`.
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.step() {
            Step::Item(item) => Some(item),
            Step::Fatal(e) => {
                self.done = true;
                Some(Err(e))
            }
            Step::End => {
                self.done = true;
                None
            }
        }
    }
}
