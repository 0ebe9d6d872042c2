//! The incremental front end: a salsa database whose inputs are file texts and the list of a
//! program's modules, with one tracked function per stage. The CLI runs it once; the language
//! server keeps it and re-runs only what an edit touched.
//!
//! The database reads no files: [`Database::program`] asks a loader the caller provides for the
//! text of each imported file.

use crate::bundle::{Bundle, SourceEntry};
use crate::check::{self, Checked, Module};
use crate::stdlib;
use crate::syntax::ast::Item;
use crate::syntax::parse::{self, ParsedFile};
use salsa::Setter;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub path: String,
    #[returns(ref)]
    pub text: String,
}

/// One module of a program: its import name, whether it is the standard library's, its file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ModuleInput {
    pub name: String,
    pub stdlib: bool,
    pub file: SourceFile,
}

/// A program: its root file, then every module it imports (transitively), the prelude first.
#[salsa::input(debug)]
pub struct ProgramInput {
    #[returns(ref)]
    pub modules: Vec<ModuleInput>,
}

#[salsa::tracked(returns(ref))]
pub fn parsed(db: &dyn salsa::Database, file: SourceFile) -> ParsedFile {
    parse::parse_file(file.path(db), file.text(db))
}

#[salsa::tracked(returns(ref))]
pub fn checked(db: &dyn salsa::Database, program: ProgramInput) -> Checked {
    let inputs = program.modules(db);
    let files: Vec<(&ModuleInput, &ParsedFile)> =
        inputs.iter().map(|m| (m, parsed(db, m.file))).collect();
    let modules: Vec<Module<'_>> = files
        .iter()
        .map(|(m, p)| Module {
            name: &m.name,
            file: m.file.path(db),
            stdlib: m.stdlib,
            parsed: p,
        })
        .collect();
    check::check_program(&modules)
}

/// The bundle of a program that checked without errors.
pub fn bundle(db: &dyn salsa::Database, program: ProgramInput) -> Option<Bundle> {
    let checked = checked(db, program);
    if checked.has_errors() {
        return None;
    }
    let files = program
        .modules(db)
        .iter()
        .map(|m| SourceEntry {
            path: m.file.path(db).clone(),
            text: m.file.text(db).clone(),
        })
        .collect();
    Some(Bundle::new(checked.program.clone(), files))
}

#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
    files: HashMap<String, SourceFile>,
    programs: HashMap<String, ProgramInput>,
}

#[salsa::db]
impl salsa::Database for Database {}

/// The names of the queries that ran, in order, for tests that check what an edit re-ran.
pub type QueryLog = Arc<Mutex<Vec<String>>>;

impl Database {
    pub fn new() -> Database {
        Database::default()
    }

    /// A database that records every query it executes.
    pub fn with_log() -> (Database, QueryLog) {
        let log: QueryLog = Arc::default();
        let sink = log.clone();
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind
                && let Ok(mut entries) = sink.lock()
            {
                entries.push(format!("{database_key:?}"));
            }
        })));
        (
            Database {
                storage,
                ..Database::default()
            },
            log,
        )
    }

    /// The input for `path`, created or given new text (unchanged text keeps every result).
    pub fn set_file(&mut self, path: &str, text: &str) -> SourceFile {
        match self.files.get(path).copied() {
            Some(file) => {
                if file.text(self) != text {
                    file.set_text(self).to(text.to_string());
                }
                file
            }
            None => {
                let file = SourceFile::new(self, path.to_string(), text.to_string());
                self.files.insert(path.to_string(), file);
                file
            }
        }
    }

    pub fn file(&self, path: &str) -> Option<SourceFile> {
        self.files.get(path).copied()
    }

    /// The program rooted at `root` with its imports resolved: the standard library from the
    /// binary, the user's modules through `load` (which gets a path such as
    /// `examples/winback/promos.offer` and returns the text, or `None` if there is no such file).
    /// A module that cannot be loaded is left out; checking reports the import.
    pub fn program(
        &mut self,
        root: &str,
        root_text: &str,
        load: &mut dyn FnMut(&str) -> Option<String>,
    ) -> ProgramInput {
        let mut modules: Vec<ModuleInput> = Vec::new();
        let add_std = |db: &mut Database, modules: &mut Vec<ModuleInput>, m: &stdlib::StdModule| {
            let file = db.set_file(m.file, m.text);
            modules.push(ModuleInput {
                name: m.name.to_string(),
                stdlib: true,
                file,
            });
            file
        };
        if let Some(prelude) = stdlib::module(stdlib::PRELUDE) {
            add_std(self, &mut modules, prelude);
        }
        let root_file = self.set_file(root, root_text);
        modules.push(ModuleInput {
            name: module_stem(root),
            stdlib: false,
            file: root_file,
        });
        let mut queue = vec![root_file];
        while let Some(file) = queue.pop() {
            let importer = file.path(self).clone();
            let imports: Vec<String> = parsed(self, file)
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Import(imp) => Some(
                        imp.path
                            .iter()
                            .map(|p| p.name.as_str())
                            .collect::<Vec<_>>()
                            .join("."),
                    ),
                    _ => None,
                })
                .collect();
            for name in imports {
                if modules.iter().any(|m| m.name == name) {
                    continue;
                }
                if let Some(m) = stdlib::module(&name) {
                    let f = add_std(self, &mut modules, m);
                    queue.push(f);
                    continue;
                }
                if name.starts_with("std.") {
                    continue;
                }
                let path = import_path(&importer, &name);
                if let Some(text) = load(&path) {
                    let f = self.set_file(&path, &text);
                    modules.push(ModuleInput {
                        name,
                        stdlib: false,
                        file: f,
                    });
                    queue.push(f);
                }
            }
        }
        match self.programs.get(root).copied() {
            Some(p) => {
                if p.modules(self) != &modules {
                    p.set_modules(self).to(modules);
                }
                p
            }
            None => {
                let p = ProgramInput::new(self, modules);
                self.programs.insert(root.to_string(), p);
                p
            }
        }
    }

    /// Checks one stand-alone expression with the standard library's constants in scope: the
    /// one path of `offer eval` and the CEL conformance runner.
    pub fn check_expression(
        &mut self,
        file: &str,
        expr: &crate::syntax::ast::Expr,
        options: crate::check::ExprOptions,
    ) -> (crate::ir::Expr, Vec<crate::diagnostic::Diagnostic>) {
        let inputs = self.stdlib_inputs();
        let files: Vec<_> = inputs.iter().map(|m| (m, parsed(self, m.file))).collect();
        let modules: Vec<crate::check::Module<'_>> = files
            .iter()
            .map(|(m, p)| crate::check::Module {
                name: &m.name,
                file: m.file.path(self),
                stdlib: true,
                parsed: p,
            })
            .collect();
        crate::check::check_expression(file, &modules, expr, options)
    }

    /// The standard library modules as a list of checked-ready modules, for `offer eval`.
    pub fn stdlib_inputs(&mut self) -> Vec<ModuleInput> {
        stdlib::MODULES
            .iter()
            .map(|m| ModuleInput {
                name: m.name.to_string(),
                stdlib: true,
                file: self.set_file(m.file, m.text),
            })
            .collect()
    }
}

/// The file an import names: `import promos.summer` in `dir/main.offer` is `dir/promos/summer.offer`.
pub fn import_path(importer: &str, name: &str) -> String {
    let relative = format!("{}.offer", name.replace('.', "/"));
    match importer.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{relative}"),
        None => relative,
    }
}

fn module_stem(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.strip_suffix(".offer").unwrap_or(file).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const MAIN: &str = r#"
import promos
schema { profile customer key id { id: string } event purchase { amount: double } }
rule r { when purchase where amount > 10.0 then recommend Promo }
"#;
    const PROMOS: &str = r#"offer Promo { title: "p" }"#;

    fn loader(path: &str) -> Option<String> {
        (path == "dir/promos.offer").then(|| PROMOS.to_string())
    }

    #[test]
    fn imports_are_loaded_through_the_loader() {
        let mut db = Database::new();
        let program = db.program("dir/main.offer", MAIN, &mut loader);
        let checked = checked(&db, program);
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        assert_eq!(checked.program.offers.len(), 1);
        assert_eq!(import_path("a/b/c.offer", "x.y"), "a/b/x/y.offer");
    }

    /// An item that does not parse is left out of the tree; its syntax error must still stop
    /// the program, or `offer check` said `ok` and `offer compile` wrote a bundle without it.
    #[test]
    fn syntax_errors_are_errors_of_the_program() {
        let mut db = Database::new();
        let src = "offer A { title: }\noffer B { title: \"b\" }\n";
        let program = db.program("dir/main.offer", src, &mut loader);
        let result = checked(&db, program);
        assert!(result.has_errors(), "{:?}", result.diagnostics);
        assert_eq!(result.diagnostics[0].code, crate::diagnostic::Code::Syntax);
        assert!(bundle(&db, program).is_none());

        let broken_import = "offer P { title: \"p\" \n";
        let mut db = Database::new();
        let program = db.program("dir/main.offer", "import promos\n", &mut |p| {
            (p == "dir/promos.offer").then(|| broken_import.to_string())
        });
        let imported = checked(&db, program);
        assert!(
            imported
                .diagnostics
                .iter()
                .any(|d| d.is_error() && d.file == "dir/promos.offer"),
            "{:?}",
            imported.diagnostics
        );
    }

    #[test]
    fn an_edit_reparses_only_its_file() {
        let (mut db, log) = Database::with_log();
        let program = db.program("dir/main.offer", MAIN, &mut loader);
        checked(&db, program);
        log.lock().unwrap().clear();

        let edited = MAIN.replace("10.0", "20.0");
        let program = db.program("dir/main.offer", &edited, &mut loader);
        checked(&db, program);
        let ran = log.lock().unwrap().clone();
        let parses: Vec<&String> = ran.iter().filter(|q| q.starts_with("parsed")).collect();
        assert_eq!(parses.len(), 1, "only main.offer is parsed again: {ran:?}");
        assert!(ran.iter().any(|q| q.starts_with("checked")), "{ran:?}");

        log.lock().unwrap().clear();
        let program = db.program("dir/main.offer", &edited, &mut loader);
        checked(&db, program);
        assert!(
            log.lock().unwrap().is_empty(),
            "nothing changed, nothing runs"
        );
    }
}
