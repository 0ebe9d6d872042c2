//! The data-driven corpus: every `cases/{parse,check,run}/{ok,err}/*.offer` file is one test.
//!
//! - `parse/ok`: parses without a diagnostic. `parse/err`: parsing reports one or more.
//! - `check/ok`: checks without an error. `check/err`: checking reports errors.
//! - `run/ok` and `run/err`: the program checks, and its events (`NAME.ndjson` beside it) are
//!   replayed; `err` cases must count errors (bad lines, failing rules).
//!
//! An `err` case names the codes it expects on its first line, `// expect: CODE, CODE`. Every
//! case but `parse/ok` has a snapshot in `snapshots/` showing the source next to the rendered
//! diagnostics (or the decisions and summary of a run). A snapshot without a case fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails loudly"
)]

use libtest_mimic::{Arguments, Failed, Trial};
use offer_tests::{case_root, offer_files, render_checked, replay_case};
use std::path::{Path, PathBuf};

fn main() {
    let args = Arguments::from_args();
    let root = case_root();
    let mut trials = Vec::new();
    let mut names = Vec::new();
    for stage in ["parse", "check", "run"] {
        for outcome in ["ok", "err"] {
            let mut paths = Vec::new();
            offer_files(&root.join(stage).join(outcome), false, &mut paths);
            for path in paths {
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_default();
                let name = format!("{stage}::{outcome}::{stem}");
                names.push(snapshot_name(stage, outcome, &stem));
                trials.push(Trial::test(name, move || {
                    run_case(stage, outcome == "ok", &path)
                }));
            }
        }
    }
    trials.push(Trial::test("snapshots::none_orphaned", move || {
        orphans(&names)
    }));
    libtest_mimic::run(&args, trials).exit();
}

fn snapshot_name(stage: &str, outcome: &str, stem: &str) -> String {
    format!("{stage}__{outcome}__{stem}")
}

fn snapshot_dir() -> PathBuf {
    case_root().join("../snapshots")
}

fn assert_snapshot(name: &str, content: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(snapshot_dir());
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name.to_string(), content));
}

/// The codes an `err` case promises on its first line.
fn expected_codes(text: &str) -> Vec<String> {
    text.lines()
        .next()
        .and_then(|l| l.trim().strip_prefix("// expect:"))
        .map(|codes| {
            codes
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn run_case(stage: &str, ok: bool, path: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let relative = path
        .strip_prefix(case_root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let outcome = if ok { "ok" } else { "err" };
    let expected = expected_codes(&text);
    if !ok && expected.is_empty() {
        return Err("an `err` case must start with `// expect: CODE`".into());
    }
    let (codes, rendered, report) = match stage {
        "parse" => {
            let parsed = offer_compiler::syntax::parse::parse_file(&relative, &text);
            let codes: Vec<String> = parsed
                .diagnostics
                .iter()
                .map(|d| d.code.to_string())
                .collect();
            let rendered: String = parsed
                .diagnostics
                .iter()
                .map(|d| offer_cli::render::render(d, &relative, &text, false))
                .collect();
            (codes, rendered, None)
        }
        "check" => {
            let (codes, rendered) = render_checked(path, &relative, &text);
            (codes, rendered, None)
        }
        _ => {
            let (codes, rendered) = render_checked(path, &relative, &text);
            if codes.iter().any(|c| !c.starts_with("offer::lint")) {
                return Err(format!("a run case must check without errors:\n{rendered}").into());
            }
            let report = replay_case(path)?;
            (codes, rendered, Some(report))
        }
    };
    if ok && stage != "run" && codes.iter().any(|c| !c.starts_with("offer::lint")) {
        return Err(format!("expected no errors, got:\n{rendered}").into());
    }
    if ok && stage == "parse" && !codes.is_empty() {
        return Err(format!("expected no diagnostics, got:\n{rendered}").into());
    }
    if !ok && stage != "run" {
        for code in &expected {
            if !codes.contains(code) {
                return Err(format!("expected `{code}`, got {codes:?}:\n{rendered}").into());
            }
        }
    }
    if let Some(report) = &report {
        if ok && report.errors > 0 {
            return Err(format!(
                "the replay counted {} errors:\n{}",
                report.errors, report.text
            )
            .into());
        }
        if !ok {
            if report.errors == 0 {
                return Err(format!("the replay counted no errors:\n{}", report.text).into());
            }
            for code in &expected {
                if !report.text.contains(code.as_str()) {
                    return Err(format!(
                        "expected `{code}` in the replay's report:\n{}",
                        report.text
                    )
                    .into());
                }
            }
        }
    }
    if stage == "parse" && ok {
        return Ok(());
    }
    let mut content = format!("--- {relative}\n{text}");
    if !content.ends_with('\n') {
        content.push('\n');
    }
    if !rendered.is_empty() {
        content.push_str("--- diagnostics\n");
        content.push_str(&rendered);
    }
    if let Some(report) = report {
        content.push_str("--- replay\n");
        content.push_str(&report.text);
    }
    assert_snapshot(&snapshot_name(stage, outcome, &stem), &content);
    Ok(())
}

fn orphans(names: &[String]) -> Result<(), Failed> {
    let dir = snapshot_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    let mut orphaned = Vec::new();
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().to_string();
        let Some(name) = file.strip_suffix(".snap") else {
            continue;
        };
        if !names.iter().any(|n| n == name) {
            orphaned.push(file);
        }
    }
    if orphaned.is_empty() {
        Ok(())
    } else {
        Err(format!("snapshots without a case in tests/cases (delete them): {orphaned:?}").into())
    }
}
