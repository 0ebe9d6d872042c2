//! The subcommands. Each writes its results to `out`, its messages and diagnostics to `err`,
//! and returns the process exit code: 0 success, 1 diagnostics or a failed run (usage errors,
//! code 2, are clap's).

pub mod check;
pub mod compile;
pub mod eval;
pub mod run;

use std::io::Write;

/// Exit code of a command that found problems or failed.
pub const FAILURE: u8 = 1;

/// Writes `error: {message}` to `err` and returns [`FAILURE`].
pub fn fail(err: &mut dyn Write, message: &str) -> u8 {
    let _ = writeln!(err, "error: {message}");
    FAILURE
}
