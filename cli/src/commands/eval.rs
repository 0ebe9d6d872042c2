//! `offer eval 'EXPR' [--bindings JSON] [--bind NAME=EXPR]...`: checks and evaluates one
//! expression, and prints its value and type.

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

/// A variable for the expression: its name, value and type.
type Bound = (String, Value, Ty);

pub fn eval(
    expr: &str,
    bindings: Option<&str>,
    binds: &[String],
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut bound = match bindings.map(parse_bindings).transpose() {
        Ok(b) => b.unwrap_or_default(),
        Err(message) => return fail(err, &message),
    };
    let mut db = Database::new();
    // `--bind` values are CEL expressions, so that any type can be bound (`2u`, `b'x'`,
    // `timestamp('2026-01-01T00:00:00Z')`); each sees the variables bound before it.
    for bind in binds {
        let Some((name, text)) = bind.split_once('=') else {
            return fail(err, "--bind takes NAME=EXPR, as in --bind 'x=2u'");
        };
        let name = name.trim();
        if let Err(message) = check_name(name, "--bind") {
            return fail(err, &message);
        }
        if bound.iter().any(|(n, _, _)| n == name) {
            return fail(err, &format!("`{name}` is bound twice"));
        }
        let source = format!("<--bind {name}>");
        match evaluate(&mut db, &source, text, &bound, color, err) {
            Ok((value, ty)) => bound.push((name.to_string(), value, ty)),
            Err(code) => return code,
        }
    }
    match evaluate(&mut db, SOURCE, expr, &bound, color, err) {
        Ok((value, ty)) => {
            let ty = TyDisplay {
                ty: &ty,
                schema: None,
            };
            let _ = writeln!(out, "{value} ({ty})");
            0
        }
        Err(code) => code,
    }
}

/// Checks and evaluates `text` with `bound` in scope: its value and type (the value's own type
/// where the checker's is `dyn`), or the exit code once the diagnostics or the error are written.
fn evaluate(
    db: &mut Database,
    source: &str,
    text: &str,
    bound: &[Bound],
    color: bool,
    err: &mut dyn Write,
) -> Result<(Value, Ty), u8> {
    let (parsed, mut diagnostics) = parse_expression(source, text);
    let checked = parsed.map(|parsed| {
        let options = ExprOptions {
            bindings: bound
                .iter()
                .map(|(n, _, t)| (n.clone(), t.clone()))
                .collect(),
            ..ExprOptions::default()
        };
        let (ir, diags) = db.check_expression(source, &parsed, options);
        diagnostics.extend(diags);
        ir
    });
    for d in &diagnostics {
        let _ = write!(err, "{}", render::render(d, source, text, color));
    }
    let Some(ir) = checked.filter(|_| !diagnostics.iter().any(|d| d.is_error())) else {
        return Err(FAILURE);
    };
    let schema = Schema::default();
    let env = Bindings(bound.iter().map(|(_, v, _)| v.clone()).collect());
    match Evaluator::new(&schema).eval(&ir, &env) {
        Value::Error(e) => Err(fail(err, &e.to_string())),
        value => {
            let ty = if ir.ty.is_dynamic() {
                ops::runtime_type(&value)
            } else {
                ir.ty.clone()
            };
            Ok((value, ty))
        }
    }
}

/// A name a binding may have: a CEL identifier, or several joined by dots (`com.example.x`),
/// none a reserved word.
fn check_name(name: &str, flag: &str) -> Result<(), String> {
    if name
        .split('.')
        .any(offer_compiler::syntax::parse::is_reserved)
    {
        return Err(format!(
            "{flag}: `{name}` is a reserved word and cannot be bound"
        ));
    }
    let is_name = name.split('.').all(|part| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if !is_name {
        return Err(format!(
            "{flag}: `{name}` is not a name an expression can use (letters, digits and `_`, \
             not starting with a digit; dots for qualified names)"
        ));
    }
    Ok(())
}

/// `{"x": 1, "name": "a"}` as named values with the types their JSON implies.
fn parse_bindings(text: &str) -> Result<Vec<Bound>, String> {
    // A name given twice is refused, as in event lines, rather than silently the last one.
    let json = offer_runtime::ingest::strict_json::from_str(text)
        .map_err(|e| format!("--bindings is not valid JSON: {e}"))?;
    let serde_json::Value::Object(map) = json else {
        return Err("--bindings must be a JSON object, as in '{\"x\": 1}'".into());
    };
    map.into_iter()
        .map(|(name, v)| {
            check_name(&name, "--bindings")?;
            let (value, ty) = from_json(&v);
            Ok((name, value, ty))
        })
        .collect()
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
