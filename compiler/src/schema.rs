//! The resolved schema: records (profile, events, nested records) and enums, each with a flat
//! field layout. Field slots are positions in `RecordDef::fields`; the runtime stores an event or
//! a profile as a vector indexed by slot, so no field is looked up by name while events flow.

use crate::span::Span;
use crate::types::{EnumId, RecordId, Ty};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub records: Vec<RecordDef>,
    pub enums: Vec<EnumDef>,
    /// The profile record, keyed by `profile.key`; at most one per program.
    pub profile: Option<RecordId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordKind {
    Profile,
    Event,
    /// A record type nested inside a field.
    Nested,
    /// A record type the host declares for stand-alone expressions (`ExprOptions::records`):
    /// constructed with `Type{field: value}` and read, never an event.
    Host,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordDef {
    pub name: String,
    pub kind: RecordKind,
    pub fields: Vec<FieldDef>,
    /// For a profile: the slot of its key field.
    pub key: Option<u32>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDef {
    pub name: String,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumDef {
    /// Qualified by where it was declared, e.g. `subscriber.plan`.
    pub name: String,
    pub variants: Vec<String>,
}

impl Schema {
    pub fn record(&self, id: RecordId) -> Option<&RecordDef> {
        self.records.get(id as usize)
    }

    pub fn record_by_name(&self, name: &str) -> Option<(RecordId, &RecordDef)> {
        self.records
            .iter()
            .enumerate()
            .find(|(_, r)| r.kind != RecordKind::Nested && r.name == name)
            .map(|(i, r)| (i as RecordId, r))
    }

    pub fn enum_def(&self, id: EnumId) -> Option<&EnumDef> {
        self.enums.get(id as usize)
    }

    /// Event types in declaration order, the profile included: loading a profile is an event too.
    pub fn event_types(&self) -> impl Iterator<Item = (RecordId, &RecordDef)> {
        self.records
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.kind, RecordKind::Profile | RecordKind::Event))
            .map(|(i, r)| (i as RecordId, r))
    }

    /// The first `timezone` field of the profile: the customer's own time zone for quiet hours.
    pub fn profile_timezone_slot(&self) -> Option<u32> {
        let profile = self.record(self.profile?)?;
        profile
            .fields
            .iter()
            .position(|f| f.ty == Ty::Timezone || f.ty == Ty::optional(Ty::Timezone))
            .map(|i| i as u32)
    }
}

impl RecordDef {
    pub fn field(&self, name: &str) -> Option<(u32, &FieldDef)> {
        self.fields
            .iter()
            .enumerate()
            .find(|(_, f)| f.name == name)
            .map(|(i, f)| (i as u32, f))
    }
}
