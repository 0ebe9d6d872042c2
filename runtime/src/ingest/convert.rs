//! Turns one JSON value or one text cell into a `Value` of a field's type, and a JSON object
//! into a record, with messages that say what was expected and what was found.

use super::error::{Problem, list, shown, unknown};
use base64::Engine;
use offer_compiler::schema::{RecordDef, RecordKind, Schema};
use offer_compiler::types::{EnumId, RecordId, Ty, TyDisplay};
use offer_compiler::value::{
    Currency, EnumValue, MapKey, MapValue, Money, Nanos, RecordValue, Value, time,
};
use serde_json::Value as Json;
use std::sync::Arc;

pub(crate) const TIMESTAMP_EXAMPLE: &str = "an RFC 3339 timestamp such as `2026-06-01T10:00:00Z`";

/// Exclusive bounds of the doubles that convert exactly to i64 / u64.
const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;
const U64_LIMIT: f64 = 18_446_744_073_709_551_616.0;

/// What a value of `ty` looks like, for "expected ..." messages.
fn expected(schema: &Schema, ty: &Ty) -> String {
    let text = match ty {
        Ty::Null => "`null`",
        Ty::Bool => "`true` or `false`",
        Ty::Int => "a whole number",
        Ty::Uint => "a non-negative whole number",
        Ty::Double => "a number",
        Ty::String => "a string",
        Ty::Bytes => "a base64 string",
        Ty::Timestamp => TIMESTAMP_EXAMPLE,
        Ty::Duration => "a duration such as `1h30m`",
        Ty::Money => "an amount with a currency such as `9.99 EUR`",
        Ty::Timezone => "a time zone such as `Europe/Helsinki`",
        Ty::Enum(id) => return enum_expected(schema, *id),
        Ty::List(_) => "an array",
        Ty::Map(..) | Ty::Record(_) => "an object",
        Ty::Optional(inner) => return expected(schema, inner),
        Ty::Type
        | Ty::Dyn
        | Ty::Free
        | Ty::Abstract(..)
        | Ty::Param(_)
        | Ty::Error
        | Ty::Ip
        | Ty::Cidr => "a value",
    };
    text.to_owned()
}

fn enum_expected(schema: &Schema, id: EnumId) -> String {
    match schema.enum_def(id) {
        Some(def) => format!("one of {}", list(def.variants.iter().map(String::as_str))),
        None => "a value of an unknown enum".to_owned(),
    }
}

fn mismatch(schema: &Schema, ty: &Ty, found: &str, path: &str) -> Problem {
    Problem::new(
        Some(path),
        format!("expected {}, found {}", expected(schema, ty), shown(found)),
    )
}

fn unsupported(schema: &Schema, ty: &Ty, path: &str) -> Problem {
    let ty = TyDisplay {
        ty,
        schema: Some(schema),
    };
    Problem::new(
        Some(path),
        format!("values of type `{ty}` cannot be read from a file"),
    )
}

fn json_text(json: &Json) -> String {
    json.to_string()
}

/// A JSON value as a value of `ty`, in a position with no slot of its own (the top of a field
/// is handled by [`record_from_json`], which maps `optional` to the slot's absence).
pub(crate) fn from_json(
    schema: &Schema,
    ty: &Ty,
    json: &Json,
    path: &str,
) -> Result<Value, Problem> {
    match ty {
        Ty::Optional(inner) => {
            if json.is_null() {
                Ok(Value::Optional(None))
            } else {
                let v = from_json(schema, inner, json, path)?;
                Ok(Value::Optional(Some(Arc::new(v))))
            }
        }
        Ty::Dyn => Ok(dyn_from_json(json)),
        Ty::Null => match json {
            Json::Null => Ok(Value::Null),
            other => Err(mismatch(schema, ty, &json_text(other), path)),
        },
        Ty::Bool => match json {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            other => Err(mismatch(schema, ty, &json_text(other), path)),
        },
        Ty::Int => match json.as_number().and_then(json_int) {
            Some(i) => Ok(Value::Int(i)),
            None => Err(number_problem(
                schema,
                ty,
                &json_text(json),
                json.as_f64(),
                path,
            )),
        },
        Ty::Uint => match json.as_number().and_then(json_uint) {
            Some(u) => Ok(Value::Uint(u)),
            None => Err(number_problem(
                schema,
                ty,
                &json_text(json),
                json.as_f64(),
                path,
            )),
        },
        Ty::Double => match json.as_f64() {
            Some(d) => Ok(Value::Double(d)),
            None => Err(mismatch(schema, ty, &json_text(json), path)),
        },
        Ty::String
        | Ty::Bytes
        | Ty::Timestamp
        | Ty::Duration
        | Ty::Money
        | Ty::Timezone
        | Ty::Enum(_) => match json {
            Json::String(s) => from_string(schema, ty, s, path),
            other => Err(mismatch(schema, ty, &json_text(other), path)),
        },
        Ty::List(elem) => match json {
            Json::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(from_json(schema, elem, item, &format!("{path}[{i}]"))?);
                }
                Ok(Value::list(out))
            }
            other => Err(mismatch(schema, ty, &json_text(other), path)),
        },
        Ty::Map(key, value) => match json {
            Json::Object(members) => {
                let mut map = MapValue::default();
                for (k, v) in members {
                    let item_path = format!("{path}[{k:?}]");
                    let key = map_key(schema, key, k, &item_path)?;
                    let value = from_json(schema, value, v, &item_path)?;
                    map.entries.insert(key, value);
                }
                Ok(Value::Map(Arc::new(map)))
            }
            other => Err(mismatch(schema, ty, &json_text(other), path)),
        },
        Ty::Record(id) => match json {
            Json::Object(members) => {
                let record = record_from_json(schema, *id, members, Some(path), &[], false)?;
                Ok(Value::Record(Arc::new(record)))
            }
            other => Err(mismatch(schema, ty, &json_text(other), path)),
        },
        // No schema field has these types; only expressions make them.
        Ty::Type | Ty::Error | Ty::Ip | Ty::Cidr | Ty::Free | Ty::Abstract(..) | Ty::Param(_) => {
            Err(unsupported(schema, ty, path))
        }
    }
}

/// Distinguishes "not a whole number" from "a whole number out of range" so that the message
/// names the actual problem. `number` is the value as a double, if it is a number at all.
fn number_problem(
    schema: &Schema,
    ty: &Ty,
    text: &str,
    number: Option<f64>,
    path: &str,
) -> Problem {
    let integral = number.is_some_and(|f| f.is_finite() && f.fract() == 0.0);
    let negative = number.is_some_and(|f| f < 0.0);
    let message = match ty {
        Ty::Int if integral => format!(
            "expected a whole number from {} to {}, found {}",
            i64::MIN,
            i64::MAX,
            shown(text)
        ),
        Ty::Uint if integral && !negative => format!(
            "expected a whole number from 0 to {}, found {}",
            u64::MAX,
            shown(text)
        ),
        _ => return mismatch(schema, ty, text, path),
    };
    Problem::new(Some(path), message)
}

fn json_int(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.is_u64() {
        return None;
    }
    n.as_f64().and_then(float_to_i64)
}

fn json_uint(n: &serde_json::Number) -> Option<u64> {
    if let Some(u) = n.as_u64() {
        return Some(u);
    }
    if n.is_i64() {
        return None;
    }
    n.as_f64().and_then(float_to_u64)
}

fn float_to_i64(f: f64) -> Option<i64> {
    // Bounds are exact powers of two, so the cast below cannot saturate.
    (f.is_finite() && f.fract() == 0.0 && (-I64_LIMIT..I64_LIMIT).contains(&f)).then_some(f as i64)
}

fn float_to_u64(f: f64) -> Option<u64> {
    (f.is_finite() && f.fract() == 0.0 && (0.0..U64_LIMIT).contains(&f)).then_some(f as u64)
}

/// `dyn` takes JSON as it comes: integers stay exact where they fit.
pub(crate) fn dyn_from_json(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::Uint(u)
            } else {
                Value::Double(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Json::String(s) => Value::string(s.as_str()),
        Json::Array(items) => Value::list(items.iter().map(dyn_from_json).collect()),
        Json::Object(members) => {
            let entries = members
                .iter()
                .map(|(k, v)| (MapKey::String(Arc::from(k.as_str())), dyn_from_json(v)))
                .collect();
            Value::Map(Arc::new(MapValue { entries }))
        }
    }
}

/// JSON object keys are always text; integer and bool keys are read from that text.
fn map_key(schema: &Schema, ty: &Ty, text: &str, path: &str) -> Result<MapKey, Problem> {
    let bad = || {
        Problem::new(
            Some(path),
            format!(
                "expected a key that is {}, found {}",
                expected(schema, ty),
                shown(text)
            ),
        )
    };
    match ty {
        Ty::String | Ty::Dyn => Ok(MapKey::String(Arc::from(text))),
        Ty::Int => text
            .parse::<i64>()
            .map(|i| MapKey::Int(i128::from(i)))
            .map_err(|_| bad()),
        Ty::Uint => text
            .parse::<u64>()
            .map(|u| MapKey::Int(i128::from(u)))
            .map_err(|_| bad()),
        Ty::Bool => match text {
            "true" => Ok(MapKey::Bool(true)),
            "false" => Ok(MapKey::Bool(false)),
            _ => Err(bad()),
        },
        _ => Err(Problem::new(
            Some(path),
            format!(
                "map keys of type `{}` cannot be read from a file",
                TyDisplay {
                    ty,
                    schema: Some(schema)
                }
            ),
        )),
    }
}

/// The types whose JSON form is a string and whose text form is the same string.
fn from_string(schema: &Schema, ty: &Ty, s: &str, path: &str) -> Result<Value, Problem> {
    let bad = || mismatch(schema, ty, s, path);
    match ty {
        Ty::String => Ok(Value::string(s)),
        Ty::Bytes => base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map(|b| Value::Bytes(Arc::from(b)))
            .map_err(|_| bad()),
        Ty::Timestamp => time::parse_timestamp(s.trim())
            .map(Value::Timestamp)
            .map_err(|_| bad()),
        Ty::Duration => time::parse_duration(s.trim())
            .map(Value::Duration)
            .map_err(|_| bad()),
        Ty::Money => parse_money(s).map(Value::Money).ok_or_else(bad),
        Ty::Timezone => {
            let name = s.trim();
            if time::valid_timezone(name) {
                Ok(Value::Timezone(Arc::from(name)))
            } else {
                Err(bad())
            }
        }
        Ty::Enum(id) => enum_value(schema, *id, s, path),
        _ => Err(bad()),
    }
}

/// "9.99 EUR": an exact amount, one or more spaces, an ISO 4217 code.
fn parse_money(text: &str) -> Option<Money> {
    let (amount, code) = text.trim().split_once(' ')?;
    let currency = Currency::parse(code.trim_start_matches(' '))?;
    Money::parse_amount(amount, currency)
}

/// Data files spell variants for people ("Month-to-month", "Fiber optic"); schemas spell them
/// as identifiers, so both sides are reduced to lowercase words joined by `_`.
pub(crate) fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_gap = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if pending_gap && !out.is_empty() {
                out.push('_');
            }
            pending_gap = false;
            out.extend(c.to_lowercase());
        } else {
            pending_gap = true;
        }
    }
    out
}

fn enum_value(schema: &Schema, id: EnumId, text: &str, path: &str) -> Result<Value, Problem> {
    let Some(def) = schema.enum_def(id) else {
        return Err(Problem::new(
            Some(path),
            "the field's enum is not in the schema",
        ));
    };
    let exact = def.variants.iter().position(|v| v == text);
    let index = exact.or_else(|| {
        let wanted = normalise(text);
        (!wanted.is_empty())
            .then(|| def.variants.iter().position(|v| normalise(v) == wanted))
            .flatten()
    });
    match index.and_then(|i| u32::try_from(i).ok()) {
        Some(index) => Ok(Value::Enum(EnumValue { ty: id, index })),
        None => Err(Problem::new(
            Some(path),
            format!(
                "expected {}, found {}",
                enum_expected(schema, id),
                shown(text)
            ),
        )),
    }
}

/// A text cell (already trimmed, not empty) as a value of `ty`. Containers, records and `dyn`
/// are written as JSON inside the cell.
pub(crate) fn from_text(
    schema: &Schema,
    ty: &Ty,
    text: &str,
    path: &str,
) -> Result<Value, Problem> {
    let bad = || mismatch(schema, ty, text, path);
    match ty {
        Ty::Optional(inner) => {
            let v = from_text(schema, inner, text, path)?;
            Ok(Value::Optional(Some(Arc::new(v))))
        }
        Ty::Null => match text {
            "null" => Ok(Value::Null),
            _ => Err(bad()),
        },
        Ty::Bool => parse_bool(text).map(Value::Bool).ok_or_else(|| {
            Problem::new(
                Some(path),
                format!("expected {}, found {}", BOOL_TEXT_EXPECTED, shown(text)),
            )
        }),
        Ty::Int => match text.parse::<i64>() {
            Ok(i) => Ok(Value::Int(i)),
            Err(_) => text
                .parse::<f64>()
                .ok()
                .and_then(float_to_i64)
                .map(Value::Int)
                .ok_or_else(|| text_number_problem(schema, ty, text, path)),
        },
        Ty::Uint => match text.parse::<u64>() {
            Ok(u) => Ok(Value::Uint(u)),
            Err(_) => text
                .parse::<f64>()
                .ok()
                .and_then(float_to_u64)
                .map(Value::Uint)
                .ok_or_else(|| text_number_problem(schema, ty, text, path)),
        },
        Ty::Double => text.parse::<f64>().map(Value::Double).map_err(|_| bad()),
        Ty::String
        | Ty::Bytes
        | Ty::Timestamp
        | Ty::Duration
        | Ty::Money
        | Ty::Timezone
        | Ty::Enum(_) => from_string(schema, ty, text, path),
        Ty::List(_) | Ty::Map(..) | Ty::Record(_) | Ty::Dyn => {
            match serde_json::from_str::<Json>(text) {
                Ok(json) => from_json(schema, ty, &json, path),
                Err(_) => Err(Problem::new(
                    Some(path),
                    format!(
                        "expected JSON ({}), found {}",
                        expected(schema, ty),
                        shown(text)
                    ),
                )),
            }
        }
        // No schema field has these types; only expressions make them.
        Ty::Type | Ty::Error | Ty::Ip | Ty::Cidr | Ty::Free | Ty::Abstract(..) | Ty::Param(_) => {
            Err(unsupported(schema, ty, path))
        }
    }
}

fn text_number_problem(schema: &Schema, ty: &Ty, text: &str, path: &str) -> Problem {
    number_problem(schema, ty, text, text.parse::<f64>().ok(), path)
}

/// The spellings of booleans that spreadsheets and exports actually produce.
fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "t" | "y" | "1" | "1.0" => Some(true),
        "false" | "no" | "f" | "n" | "0" | "0.0" => Some(false),
        _ => None,
    }
}

const BOOL_TEXT_EXPECTED: &str = "a boolean such as `true`, `false`, `yes`, `no`, `1`, `0`";

/// Whether a slot may be left empty.
pub(crate) fn is_optional(ty: &Ty) -> bool {
    matches!(ty, Ty::Optional(_))
}

/// The value a slot holds: `optional` is the slot's absence, not a wrapper.
pub(crate) fn slot_ty(ty: &Ty) -> &Ty {
    match ty {
        Ty::Optional(inner) => inner,
        other => other,
    }
}

fn join_path(prefix: Option<&str>, name: &str) -> String {
    match prefix {
        Some(p) => format!("{p}.{name}"),
        None => name.to_owned(),
    }
}

/// A JSON object as a record of type `id`. `skip` names envelope members that are not fields;
/// `exempt_key` lets a profile's key field be absent because the event key will fill it.
pub(crate) fn record_from_json(
    schema: &Schema,
    id: RecordId,
    members: &serde_json::Map<String, Json>,
    prefix: Option<&str>,
    skip: &[&str],
    exempt_key: bool,
) -> Result<RecordValue, Problem> {
    let Some(def) = schema.record(id) else {
        return Err(Problem::new(prefix, "the record type is not in the schema"));
    };
    let mut fields: Vec<Option<Value>> = vec![None; def.fields.len()];
    for (name, json) in members {
        if skip.contains(&name.as_str()) {
            continue;
        }
        let path = join_path(prefix, name);
        let Some((slot, field)) = def.field(name) else {
            let names: Vec<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
            return Err(Problem::new(
                Some(&path),
                unknown("field", name, &names, &format!("fields of `{}`", def.name)),
            ));
        };
        if json.is_null() {
            if is_optional(&field.ty) {
                continue;
            }
            return Err(mismatch(schema, &field.ty, "null", &path));
        }
        let value = from_json(schema, slot_ty(&field.ty), json, &path)?;
        if let Some(cell) = fields.get_mut(slot as usize) {
            *cell = Some(value);
        }
    }
    let key_slot = if exempt_key {
        profile_key_slot(def)
    } else {
        None
    };
    for (slot, (field, value)) in def.fields.iter().zip(&fields).enumerate() {
        if value.is_none() && !is_optional(&field.ty) && key_slot != Some(slot) {
            let path = join_path(prefix, &field.name);
            return Err(Problem::new(
                Some(&path),
                format!("missing field `{}`", field.name),
            ));
        }
    }
    Ok(RecordValue { ty: id, fields })
}

/// The slot that the event key fills, for a profile that declares one.
pub(crate) fn profile_key_slot(def: &RecordDef) -> Option<usize> {
    if def.kind != RecordKind::Profile {
        return None;
    }
    def.key
        .map(|k| k as usize)
        .filter(|&k| k < def.fields.len())
}

/// The event key and a profile's key field are one fact: fill the field from the key when it
/// is absent, and refuse a row where the two disagree.
pub(crate) fn fill_profile_key(
    schema: &Schema,
    def: &RecordDef,
    fields: &mut [Option<Value>],
    key: &str,
) -> Result<(), Problem> {
    let Some(slot) = profile_key_slot(def) else {
        return Ok(());
    };
    let (Some(field), Some(cell)) = (def.fields.get(slot), fields.get_mut(slot)) else {
        return Ok(());
    };
    let name = field.name.as_str();
    let from_key = from_text(schema, slot_ty(&field.ty), key, name);
    match cell {
        None => match from_key {
            Ok(v) => {
                *cell = Some(v);
                Ok(())
            }
            Err(p) => Err(Problem::new(
                Some(name),
                format!(
                    "cannot fill the key field from the event's key: {}",
                    p.message
                ),
            )),
        },
        Some(present) => {
            let same = match &from_key {
                Ok(v) => v == present,
                Err(_) => false,
            } || value_text(present) == key;
            if same {
                Ok(())
            } else {
                Err(Problem::new(
                    Some(name),
                    format!(
                        "the key field `{name}` is {} but the event's key is {}",
                        shown(&value_text(present)),
                        shown(key)
                    ),
                ))
            }
        }
    }
}

/// A value as the user would have written it in a cell.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) | Value::Timezone(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        other => other.to_string(),
    }
}

/// The expected-phrase for event times read with a strftime format.
pub(crate) fn time_format_expected(format: &str) -> String {
    format!("a time in the format `{format}`")
}

/// Parses an event time with a strftime format. Formats without a time of day or an offset
/// (such as `%Y%m%d`) mean midnight UTC, so that date-only exports work.
pub(crate) fn parse_with_format(format: &str, text: &str) -> Option<Nanos> {
    let tm = jiff::fmt::strtime::parse(format, text).ok()?;
    let ts = if let Some(ts) = tm.timestamp() {
        ts
    } else if tm.iana_time_zone().is_some() {
        tm.to_zoned().ok()?.timestamp()
    } else {
        let dt = tm.to_datetime().ok()?;
        tm.offset()
            .unwrap_or(jiff::tz::Offset::UTC)
            .to_timestamp(dt)
            .ok()?
    };
    time::check_timestamp(ts.as_nanosecond()).ok()
}
