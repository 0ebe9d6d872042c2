//! The lists and sets extensions, as cel-go defines them: `slice`, `flatten`, `distinct`,
//! `sort`, `first`, `last`, `unwrapOpt` on lists, `lists.range(n)`, `optional.unwrap`, and
//! `sets.contains`, `sets.equivalent`, `sets.intersects`. Elements compare with CEL's equality,
//! so `1`, `1u` and `1.0` are one element. A list's `reverse` is an overload of the strings extension's
//! `reverse`, since a name has one entry.

use super::LibraryFn;
use crate::check::signature::{Function, Overload, P, Style, o};
use crate::eval::MAX_VALUE_BYTES;
use crate::ir::Func;
use crate::value::{EvalError, MapKey, Value, ops};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::HashSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ListFn {
    Slice,
    Flatten,
    Distinct,
    Sort,
    First,
    Last,
    Range,
    SetContains,
    SetEquivalent,
    SetIntersects,
    /// `optional.unwrap(l)` and `l.unwrapOpt()`: the values of the optionals that have one.
    Unwrap,
}

const fn f(
    name: &'static str,
    style: Style,
    l: ListFn,
    overloads: &'static [Overload],
) -> Function {
    Function {
        name,
        style,
        func: Func::Library(LibraryFn::Lists(l)),
        overloads,
    }
}

use P::{AnyList, Bool, Flattened, Int, OptElemOf, OptList, SameList};
use Style::{Global, Method};

pub(crate) const FUNCTIONS: &[Function] = &[
    f(
        "slice",
        Method,
        ListFn::Slice,
        &[o(&[AnyList, Int, Int], SameList)],
    ),
    f(
        "flatten",
        Method,
        ListFn::Flatten,
        &[o(&[AnyList], Flattened), o(&[AnyList, Int], P::AnyList)],
    ),
    f(
        "distinct",
        Method,
        ListFn::Distinct,
        &[o(&[AnyList], SameList)],
    ),
    f("sort", Method, ListFn::Sort, &[o(&[AnyList], SameList)]),
    f("first", Method, ListFn::First, &[o(&[AnyList], OptElemOf)]),
    f("last", Method, ListFn::Last, &[o(&[AnyList], OptElemOf)]),
    f(
        "lists.range",
        Global,
        ListFn::Range,
        &[o(&[Int], P::AnyList)],
    ),
    f(
        "sets.contains",
        Global,
        ListFn::SetContains,
        &[o(&[AnyList, AnyList], Bool)],
    ),
    f(
        "sets.equivalent",
        Global,
        ListFn::SetEquivalent,
        &[o(&[AnyList, AnyList], Bool)],
    ),
    f(
        "sets.intersects",
        Global,
        ListFn::SetIntersects,
        &[o(&[AnyList, AnyList], Bool)],
    ),
    f(
        "optional.unwrap",
        Global,
        ListFn::Unwrap,
        &[o(&[OptList], OptList)],
    ),
    f(
        "unwrapOpt",
        Method,
        ListFn::Unwrap,
        &[o(&[OptList], OptList)],
    ),
];

impl ListFn {
    fn name(self) -> &'static str {
        match self {
            ListFn::Slice => "slice",
            ListFn::Flatten => "flatten",
            ListFn::Distinct => "distinct",
            ListFn::Sort => "sort",
            ListFn::First => "first",
            ListFn::Last => "last",
            ListFn::Range => "lists.range",
            ListFn::SetContains => "sets.contains",
            ListFn::SetEquivalent => "sets.equivalent",
            ListFn::SetIntersects => "sets.intersects",
            ListFn::Unwrap => "optional.unwrap",
        }
    }
}

pub fn call(f: ListFn, args: &[Value]) -> Value {
    if let Some(err) = args.iter().find(|a| a.is_error()) {
        return err.clone();
    }
    let outcome = match (f, args) {
        (ListFn::Slice, [Value::List(l), Value::Int(a), Value::Int(b)]) => slice(l, *a, *b),
        (ListFn::Flatten, [Value::List(l)]) => flatten(l, 1),
        (ListFn::Flatten, [Value::List(l), Value::Int(depth)]) => flatten(l, *depth),
        (ListFn::Distinct, [Value::List(l)]) => distinct(l),
        (ListFn::Sort, [Value::List(l)]) => sort(l),
        (ListFn::First, [Value::List(l)]) => {
            Ok(l.first().map_or(Value::Optional(None), ops::optional_of))
        }
        (ListFn::Last, [Value::List(l)]) => {
            Ok(l.last().map_or(Value::Optional(None), ops::optional_of))
        }
        (ListFn::Range, [Value::Int(n)]) => range(*n),
        (ListFn::SetContains, [Value::List(a), Value::List(b)]) => {
            contains_all(a, b).map(Value::Bool)
        }
        (ListFn::SetEquivalent, [Value::List(a), Value::List(b)]) => {
            contains_all(a, b).and_then(|ab| Ok(Value::Bool(ab && contains_all(b, a)?)))
        }
        (ListFn::SetIntersects, [Value::List(a), Value::List(b)]) => {
            intersects(a, b).map(Value::Bool)
        }
        (ListFn::Unwrap, [Value::List(l)]) => unwrap(l),
        (f, args) => return super::no_overload(f.name(), args),
    };
    outcome.unwrap_or_else(Value::error)
}

/// Elements `start..end`, by position; both ends must lie within the list.
fn slice(l: &[Value], start: i64, end: i64) -> Result<Value, EvalError> {
    let fail =
        |why: &str| EvalError::InvalidArgument(format!("cannot slice({start}, {end}): {why}"));
    let (Ok(a), Ok(b)) = (usize::try_from(start), usize::try_from(end)) else {
        return Err(fail("negative index"));
    };
    if a > b {
        return Err(fail("start after end"));
    }
    match l.get(a..b) {
        Some(part) => Ok(Value::list(part.to_vec())),
        None => Err(fail(&format!("the list has {} elements", l.len()))),
    }
}

/// Lists inside the list spliced into it, `depth` levels deep; other elements stay.
fn flatten(l: &[Value], depth: i64) -> Result<Value, EvalError> {
    if depth < 0 {
        return Err(EvalError::InvalidArgument(format!(
            "flatten: the depth must not be negative, and is {depth}"
        )));
    }
    let mut out = Vec::new();
    splice(l, depth, &mut out)?;
    Ok(Value::list(out))
}

fn splice(l: &[Value], depth: i64, out: &mut Vec<Value>) -> Result<(), EvalError> {
    for v in l {
        match v {
            Value::List(inner) if depth > 0 => splice(inner, depth - 1, out)?,
            other => out.push(other.clone()),
        }
        if out.len() > MAX_VALUE_BYTES / 32 {
            return Err(EvalError::InvalidArgument(
                "flatten would build a list past the value limit".into(),
            ));
        }
    }
    Ok(())
}

/// The first occurrence of each element, in order.
fn distinct(l: &[Value]) -> Result<Value, EvalError> {
    let mut seen: HashSet<MapKey> = HashSet::new();
    let mut kept: Vec<Value> = Vec::new();
    for v in l {
        let fresh = match key(v) {
            Some(k) => seen.insert(k),
            // Not hashable by value (a list, a map, a timestamp...): compared with what is kept.
            None => !kept.iter().any(|k| ops::equals(k, v).unwrap_or(false)),
        };
        if fresh {
            kept.push(v.clone());
        }
    }
    Ok(Value::list(kept))
}

/// The elements in ascending order; they must all be comparable with each other.
fn sort(l: &[Value]) -> Result<Value, EvalError> {
    let mut sorted = l.to_vec();
    let mut failure: Option<EvalError> = None;
    sorted.sort_by(|a, b| match ops::compare(a, b) {
        Ok(Some(order)) => order,
        Ok(None) | Err(_) => {
            failure.get_or_insert_with(|| {
                EvalError::NoSuchOverload(format!(
                    "sort: {} and {} cannot be ordered",
                    a.type_name(),
                    b.type_name()
                ))
            });
            Ordering::Equal
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(Value::list(sorted)),
    }
}

/// The values of the optionals that have one; an element that is not an optional is an error.
fn unwrap(l: &[Value]) -> Result<Value, EvalError> {
    let mut out = Vec::with_capacity(l.len());
    for v in l {
        match v {
            Value::Optional(Some(inner)) => out.push(inner.as_ref().clone()),
            Value::Optional(None) => {}
            other => {
                return Err(EvalError::NoSuchOverload(format!(
                    "optional.unwrap takes a list of optionals, and holds a {}",
                    other.type_name()
                )));
            }
        }
    }
    Ok(Value::list(out))
}

/// `[0, 1, ..., n - 1]`.
fn range(n: i64) -> Result<Value, EvalError> {
    let Ok(count) = usize::try_from(n) else {
        return Err(EvalError::InvalidArgument(format!(
            "lists.range: the count must not be negative, and is {n}"
        )));
    };
    if count > MAX_VALUE_BYTES / 32 {
        return Err(EvalError::InvalidArgument(format!(
            "lists.range({n}) would build a list past the value limit"
        )));
    }
    Ok(Value::list((0..n).map(Value::Int).collect()))
}

/// The element as a hashable key when CEL equality on it is equality of keys (bools,
/// numbers with an exact integer value, strings); `None` otherwise.
fn key(v: &Value) -> Option<MapKey> {
    match v {
        Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::String(_) => {
            MapKey::from_value(v).ok()
        }
        Value::Double(d) if d.fract() == 0.0 => MapKey::from_value(v).ok(),
        _ => None,
    }
}

/// Whether every element of `b` is in `a`.
fn contains_all(a: &[Value], b: &[Value]) -> Result<bool, EvalError> {
    let keys: HashSet<MapKey> = a.iter().filter_map(key).collect();
    for v in b {
        let found = match key(v) {
            Some(k) => keys.contains(&k),
            None => a.iter().any(|x| ops::equals(x, v).unwrap_or(false)),
        };
        if !found {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether some element is in both.
fn intersects(a: &[Value], b: &[Value]) -> Result<bool, EvalError> {
    let keys: HashSet<MapKey> = a.iter().filter_map(key).collect();
    Ok(b.iter().any(|v| match key(v) {
        Some(k) => keys.contains(&k),
        None => a.iter().any(|x| ops::equals(x, v).unwrap_or(false)),
    }))
}

#[cfg(test)]
mod tests {
    use crate::testing::checked_type;
    use crate::types::Ty;

    fn eval(text: &str) -> String {
        let (parsed, _) = crate::syntax::parse::parse_expression("<t>", text);
        let (ir, diags) = crate::db::Database::new().check_expression(
            "<t>",
            &parsed.unwrap(),
            crate::check::ExprOptions::default(),
        );
        assert!(diags.is_empty(), "{text}: {diags:?}");
        let schema = crate::schema::Schema::default();
        crate::eval::Evaluator::new(&schema)
            .eval(&ir, &crate::eval::NO_ENV)
            .to_string()
    }

    #[test]
    fn lists() {
        for (expr, want) in [
            ("[1, 2, 3, 4].slice(1, 3)", "[2, 3]"),
            ("[1, 2].slice(2, 2)", "[]"),
            ("[[1], [2, [3]], 4].flatten()", "[1, 2, [3], 4]"),
            ("[[1], [2, [3]], 4].flatten(2)", "[1, 2, 3, 4]"),
            (
                "[1, 1u, 1.0, 2, 'a', 'a', [1], [1]].distinct()",
                "[1, 2, \"a\", [1]]",
            ),
            ("[3, 1, 2].sort()", "[1, 2, 3]"),
            ("[1, 'a'].reverse()", "[\"a\", 1]"),
            ("dyn([1, 2]).reverse()", "[2, 1]"),
            ("'ab'.reverse()", "\"ba\""),
            ("['b', 'a'].sort()", "[\"a\", \"b\"]"),
            ("[].first()", "optional.none()"),
            ("[7, 8].last()", "optional.of(8)"),
            ("lists.range(3)", "[0, 1, 2]"),
            ("sets.contains([1, 2, 3], [3, 1.0])", "true"),
            ("sets.contains([1, 2], [4])", "false"),
            ("sets.equivalent([1, 2, 2], [2u, 1])", "true"),
            ("sets.intersects([[1], 'x'], [[1]])", "true"),
            ("sets.intersects([1], [])", "false"),
            (
                "optional.unwrap([optional.of(1), optional.none(), optional.of(3)])",
                "[1, 3]",
            ),
            ("[optional.of('a'), optional.none()].unwrapOpt()", "[\"a\"]"),
        ] {
            assert_eq!(eval(expr), want, "{expr}");
        }
        for bad in [
            "[1].slice(0, 2)",
            "[1].slice(-1, 0)",
            "[1, 2].slice(2, 1)",
            "[1].flatten(-1)",
            "[1, 'a'].sort()",
            "lists.range(-1)",
            "optional.unwrap(dyn([1]))",
            "lists.range(9223372036854775807)",
        ] {
            assert!(eval(bad).starts_with("error"), "{bad}");
        }
    }

    #[test]
    fn results_are_typed_by_the_list() {
        assert_eq!(checked_type("[1, 2].slice(0, 1)"), Ok(Ty::list(Ty::Int)));
        assert_eq!(checked_type("[[1], [2]].flatten()"), Ok(Ty::list(Ty::Int)));
        assert_eq!(checked_type("['a'].first()"), Ok(Ty::optional(Ty::String)));
        assert_eq!(checked_type("[1.5].sort()"), Ok(Ty::list(Ty::Double)));
        assert_eq!(checked_type("[1.5].reverse()"), Ok(Ty::list(Ty::Double)));
        assert_eq!(checked_type("'ab'.reverse()"), Ok(Ty::String));
        assert_eq!(
            checked_type("optional.unwrap([optional.of(1), optional.none()])"),
            Ok(Ty::list(Ty::Int))
        );
        assert!(checked_type("optional.unwrap([1])").is_err());
    }
}
