//! Shared helpers for the end-to-end tests: where the corpus lives, checking a case file the way
//! the CLI does, and replaying a run case.

use offer_compiler::db::{self, Database};
use offer_compiler::ir::Program;
use offer_runtime::engine::Engine;
use offer_runtime::ingest::EventReader;
use offer_runtime::replay::Replay;
use offer_runtime::tier::Tier;
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

/// The `.offer` files in `dir` (and below it, if `recursive`), in a stable order, appended to
/// `into`.
pub fn offer_files(dir: &Path, recursive: bool, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            if recursive {
                offer_files(&path, recursive, into);
            }
        } else if path.extension().is_some_and(|x| x == "offer") {
            into.push(path);
        }
    }
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
    let text_of = |file: &str| {
        db.file(file)
            .map(|f| f.text(&db).clone())
            .unwrap_or_default()
    };
    let rendered = offer_cli::render::render_all(&checked.diagnostics, text_of, false);
    let codes = offer_cli::render::in_order(&checked.diagnostics)
        .iter()
        .map(|d| d.code.to_string())
        .collect();
    (codes, rendered)
}

/// What replaying a run case produced.
pub struct RunReport {
    pub errors: u64,
    /// Decisions, error lines and the summary, without timings.
    pub text: String,
}

/// Replays `NAME.ndjson` beside the case `NAME.offer`: the decisions, the errors and the
/// summary, in the order they came. The case is replayed twice, in native code and in the
/// interpreter only, and the two must agree line for line.
pub fn replay_case(path: &Path) -> Result<RunReport, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let relative = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut db = Database::new();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let program = db.program(&relative, &text, &mut |p| {
        std::fs::read_to_string(dir.join(p)).ok()
    });
    let bundle = db::bundle(&db, program).ok_or("the program has errors")?;
    let events = path.with_extension("ndjson");
    let native = replay_file(bundle.program.clone(), &events, Tier::Native)?;
    let interpreted = replay_file(bundle.program, &events, Tier::Interpreter)?;
    if let Some((n, (a, b))) = native
        .text
        .lines()
        .zip(interpreted.text.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
    {
        return Err(format!(
            "native code and the interpreter disagree at line {}:\n  native:      {a}\n  interpreter: {b}",
            n + 1
        ));
    }
    if native.text != interpreted.text {
        return Err("native code and the interpreter give outputs of different lengths".into());
    }
    Ok(native)
}

/// Replays one NDJSON file through `program` in `tier`.
pub fn replay_file(program: Program, events: &Path, tier: Tier) -> Result<RunReport, String> {
    let file = std::fs::File::open(events)
        .map_err(|e| format!("cannot read {}: {e}", events.display()))?;
    let schema = std::sync::Arc::new(program.schema.clone());
    let reader = EventReader::ndjson(std::io::BufReader::new(file), schema);
    let mut engine = Engine::with_tier(program, tier);
    let program = engine.program().clone();
    let mut lines: Vec<String> = Vec::new();
    let log = std::cell::RefCell::new(&mut lines);
    let mut on_decision = |d: &offer_runtime::decision::Decision| {
        log.borrow_mut()
            .push(format!("decision {}", d.to_json(&program)));
        Ok(())
    };
    let mut on_error = |m: &str| log.borrow_mut().push(format!("error {m}"));
    let mut replay = Replay {
        engine: &mut engine,
        strict: false,
        on_decision: &mut on_decision,
        on_error: &mut on_error,
    };
    replay.run(reader).map_err(|e| e.to_string())?;
    let mut text = lines.join("\n");
    text.push('\n');
    text.push_str(&engine.stats.render(&program, None));
    Ok(RunReport {
        errors: engine.stats.errors(),
        text,
    })
}
