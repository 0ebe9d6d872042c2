//! Syntax: splitting a file into items, parsing each with pest, the syntax tree, literals.

pub mod ast;
pub mod items;
pub mod literal;
pub mod parse;
