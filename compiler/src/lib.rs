//! The Offer compiler: text to a typed IR and a bundle. Pure: no files, clock or environment;
//! sources arrive as text with an id.

pub mod bundle;
pub mod check;
pub mod db;
pub mod diagnostic;
pub mod eval;
pub mod fold;
pub mod ir;
pub mod library;
pub mod line_index;
pub mod schema;
pub mod span;
pub mod stdlib;
pub mod syntax;
#[cfg(test)]
mod testing;
pub mod types;
pub mod value;
