//! `offer check FILE`: type-checks a program and prints its diagnostics.

use super::FAILURE;
use crate::load::Loaded;
use crate::render;
use std::io::Write;
use std::path::Path;

pub fn check(
    file: &Path,
    deny_warnings: bool,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let loaded = match Loaded::read_reporting(file, color, err) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let (errors, warnings) = loaded.counts();
    let path = file.display();
    if errors > 0 || (deny_warnings && warnings > 0) {
        let _ = writeln!(
            err,
            "error: {} in `{path}`",
            render::count(errors, warnings)
        );
        return FAILURE;
    }
    let program = &loaded.checked().program;
    let events = program.schema.event_types().count();
    let mut line = format!(
        "ok: `{path}`: {}, {}, {}",
        render::plural(program.rules.len(), "rule"),
        render::plural(program.offers.len(), "offer"),
        render::plural(events, "event type")
    );
    if warnings > 0 {
        line.push_str(&format!(", {}", render::count(0, warnings)));
    }
    let _ = writeln!(out, "{line}");
    0
}
