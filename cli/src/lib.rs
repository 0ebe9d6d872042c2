//! The `offer` command's library part: loading programs from files, rendering diagnostics, and
//! the commands themselves, so that tests can call them without a process.

pub mod commands;
pub mod load;
pub mod render;
