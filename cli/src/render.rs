//! Diagnostics rendered for people with miette: the source line, labelled spans, the code and
//! the help, with `file:line:column` in the header.

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, Severity,
    SourceCode, SourceSpan, SpanContents,
};
use offer_compiler::diagnostic::{self, Diagnostic};
use offer_compiler::line_index::LineIndex;
use std::fmt;

/// A compiler diagnostic with the text it points into.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: Source,
}

/// A named file's text, whose positions miette shows (`file:line:column`) with the column in
/// characters, as [`LineIndex`] counts them, where miette on its own counts bytes.
struct Source {
    name: String,
    text: String,
    lines: LineIndex,
}

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        let start = contents.span().offset();
        let column = self.lines.line_col(&self.text, start).column as usize;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            column.saturating_sub(1),
            contents.line_count(),
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
        f.write_str(&self.diagnostic.message)
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
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
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
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let report = Report {
        diagnostic: d,
        source: Source {
            name: path.to_string(),
            text: text.to_string(),
            lines: LineIndex::new(text),
        },
    };
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        out = format!("{}: {} [{}]\n", path, d.message, d.code);
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
}
