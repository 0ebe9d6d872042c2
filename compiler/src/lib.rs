//! The Offer compiler: text to a typed IR and a bundle. Pure: no files, clock or environment;
//! sources arrive as text with an id.

pub mod diagnostic;
pub mod schema;
pub mod span;
pub mod syntax;
pub mod types;
pub mod value;
