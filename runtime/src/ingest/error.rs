//! The error of one bad line, and the small helpers that keep every message in one style.

use std::fmt;

/// One rejected line (or, from [`super::EventReader::new`], a fatal header problem).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestError {
    /// 1-based physical line of the file.
    pub line: u64,
    /// The field (or column) at fault, as a path such as `address.city` or `items[2]`.
    pub field: Option<String>,
    pub message: String,
    /// The file cannot be read any further (an I/O error), as opposed to one bad line.
    pub fatal: bool,
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}, field `{field}`: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

impl std::error::Error for IngestError {}

/// An error before its line is known: conversions do not know which line they serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub field: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn new(field: Option<&str>, message: impl Into<String>) -> Problem {
        Problem {
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    pub fn at(self, line: u64) -> IngestError {
        IngestError {
            line,
            field: self.field,
            message: self.message,
            fatal: false,
        }
    }
}

/// Longer user text is cut so that one bad cell cannot flood a terminal.
const SHOWN_CHARS: usize = 60;

/// User text in backticks, shortened, with control characters escaped so that the message
/// stays on one line.
pub(crate) fn shown(text: &str) -> String {
    let mut out = String::from("`");
    for (i, c) in text.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('`');
    out
}

/// "`a`, `b`, `c`".
pub(crate) fn list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The most similar candidate, if any is similar enough to be a likely typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let score = strsim::jaro_winkler(word, candidate);
        if score >= 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// "unknown field `amout`; did you mean `amount`?", or the list of what exists.
pub(crate) fn unknown(what: &str, word: &str, candidates: &[&str], known: &str) -> String {
    match closest(word, candidates.iter().copied()) {
        Some(c) => format!("unknown {what} {}; did you mean `{c}`?", shown(word)),
        None if candidates.is_empty() => {
            format!("unknown {what} {}; there are no {known}", shown(word))
        }
        None => format!(
            "unknown {what} {}; the {known} are {}",
            shown(word),
            list(candidates.iter().copied())
        ),
    }
}
