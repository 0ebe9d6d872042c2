//! Reads a program's files into the compiler's database: the root file and, on the compiler's
//! request, every file it imports. This and the other commands own all file IO; the compiler
//! reads nothing itself.

use crate::render::render_all;
use offer_compiler::check::Checked;
use offer_compiler::db::{self, Database, ProgramInput};
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
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        Loaded::from_bytes(path, bytes)
    }

    /// A program whose root file `path` was already read as `bytes`.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Loaded, String> {
        if offer_compiler::bundle::Bundle::looks_like(&bytes) {
            return Err(format!(
                "`{}` is a compiled bundle, not a program's source: run it with `offer run`",
                path.display()
            ));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            format!(
                "`{}` is not UTF-8 text (at byte {})",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
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
        Loaded::reporting(Loaded::read(path), color, err)
    }

    /// Writes the diagnostics of a loaded program to `err`, or why it could not be loaded.
    pub fn reporting(
        loaded: Result<Loaded, String>,
        color: bool,
        err: &mut dyn std::io::Write,
    ) -> Result<Loaded, u8> {
        let loaded = loaded.map_err(|message| crate::commands::fail(err, &message))?;
        let _ = write!(err, "{}", loaded.render_diagnostics(color));
        Ok(loaded)
    }

    pub fn checked(&self) -> &Checked {
        db::checked(&self.db, self.program)
    }

    /// Renders every diagnostic, errors first in file order, then warnings.
    pub fn render_diagnostics(&self, color: bool) -> String {
        let text_of = |file: &str| {
            self.db
                .file(file)
                .map(|f| f.text(&self.db).clone())
                .unwrap_or_default()
        };
        render_all(&self.checked().diagnostics, text_of, color)
    }

    pub fn counts(&self) -> (usize, usize) {
        let diags = &self.checked().diagnostics;
        let errors = diags.iter().filter(|d| d.is_error()).count();
        (errors, diags.len() - errors)
    }
}
