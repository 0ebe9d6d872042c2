//! Diagnostics as data: a stable code, a severity, labelled spans and a help line. Rendering
//! happens only at the edges (miette in the CLI, LSP diagnostics in `lsp`).

use crate::span::Span;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// Every diagnostic the compiler can emit. The string form is stable: tests, docs and editors
/// refer to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    Syntax,
    TooDeep,
    UnterminatedItem,
    StrayText,
    InvalidLiteral,
    UnknownImport,
    UnknownType,
    UnknownField,
    UnknownEvent,
    UnknownOffer,
    UnknownName,
    UnknownFunction,
    UnknownProperty,
    UnknownChannel,
    UnknownVariant,
    UnknownCapScope,
    Duplicate,
    TypeMismatch,
    NoOverload,
    WrongArity,
    NotConstant,
    MissingProperty,
    NoProfile,
    BadKey,
    BadPolicy,
    BadTemporal,
    ReservedField,
    BadOffer,
    ConstantFails,
    Cycle,
    BadRegex,
    UnusedOffer,
    AlwaysFalse,
    AlwaysFails,
    QuietHoursZone,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "offer::parse::syntax",
            Code::TooDeep => "offer::parse::too_deep",
            Code::UnterminatedItem => "offer::parse::unterminated_item",
            Code::StrayText => "offer::parse::stray_text",
            Code::InvalidLiteral => "offer::parse::invalid_literal",
            Code::UnknownImport => "offer::resolve::unknown_import",
            Code::UnknownType => "offer::check::unknown_type",
            Code::UnknownField => "offer::check::unknown_field",
            Code::UnknownEvent => "offer::check::unknown_event",
            Code::UnknownOffer => "offer::check::unknown_offer",
            Code::UnknownName => "offer::check::unknown_name",
            Code::UnknownFunction => "offer::check::unknown_function",
            Code::UnknownProperty => "offer::check::unknown_property",
            Code::UnknownChannel => "offer::check::unknown_channel",
            Code::UnknownVariant => "offer::check::unknown_variant",
            Code::UnknownCapScope => "offer::check::unknown_cap_scope",
            Code::Duplicate => "offer::check::duplicate",
            Code::TypeMismatch => "offer::check::type_mismatch",
            Code::NoOverload => "offer::check::no_overload",
            Code::WrongArity => "offer::check::wrong_arity",
            Code::NotConstant => "offer::check::not_constant",
            Code::MissingProperty => "offer::check::missing_property",
            Code::NoProfile => "offer::check::no_profile",
            Code::BadKey => "offer::check::bad_key",
            Code::BadPolicy => "offer::check::bad_policy",
            Code::BadTemporal => "offer::check::bad_temporal",
            Code::ReservedField => "offer::check::reserved_field",
            Code::BadOffer => "offer::check::bad_offer",
            Code::ConstantFails => "offer::check::constant_fails",
            Code::Cycle => "offer::check::cycle",
            Code::BadRegex => "offer::check::bad_regex",
            Code::UnusedOffer => "offer::lint::unused_offer",
            Code::AlwaysFalse => "offer::lint::always_false",
            Code::AlwaysFails => "offer::lint::always_fails",
            Code::QuietHoursZone => "offer::lint::quiet_hours_zone",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding in one file. `file` is the id the source arrived with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub file: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, file: &str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            file: file.to_string(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: Code, file: &str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, file, span, message)
        }
    }

    pub fn with_label(mut self, text: impl Into<String>) -> Diagnostic {
        self.primary.message = text.into();
        self
    }

    pub fn with_secondary(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: text.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// "did you mean `x`?" for the closest candidate, if one is close enough to be a likely typo.
/// Of equally close candidates the first in alphabetical order wins, so that the suggestion
/// does not depend on the order of the candidates (often a hash map's).
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate [`did_you_mean`] would suggest.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for cand in candidates {
        let score = strsim::jaro_winkler(&name.to_lowercase(), &cand.to_lowercase());
        let close =
            score >= 0.8 || strsim::damerau_levenshtein(name, cand) <= name.len().max(3) / 3;
        let better = |(b, b_cand): (f64, &str)| {
            score.total_cmp(&b).then_with(|| b_cand.cmp(cand)) == std::cmp::Ordering::Greater
        };
        if close && best.is_none_or(better) {
            best = Some((score, cand));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equally_near_names_do_not_depend_on_their_order() {
        let names = ["c", "a", "b"];
        assert_eq!(
            did_you_mean("x", names).as_deref(),
            Some("did you mean `a`?")
        );
        assert_eq!(
            did_you_mean("x", names.iter().rev().copied()).as_deref(),
            Some("did you mean `a`?")
        );
    }

    #[test]
    fn suggests_near_names_only() {
        let fields = ["data_left_mb", "plan", "balance"];
        assert_eq!(
            did_you_mean("data_left_md", fields).as_deref(),
            Some("did you mean `data_left_mb`?")
        );
        assert_eq!(
            did_you_mean("plam", fields).as_deref(),
            Some("did you mean `plan`?")
        );
        assert_eq!(did_you_mean("zzzzzz", fields), None);
    }
}
