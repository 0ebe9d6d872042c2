//! One NDJSON line as one event: the `type`, `key` and `at` envelope, then the fields by name.

use super::convert::{TIMESTAMP_EXAMPLE, fill_profile_key, record_from_json};
use super::error::{IngestError, Problem, shown, unknown};
use super::strict_json;
use crate::event::Event;
use offer_compiler::schema::Schema;
use offer_compiler::types::RecordId;
use offer_compiler::value::time;
use serde_json::Value as Json;
use std::sync::Arc;

/// Members that frame the event rather than being fields of it.
const ENVELOPE: [&str; 3] = ["type", "key", "at"];

pub(crate) fn parse_line(schema: &Schema, text: &str, line: u64) -> Result<Event, IngestError> {
    parse(schema, text, line).map_err(|p| p.at(line))
}

fn parse(schema: &Schema, text: &str, line: u64) -> Result<Event, Problem> {
    let json: Json = strict_json::from_str(text).map_err(|e| Problem::new(None, json_error(&e)))?;
    let Json::Object(members) = &json else {
        return Err(Problem::new(
            None,
            format!("expected a JSON object, found {}", shown(&json.to_string())),
        ));
    };
    let ty = event_type(schema, members.get("type"))?;
    let key = event_key(members.get("key"))?;
    let at = event_time(members.get("at"))?;
    let Some(def) = schema.record(ty) else {
        return Err(Problem::new(
            Some("type"),
            "the event type is not in the schema",
        ));
    };
    let mut record = record_from_json(schema, ty, members, None, &ENVELOPE, true)?;
    fill_profile_key(schema, def, &mut record.fields, &key)?;
    Ok(Event {
        ty,
        key: Arc::from(key),
        at,
        record: Arc::new(record),
        line,
    })
}

/// serde_json reports "... at line 1 column 7"; in a one-line document only the column says
/// anything.
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let reason = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(head, _)| head);
    format!("invalid JSON at column {}: {reason}", e.column())
}

/// Looks a type name up among the event types (the profile included, nested records not).
pub(crate) fn lookup_type(
    schema: &Schema,
    name: &str,
    field: Option<&str>,
) -> Result<RecordId, Problem> {
    match schema.record_by_name(name) {
        Some((id, _)) => Ok(id),
        None => {
            let names: Vec<&str> = schema.event_types().map(|(_, r)| r.name.as_str()).collect();
            Err(Problem::new(
                field,
                unknown("event type", name, &names, "event types"),
            ))
        }
    }
}

fn event_type(schema: &Schema, json: Option<&Json>) -> Result<RecordId, Problem> {
    match json {
        None | Some(Json::Null) => Err(Problem::new(Some("type"), "missing field `type`")),
        Some(Json::String(name)) => lookup_type(schema, name, Some("type")),
        Some(other) => Err(Problem::new(
            Some("type"),
            format!(
                "expected the name of an event type, found {}",
                shown(&other.to_string())
            ),
        )),
    }
}

fn event_key(json: Option<&Json>) -> Result<String, Problem> {
    let key = match json {
        None | Some(Json::Null) => return Err(Problem::new(Some("key"), "missing field `key`")),
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        Some(other) => {
            return Err(Problem::new(
                Some("key"),
                format!(
                    "expected a string or a whole number, found {}",
                    shown(&other.to_string())
                ),
            ));
        }
    };
    if key.is_empty() {
        return Err(Problem::new(Some("key"), "the key is empty"));
    }
    Ok(key)
}

fn event_time(json: Option<&Json>) -> Result<i128, Problem> {
    let bad = |found: &str| {
        Problem::new(
            Some("at"),
            format!("expected {TIMESTAMP_EXAMPLE}, found {}", shown(found)),
        )
    };
    match json {
        None | Some(Json::Null) => Err(Problem::new(Some("at"), "missing field `at`")),
        Some(Json::String(s)) => time::parse_timestamp(s).map_err(|_| bad(s)),
        Some(other) => Err(bad(&other.to_string())),
    }
}
