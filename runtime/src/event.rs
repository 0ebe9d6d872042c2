//! An event as the runtime processes it: its type, its customer, its time and its fields in
//! the schema's flat layout.

use offer_compiler::types::RecordId;
use offer_compiler::value::{Nanos, RecordValue};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The event type: a record of the schema (an event, or the profile).
    pub ty: RecordId,
    /// The customer's key.
    pub key: Arc<str>,
    /// Event time, nanoseconds since the Unix epoch.
    pub at: Nanos,
    /// `record.ty == ty`; `record.fields[slot]` is `None` for an absent (optional) field.
    pub record: Arc<RecordValue>,
    /// Where it came from, for messages: 1-based line of its source file.
    pub line: u64,
}
