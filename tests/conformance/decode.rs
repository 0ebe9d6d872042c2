//! The conformance files' JSON forms (see `../shared/conformance/cel/README.md`) as Offer's
//! values and types.

use base64::Engine as _;
use offer_compiler::check::{DeclaredFunction, DeclaredOverload};
use offer_compiler::types::Ty;
use offer_compiler::value::{MapKey, MapValue, Value};
use serde_json::Value as Json;
use std::sync::Arc;

/// A `Value` message: `{"int64_value": "1"}`, `{"list_value": {"values": [...]}}`, ...
pub fn value(json: &Json) -> Result<Value, String> {
    let Json::Object(fields) = json else {
        return Err(format!("a value must be an object, not {json}"));
    };
    let Some((kind, body)) = fields.iter().next() else {
        return Err("an empty value".into());
    };
    let text = || {
        body.as_str()
            .ok_or_else(|| format!("{kind} must be a string"))
    };
    Ok(match kind.as_str() {
        "null_value" => Value::Null,
        "bool_value" => Value::Bool(body.as_bool().ok_or("bool_value must be a bool")?),
        "int64_value" => Value::Int(text()?.parse().map_err(|e| format!("int64_value: {e}"))?),
        "uint64_value" => Value::Uint(text()?.parse().map_err(|e| format!("uint64_value: {e}"))?),
        "double_value" => Value::Double(match body {
            Json::Number(n) => n.as_f64().ok_or("double_value out of range")?,
            Json::String(s) => match s.as_str() {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                other => other
                    .parse()
                    .map_err(|e| format!("double_value {other}: {e}"))?,
            },
            other => return Err(format!("double_value {other}")),
        }),
        "string_value" => Value::string(text()?),
        "bytes_value" => Value::Bytes(
            base64::engine::general_purpose::STANDARD
                .decode(text()?)
                .map_err(|e| format!("bytes_value: {e}"))?
                .into(),
        ),
        "list_value" => {
            let items = match body.get("values") {
                Some(Json::Array(items)) => items.iter().map(value).collect::<Result<_, _>>()?,
                _ => Vec::new(),
            };
            Value::list(items)
        }
        "map_value" => {
            let mut map = MapValue::default();
            if let Some(Json::Array(entries)) = body.get("entries") {
                for entry in entries {
                    let key = value(entry.get("key").ok_or("a map entry without a key")?)?;
                    let val = value(entry.get("value").ok_or("a map entry without a value")?)?;
                    let key = MapKey::from_value(&key).map_err(|e| e.to_string())?;
                    map.entries.insert(key, val);
                }
            }
            Value::Map(Arc::new(map))
        }
        "type_value" => Value::Type(Arc::new(type_named(text()?)?)),
        other => return Err(format!("{other} values are not supported")),
    })
}

/// A type value's name (`int`, `list`, `map`, `null_type`, ...).
fn type_named(name: &str) -> Result<Ty, String> {
    Ty::named(name).ok_or_else(|| format!("the type {name} is not supported"))
}

/// A `Type` message of a declaration or a deduced type.
pub fn ty(json: &Json) -> Result<Ty, String> {
    let Json::Object(fields) = json else {
        return Err(format!("a type must be an object, not {json}"));
    };
    let Some((kind, body)) = fields.iter().next() else {
        return Err("an empty type".into());
    };
    Ok(match kind.as_str() {
        "primitive" => match body.as_str() {
            Some("BOOL") => Ty::Bool,
            Some("INT64") => Ty::Int,
            Some("UINT64") => Ty::Uint,
            Some("DOUBLE") => Ty::Double,
            Some("STRING") => Ty::String,
            Some("BYTES") => Ty::Bytes,
            other => return Err(format!("the primitive type {other:?} is not supported")),
        },
        "well_known" => match body.as_str() {
            Some("TIMESTAMP") => Ty::Timestamp,
            Some("DURATION") => Ty::Duration,
            Some("ANY") => Ty::Dyn,
            other => return Err(format!("the well-known type {other:?} is not supported")),
        },
        "null" => Ty::Null,
        "dyn" => Ty::Dyn,
        "type" => Ty::Type,
        "list_type" => Ty::list(ty(body
            .get("elem_type")
            .ok_or("list_type without elem_type")?)?),
        "map_type" => Ty::map(
            ty(body.get("key_type").ok_or("map_type without key_type")?)?,
            ty(body
                .get("value_type")
                .ok_or("map_type without value_type")?)?,
        ),
        "type_param" => Ty::Param(body.as_str().ok_or("a type_param without a name")?.into()),
        "abstract_type" => {
            let name = body
                .get("name")
                .and_then(Json::as_str)
                .ok_or("an abstract_type without a name")?;
            let params: Vec<Ty> = match body.get("parameter_types") {
                Some(Json::Array(params)) => params.iter().map(ty).collect::<Result<_, _>>()?,
                _ => Vec::new(),
            };
            match (name, params.as_slice()) {
                ("optional_type", [inner]) => Ty::optional(inner.clone()),
                _ => Ty::abstract_of(name, params),
            }
        }
        other => return Err(format!("{other} types are not supported")),
    })
}

/// A `function` declaration of a `type_env`: its overloads' parameter and result types.
pub fn function(name: &str, json: &Json) -> Result<DeclaredFunction, String> {
    let mut overloads = Vec::new();
    for o in json
        .get("overloads")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let params = o
            .get("params")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(ty)
            .collect::<Result<_, _>>()?;
        let result = ty(o
            .get("result_type")
            .ok_or("an overload without a result_type")?)?;
        let method = o
            .get("is_instance_function")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        overloads.push(DeclaredOverload {
            params,
            result,
            method,
        });
    }
    Ok(DeclaredFunction {
        name: name.to_string(),
        overloads,
    })
}

/// Whether `actual` is the value `expected` describes: the same kind and value, with maps in any
/// order and NaN equal to NaN (the conformance suite's own rule).
pub fn same(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Double(a), Value::Double(b)) => a == b || (a.is_nan() && b.is_nan()),
        (Value::List(a), Value::List(b)) => {
            a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| same(x, y))
        }
        (Value::Map(a), Value::Map(b)) => {
            a.entries.len() == b.entries.len()
                && a.entries
                    .iter()
                    .all(|(k, v)| b.entries.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Type(a), Value::Type(b)) => type_name(a) == type_name(b),
        _ => expected == actual,
    }
}

/// A type's CEL name without parameters, as a `type_value` spells it.
fn type_name(ty: &Ty) -> String {
    match ty {
        Ty::List(_) => "list".into(),
        Ty::Map(_, _) => "map".into(),
        Ty::Optional(_) => "optional_type".into(),
        other => other.to_string(),
    }
}
