//! `offer compile FILE [-o BUNDLE]`: checks a program and writes its bundle.

use super::{FAILURE, fail};
use crate::load::Loaded;
use crate::render;
use offer_compiler::bundle::Bundle;
use offer_compiler::db;
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn compile(
    file: &Path,
    output: Option<&Path>,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let loaded = match Loaded::read_reporting(file, color, err) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let (errors, warnings) = loaded.counts();
    let Some(bundle) = db::bundle(&loaded.db, loaded.program) else {
        let _ = writeln!(
            err,
            "error: {} in `{}`: no bundle written",
            render::count(errors, warnings),
            file.display()
        );
        return FAILURE;
    };
    let bytes = match bundle.to_bytes() {
        Ok(b) => b,
        Err(e) => return fail(err, &e.to_string()),
    };
    let target: PathBuf = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| file.with_extension("bundle"));
    // Write beside the target and rename, so that a crash never leaves half a bundle under the
    // target's name.
    let partial = target.with_extension("bundle.partial");
    if let Err(e) =
        std::fs::write(&partial, &bytes).and_then(|()| std::fs::rename(&partial, &target))
    {
        let _ = std::fs::remove_file(&partial);
        return fail(err, &format!("cannot write `{}`: {e}", target.display()));
    }
    let hash = Bundle::content_hash(&bytes).unwrap_or_default();
    let program = &bundle.program;
    let _ = writeln!(
        out,
        "wrote `{}`: {}, {}, {} bytes, content hash {}",
        target.display(),
        render::plural(program.rules.len(), "rule"),
        render::plural(program.offers.len(), "offer"),
        bytes.len(),
        hash.get(..16).unwrap_or(&hash)
    );
    0
}
