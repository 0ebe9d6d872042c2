//! `offer eval 'EXPR' [--bindings JSON]`: checks and evaluates one expression, and prints its
//! value and type.

use super::{FAILURE, fail};
use crate::render;
use offer_compiler::check::ExprOptions;
use offer_compiler::db::Database;
use offer_compiler::eval::{Bindings, Evaluator};
use offer_compiler::schema::Schema;
use offer_compiler::syntax::parse::parse_expression;
use offer_compiler::types::{Ty, TyDisplay};
use offer_compiler::value::{MapKey, MapValue, Value, ops};
use std::io::Write;
use std::sync::Arc;

const SOURCE: &str = "<expression>";

pub fn eval(
    expr: &str,
    bindings: Option<&str>,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let bound = match bindings.map(parse_bindings).transpose() {
        Ok(b) => b.unwrap_or_default(),
        Err(message) => return fail(err, &message),
    };
    let (parsed, mut diagnostics) = parse_expression(SOURCE, expr);
    let mut db = Database::new();
    let checked = parsed.map(|parsed| {
        let options = ExprOptions {
            bindings: bound
                .iter()
                .map(|(n, _, t)| (n.clone(), t.clone()))
                .collect(),
            ..ExprOptions::default()
        };
        let (ir, diags) = db.check_expression(SOURCE, &parsed, options);
        diagnostics.extend(diags);
        ir
    });
    for d in &diagnostics {
        let _ = write!(err, "{}", render::render(d, SOURCE, expr, color));
    }
    let Some(ir) = checked.filter(|_| !diagnostics.iter().any(|d| d.is_error())) else {
        return FAILURE;
    };
    let schema = Schema::default();
    let evaluator = Evaluator::new(&schema);
    let env = Bindings(bound.into_iter().map(|(_, v, _)| v).collect());
    match evaluator.eval(&ir, &env) {
        Value::Error(e) => fail(err, &e.to_string()),
        value => {
            let ty = if ir.ty.is_dynamic() {
                ops::runtime_type(&value)
            } else {
                ir.ty.clone()
            };
            let _ = writeln!(
                out,
                "{value} ({})",
                TyDisplay {
                    ty: &ty,
                    schema: None
                }
            );
            0
        }
    }
}

/// `{"x": 1, "name": "a"}` as named values with the types their JSON implies.
fn parse_bindings(text: &str) -> Result<Vec<(String, Value, Ty)>, String> {
    // A name given twice is refused, as in event lines, rather than silently the last one.
    let json = offer_runtime::ingest::strict_json::from_str(text)
        .map_err(|e| format!("--bindings is not valid JSON: {e}"))?;
    let serde_json::Value::Object(map) = json else {
        return Err("--bindings must be a JSON object, as in '{\"x\": 1}'".into());
    };
    map.into_iter()
        .map(|(name, v)| {
            if name
                .split('.')
                .any(offer_compiler::syntax::parse::is_reserved)
            {
                return Err(format!(
                    "--bindings: `{name}` is a reserved word and cannot be bound"
                ));
            }
            if !is_name(&name) {
                return Err(format!(
                    "--bindings: `{name}` is not a name an expression can use (letters, digits \
                     and `_`, not starting with a digit; dots for qualified names)"
                ));
            }
            let (value, ty) = from_json(&v);
            Ok((name, value, ty))
        })
        .collect()
}

/// A CEL identifier, or several joined by dots (`com.example.x`).
fn is_name(name: &str) -> bool {
    name.split('.').all(|part| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// A JSON value as a CEL value: whole numbers are ints (uints past the int range), other
/// numbers doubles, arrays lists and objects maps with string keys.
fn from_json(v: &serde_json::Value) -> (Value, Ty) {
    match v {
        serde_json::Value::Null => (Value::Null, Ty::Null),
        serde_json::Value::Bool(b) => (Value::Bool(*b), Ty::Bool),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => (Value::Int(i), Ty::Int),
            (None, Some(u)) => (Value::Uint(u), Ty::Uint),
            _ => (Value::Double(n.as_f64().unwrap_or(f64::NAN)), Ty::Double),
        },
        serde_json::Value::String(s) => (Value::string(s.as_str()), Ty::String),
        serde_json::Value::Array(items) => {
            let (values, types): (Vec<Value>, Vec<Ty>) = items.iter().map(from_json).unzip();
            let elem = types
                .iter()
                .skip(1)
                .fold(types.first().cloned().unwrap_or(Ty::Dyn), |a, t| a.join(t));
            (Value::list(values), Ty::list(elem))
        }
        serde_json::Value::Object(entries) => {
            let mut map = MapValue::default();
            let mut elem: Option<Ty> = None;
            for (k, v) in entries {
                let (value, ty) = from_json(v);
                elem = Some(elem.map_or(ty.clone(), |e| e.join(&ty)));
                map.entries.insert(MapKey::String(k.as_str().into()), value);
            }
            (
                Value::Map(Arc::new(map)),
                Ty::map(Ty::String, elem.unwrap_or(Ty::Dyn)),
            )
        }
    }
}
