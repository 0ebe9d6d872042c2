//! Reads a program's files into the compiler's database: the root file and, on the compiler's
//! request, every file it imports. This and the other commands own all file IO; the compiler
//! reads nothing itself.

use offer_compiler::check::Checked;
use offer_compiler::db::{self, Database, ProgramInput};
use offer_compiler::diagnostic::Diagnostic;
use std::path::Path;

/// A program read from disk and checked.
pub struct Loaded {
    pub db: Database,
    pub program: ProgramInput,
}

impl Loaded {
    /// Reads `path` and what it imports. An unreadable root is an error message; unreadable
    /// imports become diagnostics of the import.
    pub fn read(path: &Path) -> Result<Loaded, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let mut db = Database::new();
        let root = path.to_string_lossy().replace('\\', "/");
        let program = db.program(&root, &text, &mut |p| std::fs::read_to_string(p).ok());
        Ok(Loaded { db, program })
    }

    /// Reads a program as [`Loaded::read`] does and writes its diagnostics to `err`; an
    /// unreadable root is reported there too, as the exit code to return.
    pub fn read_reporting(
        path: &Path,
        color: bool,
        err: &mut dyn std::io::Write,
    ) -> Result<Loaded, u8> {
        let loaded = Loaded::read(path).map_err(|message| crate::commands::fail(err, &message))?;
        let _ = write!(err, "{}", loaded.render_diagnostics(color));
        Ok(loaded)
    }

    pub fn checked(&self) -> &Checked {
        db::checked(&self.db, self.program)
    }

    /// The text of the file a diagnostic points into.
    pub fn text_of(&self, d: &Diagnostic) -> String {
        self.db
            .file(&d.file)
            .map(|f| f.text(&self.db).clone())
            .unwrap_or_default()
    }

    /// Renders every diagnostic, errors first in file order, then warnings.
    pub fn render_diagnostics(&self, color: bool) -> String {
        let mut diags: Vec<&Diagnostic> = self.checked().diagnostics.iter().collect();
        diags.sort_by_key(|d| (!d.is_error(), d.file.clone(), d.primary.span.start));
        diags
            .iter()
            .map(|d| crate::render::render(d, &d.file, &self.text_of(d), color))
            .collect()
    }

    pub fn counts(&self) -> (usize, usize) {
        let diags = &self.checked().diagnostics;
        let errors = diags.iter().filter(|d| d.is_error()).count();
        (errors, diags.len() - errors)
    }
}
