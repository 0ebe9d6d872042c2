//! `offer run PROGRAM EVENTS...`: replays event files through a program. (Being written.)

use std::io::Write;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    pub program: std::path::PathBuf,
}

pub fn run(_args: &RunArgs, _color: bool, _out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    super::fail(err, "not yet")
}
