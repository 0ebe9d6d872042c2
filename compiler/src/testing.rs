//! Helpers shared by the crate's unit tests: value constructors and the checker's verdict on a
//! stand-alone expression.

use crate::check::ExprOptions;
use crate::db::Database;
use crate::diagnostic::Code;
use crate::syntax::parse::parse_expression;
use crate::types::Ty;
use crate::value::{MapKey, MapValue, Value, time};
use std::sync::Arc;

pub fn i(v: i64) -> Value {
    Value::Int(v)
}

pub fn u(v: u64) -> Value {
    Value::Uint(v)
}

pub fn d(v: f64) -> Value {
    Value::Double(v)
}

pub fn s(v: &str) -> Value {
    Value::string(v)
}

pub fn b(v: &[u8]) -> Value {
    Value::Bytes(v.into())
}

pub fn list(items: &[Value]) -> Value {
    Value::list(items.to_vec())
}

pub fn map(entries: &[(Value, Value)]) -> Value {
    let entries = entries
        .iter()
        .map(|(k, v)| (MapKey::from_value(k).unwrap(), v.clone()));
    Value::Map(Arc::new(MapValue {
        entries: entries.collect(),
    }))
}

pub fn ts(text: &str) -> Value {
    Value::Timestamp(time::parse_timestamp(text).unwrap())
}

pub fn dur(text: &str) -> Value {
    Value::Duration(time::parse_duration(text).unwrap())
}

/// The checker's type for a stand-alone expression, or its first diagnostic's code and message.
pub fn checked_type(text: &str) -> Result<Ty, (Code, String)> {
    let (parsed, errors) = parse_expression("<test>", text);
    let Some(parsed) = parsed else {
        let first = errors.into_iter().next().unwrap();
        return Err((first.code, first.message));
    };
    let (ir, diagnostics) =
        Database::new().check_expression("<test>", &parsed, ExprOptions::default());
    match diagnostics.into_iter().next() {
        Some(d) => Err((d.code, d.message)),
        None => Ok(ir.ty),
    }
}
