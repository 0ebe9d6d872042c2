//! Shared helpers for the end-to-end tests: where the corpus lives, checking a case file the way
//! the CLI does, and replaying a run case.

use offer_compiler::db::{self, Database};
use std::path::{Path, PathBuf};

/// `tests/cases`.
pub fn case_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `../shared` beside the repository, when this clone has it (CI does; a clone elsewhere may not).
pub fn shared_dir() -> Option<PathBuf> {
    let dir = repo_root().join("../shared");
    dir.is_dir().then_some(dir)
}

/// Checks the case at `path` (shown as `relative`), with its imports read beside it; returns
/// the diagnostic codes and the diagnostics rendered without color.
pub fn render_checked(path: &Path, relative: &str, text: &str) -> (Vec<String>, String) {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let base = Path::new(relative)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut db = Database::new();
    let program = db.program(relative, text, &mut |p| {
        let rel = Path::new(p).strip_prefix(&base).ok()?.to_path_buf();
        std::fs::read_to_string(dir.join(rel)).ok()
    });
    let checked = db::checked(&db, program);
    let mut diags: Vec<_> = checked.diagnostics.iter().collect();
    diags.sort_by_key(|d| (!d.is_error(), d.file.clone(), d.primary.span.start));
    let codes = diags.iter().map(|d| d.code.to_string()).collect();
    let rendered = diags
        .iter()
        .map(|d| {
            let text = db
                .file(&d.file)
                .map(|f| f.text(&db).clone())
                .unwrap_or_default();
            offer_cli::render::render(d, &d.file, &text, false)
        })
        .collect();
    (codes, rendered)
}

/// What replaying a run case produced.
pub struct RunReport {
    pub errors: u64,
    /// Decisions, error lines and the summary, without timings.
    pub text: String,
}

/// Replays `NAME.ndjson` beside the case `NAME.offer`.
pub fn replay_case(_path: &Path) -> Result<RunReport, String> {
    Err("replay is not wired yet".into())
}
