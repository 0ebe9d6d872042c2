//! Name resolution and type checking of a whole program (the root file, the files it imports and
//! the standard library), producing the IR and every diagnostic in one pass. Items are checked
//! independently: a broken one gets its diagnostics and is left out, the others go on.

mod expr;
mod functions;
mod items;
pub mod schema;
pub(crate) mod signature;

pub use expr::{DeclaredFunction, DeclaredOverload, ExprOptions, Scope, check_expression};

use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::ir::{self, OfferId, Series, SeriesId};
use crate::schema::Schema;
use crate::syntax::ast::{Item, LetDecl};
use crate::syntax::parse::ParsedFile;
use crate::types::{RecordId, Ty};
use crate::value::{Nanos, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

/// One file of a program, parsed.
#[derive(Clone, Copy, Debug)]
pub struct Module<'a> {
    /// The name imports use: `std.telco` for the standard library, the file's stem (or its path
    /// with dots, `promos.summer`) for the user's files.
    pub name: &'a str,
    /// The id diagnostics carry (a path for the user's files).
    pub file: &'a str,
    pub stdlib: bool,
    pub parsed: &'a ParsedFile,
}

/// The result of checking a program: the IR of everything that checked, and the diagnostics.
/// The program is only fit to run when no diagnostic is an error.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checked {
    pub program: ir::Program,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

pub fn check_program(modules: &[Module<'_>]) -> Checked {
    let mut ctx = Ctx::new(modules);
    // An item that did not parse is left out of the tree, so its syntax errors must be the
    // program's: without them a file with a broken item would check, and compile, without it.
    for m in modules {
        ctx.diagnostics.extend(m.parsed.diagnostics.iter().cloned());
    }
    let mut program = items::check_items(&mut ctx);
    program.schema = std::mem::take(&mut ctx.schema);
    program.state.series = std::mem::take(&mut ctx.plan.series);
    program.state.latest = ctx.plan.latest.iter().copied().collect();
    program.state.profile = ctx.plan.profile || !program.policy.quiet_hours.is_empty();
    program.state.contact_window = program.policy.caps.iter().map(|c| c.window).max();
    Checked {
        program,
        diagnostics: ctx.diagnostics,
    }
}

/// What checking knows while it goes: the files, the schema, the global names, the state plan
/// being derived, and the diagnostics so far.
pub(crate) struct Ctx<'a> {
    modules: &'a [Module<'a>],
    /// What items that did not parse would have declared.
    pub broken: Broken,
    pub diagnostics: Vec<Diagnostic>,
    pub schema: Schema,
    pub channels: Vec<String>,
    pub offers: HashMap<String, OfferId>,
    constants: HashMap<String, Constant<'a>>,
    pub plan: PlanBuilder,
    /// How the checker behaves (its bindings aside); programs are checked with the defaults,
    /// stand-alone expressions as their caller asks.
    pub mode: ExprOptions,
}

enum Constant<'a> {
    Pending { file: usize, decl: &'a LetDecl },
    InProgress,
    Done(Option<(Value, Ty)>),
}

/// The declarations lost with the items that did not parse. Their syntax errors are reported;
/// the uses of what they declared are not, so that one missing `}` is one error.
#[derive(Default)]
pub(crate) struct Broken {
    /// A `schema` item is broken: any event, field or name may have been declared there.
    pub schema: bool,
    /// A `rule` item is broken: any offer may have been recommended there.
    pub rules: bool,
    pub offers: HashSet<String>,
    pub constants: HashSet<String>,
    pub channels: HashSet<String>,
}

impl Broken {
    fn of(modules: &[Module<'_>]) -> Broken {
        let mut broken = Broken::default();
        for item in modules.iter().flat_map(|m| &m.parsed.broken) {
            let name = item.name.clone().unwrap_or_default();
            match item.keyword.as_str() {
                "schema" => broken.schema = true,
                "rule" => broken.rules = true,
                "offer" => {
                    broken.offers.insert(name);
                }
                "let" => {
                    broken.constants.insert(name);
                }
                "channel" => {
                    broken.channels.insert(name);
                }
                _ => {}
            }
        }
        broken
    }
}

#[derive(Default)]
pub(crate) struct PlanBuilder {
    pub series: Vec<Series>,
    pub latest: BTreeSet<RecordId>,
    pub profile: bool,
}

impl PlanBuilder {
    /// The series for `(event, filter, field)`, shared by every aggregate over it; windowed and
    /// whole-history aggregates keep different state, so they get different series.
    pub fn series(&mut self, candidate: Series, window: Option<Nanos>) -> SeriesId {
        let windowed = window.is_some();
        let found = self.series.iter().position(|s| {
            s.event == candidate.event
                && s.filter == candidate.filter
                && s.field == candidate.field
                && s.retention.is_some() == windowed
        });
        match found {
            Some(i) => {
                if let (Some(s), Some(w)) = (self.series.get_mut(i), window) {
                    s.retention = s.retention.max(Some(w));
                }
                i as SeriesId
            }
            None => {
                self.series.push(Series {
                    retention: window,
                    ..candidate
                });
                (self.series.len() - 1) as SeriesId
            }
        }
    }
}

impl<'a> Ctx<'a> {
    fn new(modules: &'a [Module<'a>]) -> Ctx<'a> {
        Ctx {
            modules,
            broken: Broken::of(modules),
            diagnostics: Vec::new(),
            schema: Schema::default(),
            channels: Vec::new(),
            offers: HashMap::new(),
            constants: HashMap::new(),
            plan: PlanBuilder::default(),
            mode: ExprOptions::default(),
        }
    }

    pub fn file_name(&self, file: usize) -> &'a str {
        self.modules.get(file).map_or("<unknown>", |m| m.file)
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    pub fn modules(&self) -> &'a [Module<'a>] {
        self.modules
    }

    /// Every item of every file, with the index of its file.
    pub fn items(&self) -> impl Iterator<Item = (usize, &'a Item)> + 'a {
        self.modules
            .iter()
            .enumerate()
            .flat_map(|(i, m)| m.parsed.items.iter().map(move |it| (i, it)))
    }

    /// Registers a `let`: user constants by their name, standard-library ones by their
    /// qualified name (`std.telco.roaming_partners`).
    pub fn declare_constant(&mut self, file: usize, decl: &'a LetDecl) {
        let key = self.constant_key(file, &decl.name.name);
        if self.constants.contains_key(&key) {
            let d = Diagnostic::error(
                Code::Duplicate,
                self.file_name(file),
                decl.name.span,
                format!("`{}` is declared twice", decl.name.name),
            );
            self.push(d);
            return;
        }
        self.constants.insert(key, Constant::Pending { file, decl });
    }

    fn constant_key(&self, file: usize, name: &str) -> String {
        match self.modules.get(file) {
            Some(m) if m.stdlib => format!("{}.{name}", m.name),
            _ => name.to_string(),
        }
    }

    pub fn has_constant(&self, name: &str) -> bool {
        self.constants.contains_key(name)
    }

    pub fn constant_names(&self) -> Vec<String> {
        self.constants.keys().cloned().collect()
    }

    /// The value of a constant, checking it on first use. `None` when it failed to check (its
    /// own diagnostics say why) or refers to itself.
    pub fn constant(
        &mut self,
        name: &str,
        use_file: usize,
        use_span: crate::span::Span,
    ) -> Option<(Value, Ty)> {
        match self.constants.get(name) {
            Some(Constant::Done(v)) => v.clone(),
            Some(Constant::InProgress) => {
                let d = Diagnostic::error(
                    Code::Cycle,
                    self.file_name(use_file),
                    use_span,
                    format!("`{name}` is defined in terms of itself"),
                );
                self.push(d);
                None
            }
            Some(Constant::Pending { file, decl }) => {
                let (file, decl) = (*file, *decl);
                self.constants
                    .insert(name.to_string(), Constant::InProgress);
                let result = items::check_constant(self, file, decl);
                self.constants
                    .insert(name.to_string(), Constant::Done(result.clone()));
                result
            }
            None => None,
        }
    }

    /// Checks every constant not yet used, so that their errors show too.
    pub fn check_all_constants(&mut self) {
        let mut pending: Vec<String> = self
            .constants
            .iter()
            .filter(|(_, c)| matches!(c, Constant::Pending { .. }))
            .map(|(k, _)| k.clone())
            .collect();
        pending.sort();
        for name in pending {
            if let Some(Constant::Pending { file, decl }) = self.constants.get(&name) {
                let (file, span) = (*file, decl.name.span);
                self.constant(&name, file, span);
            }
        }
    }

    pub fn record_name(&self, id: RecordId) -> &str {
        self.schema.record(id).map_or("?", |r| r.name.as_str())
    }

    /// The event type (or profile) called `name`, with a diagnostic naming the near ones if none.
    pub fn expect_event(
        &mut self,
        file: usize,
        ident: &crate::syntax::ast::Ident,
    ) -> Option<RecordId> {
        if let Some((id, _)) = self.schema.record_by_name(&ident.name) {
            return Some(id);
        }
        if self.broken.schema {
            return None;
        }
        let names: Vec<String> = self
            .schema
            .event_types()
            .map(|(_, r)| r.name.clone())
            .collect();
        let mut d = Diagnostic::error(
            Code::UnknownEvent,
            self.file_name(file),
            ident.span,
            format!("unknown event type `{}`", ident.name),
        )
        .with_label("not declared in the schema");
        d.help = did_you_mean(&ident.name, names.iter().map(String::as_str)).or_else(|| {
            (!names.is_empty()).then(|| format!("the schema declares {}", list_names(&names)))
        });
        self.push(d);
        None
    }
}

/// `a`, `b` and `c`, in backticks, at most eight.
pub(crate) fn list_names(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(8).map(|n| format!("`{n}`")).collect();
    let more = if names.len() > 8 {
        format!(" and {} more", names.len() - 8)
    } else {
        String::new()
    };
    match shown.as_slice() {
        [] => String::new(),
        [one] => format!("{one}{more}"),
        [init @ .., last] if more.is_empty() => format!("{} and {last}", init.join(", ")),
        all => format!("{}{more}", all.join(", ")),
    }
}

#[cfg(test)]
mod tests;
