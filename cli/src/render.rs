//! Diagnostics rendered for people with miette: the source line, labelled spans, the code and
//! the help, with `file:line:column` in the header.

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, Severity,
    SourceCode, SourceSpan, SpanContents,
};
use offer_compiler::diagnostic::{self, Diagnostic};
use offer_compiler::line_index::LineIndex;
use std::collections::HashMap;
use std::fmt;

/// A compiler diagnostic with the text it points into (none when its line is too long to
/// show).
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<&'a Source>,
    /// Said after the message when the source is not shown.
    location: Option<String>,
}

/// Lines longer than this (in bytes) are not shown: a generated file on one line would print
/// whole, and miette cannot draw columns past 65,535.
const LONGEST_SHOWN_LINE: usize = 2_000;

/// A named file's text, whose positions miette shows (`file:line:column`) with the column in
/// characters, as [`LineIndex`] counts them, where miette on its own counts bytes. Lines are
/// found through the index, so rendering many diagnostics of one big file stays linear (miette
/// alone rescans the text from its start for each).
pub struct Source {
    name: String,
    text: String,
    lines: LineIndex,
}

impl Source {
    /// A file's text as diagnostics show it; build it once per file.
    pub fn new(name: &str, text: &str) -> Source {
        // miette breaks lines at `\n` only; a lone `\r` (old Mac files) becomes one, which
        // keeps every byte offset.
        let shown: String = text
            .char_indices()
            .map(|(i, c)| match c {
                '\r' if text.as_bytes().get(i + 1) != Some(&b'\n') => '\n',
                other => other,
            })
            .collect();
        Source {
            name: name.to_string(),
            lines: LineIndex::new(&shown),
            text: shown,
        }
    }

    /// `file:line:column` of a byte offset.
    fn location(&self, offset: usize) -> String {
        let at = self.lines.line_col(&self.text, offset);
        format!("{}:{}:{}", self.name, at.line, at.column)
    }

    /// Whether every line from `start` to `end` is short enough to show.
    fn shows(&self, start: usize, end: usize) -> bool {
        let (first, _) = self.lines.line_of(start);
        let (last, _) = self.lines.line_of(end);
        (first..=last).all(|l| {
            self.lines
                .line_range(l)
                .is_some_and(|(s, e)| e - s <= LONGEST_SHOWN_LINE)
        })
    }
}

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let start = span.offset();
        if start > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let last_byte = (start + span.len()).saturating_sub(1).max(start);
        let (first_line, _) = self.lines.line_of(start);
        let (last_line, _) = self.lines.line_of(last_byte);
        let from_line = first_line.saturating_sub(context_lines_before);
        let to_line =
            (last_line + context_lines_after).min(self.lines.line_count().saturating_sub(1));
        // With no lines of context, the contents start at the span itself, as miette's own
        // sources do; the column then says where.
        let (from, line, column) = if context_lines_before == 0 {
            let column = self.lines.line_col(&self.text, start).column as usize - 1;
            (start, first_line, column)
        } else {
            let from = self.lines.line_range(from_line).map_or(0, |(s, _)| s);
            (from, from_line, 0)
        };
        let to = self
            .lines
            .line_range(to_line)
            .map_or(self.text.len(), |(_, end)| end)
            .max(from);
        let data = self
            .text
            .as_bytes()
            .get(from..to)
            .ok_or(MietteError::OutOfBounds)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            data,
            (from, to - from).into(),
            line,
            column,
            to_line,
        )))
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)?;
        match &self.location {
            Some(at) => write!(f, "\n  at {at} (the line is too long to show)"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code.as_str()))
    }

    fn severity(&self) -> Option<Severity> {
        Some(match self.diagnostic.severity {
            diagnostic::Severity::Error => Severity::Error,
            diagnostic::Severity::Warning => Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source?;
        let label = |text: &str| (!text.is_empty()).then(|| text.to_string());
        let d = self.diagnostic;
        let primary = LabeledSpan::new_primary_with_span(label(&d.primary.message), d.primary.span);
        let secondary = d
            .secondary
            .iter()
            .map(move |l| LabeledSpan::new_with_span(label(&l.message), l.span));
        Some(Box::new(std::iter::once(primary).chain(secondary)))
    }
}

/// Renders one diagnostic against the text of its file (`path` as it should be shown).
pub fn render(d: &Diagnostic, path: &str, text: &str, color: bool) -> String {
    render_in(d, &Source::new(path, text), color)
}

/// Renders one diagnostic against its file, already indexed.
pub fn render_in(d: &Diagnostic, source: &Source, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let spans = std::iter::once(&d.primary).chain(&d.secondary);
    let shown = spans
        .into_iter()
        .all(|l| source.shows(l.span.start as usize, l.span.end as usize));
    let report = Report {
        diagnostic: d,
        source: shown.then_some(source),
        location: (!shown).then(|| source.location(d.primary.span.start as usize)),
    };
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        out = format!(
            "{}: {} [{}]\n",
            source.location(d.primary.span.start as usize),
            d.message,
            d.code
        );
    }
    out
}

/// The order diagnostics are shown in: errors first, each kind by file and position.
pub fn in_order(diagnostics: &[Diagnostic]) -> Vec<&Diagnostic> {
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by_key(|d| (!d.is_error(), d.file.clone(), d.primary.span.start));
    sorted
}

/// Renders diagnostics of any files, errors first in file order, then warnings; `text_of`
/// gives a file's text, and each file is indexed once however many diagnostics it has.
pub fn render_all(
    diagnostics: &[Diagnostic],
    text_of: impl Fn(&str) -> String,
    color: bool,
) -> String {
    let mut sources: HashMap<&str, Source> = HashMap::new();
    let mut out = String::new();
    for d in in_order(diagnostics) {
        let source = sources
            .entry(&d.file)
            .or_insert_with(|| Source::new(&d.file, &text_of(&d.file)));
        out.push_str(&render_in(d, source, color));
    }
    out
}

/// Whether to color output on standard error: a terminal, and `NO_COLOR` unset.
pub fn color_stderr() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// "1 rule", "2 rules".
pub fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// "2 errors and 1 warning".
pub fn count(errors: usize, warnings: usize) -> String {
    match (errors, warnings) {
        (0, 0) => "no problems".to_string(),
        (e, 0) => plural(e, "error"),
        (0, w) => plural(w, "warning"),
        (e, w) => format!("{} and {}", plural(e, "error"), plural(w, "warning")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offer_compiler::diagnostic::Code;
    use offer_compiler::span::Span;

    #[test]
    fn the_header_counts_columns_in_characters() {
        let text = "let a = 1\nlet é = \"☕\" + x\n";
        let start = text.find('x').unwrap_or_default();
        let d = Diagnostic::error(
            Code::UnknownName,
            "f.offer",
            Span::new(start, start + 1),
            "no `x`",
        );
        let shown = render(&d, "f.offer", text, false);
        assert!(shown.contains("[f.offer:2:15]"), "{shown}");
    }

    #[test]
    fn a_line_too_long_to_show_is_named_not_drawn() {
        // miette cannot draw a column past 65,535; such a line must not be drawn at all.
        let text = format!("let x = {}y\n", " ".repeat(70_000));
        let at = text.find('y').unwrap_or_default();
        let d = Diagnostic::error(
            Code::UnknownName,
            "w.offer",
            Span::new(at, at + 1),
            "unknown name `y`",
        );
        let shown = render(&d, "w.offer", &text, false);
        assert!(
            shown.contains("at w.offer:1:70009 (the line is too long to show)"),
            "{shown}"
        );
        assert!(shown.len() < 1_000, "the line itself is not printed");
    }

    #[test]
    fn lone_carriage_returns_end_lines() {
        let text = "schema {\r  event e { a: mony }\r}\r";
        let at = text.find("mony").unwrap_or_default();
        let d = Diagnostic::error(
            Code::UnknownType,
            "cr.offer",
            Span::new(at, at + 4),
            "unknown type `mony`",
        );
        let shown = render(&d, "cr.offer", text, false);
        assert!(shown.contains("[cr.offer:2:16]"), "{shown}");
        assert!(shown.contains(" 2 │   event e { a: mony }"), "{shown}");
    }
}
