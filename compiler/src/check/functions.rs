//! Calls: CEL's macros (`has`, `all`, `exists`, `exists_one`, `map`, `filter`), its built-in
//! functions and methods with their overloads, and the `optional` namespace.

use super::expr::{ExprChecker, error_expr};
use crate::diagnostic::{Code, closest, did_you_mean};
use crate::ir::{self, ComprehensionKind, ExprKind, Func};
use crate::span::Span;
use crate::syntax::ast::{self, Ident};
use crate::types::Ty;
use crate::value::time::TimePart;
use crate::value::{EvalError, Value, ops};

use super::signature::{Function, Overload, P, Style, o};
use crate::library;
use P::*;

const TIME_ON_TIMESTAMP: &[Overload] = &[
    o(&[Timestamp], Int),
    o(&[Timestamp, Str], Int),
    o(&[Timestamp, Timezone], Int),
];
const TIME_ON_BOTH: &[Overload] = &[
    o(&[Timestamp], Int),
    o(&[Timestamp, Str], Int),
    o(&[Timestamp, Timezone], Int),
    o(&[Duration], Int),
];

const FUNCTIONS: &[Function] = &[
    Function {
        name: "size",
        style: Style::Both,
        func: Func::Size,
        overloads: &[
            o(&[Str], Int),
            o(&[Bytes], Int),
            o(&[AnyList], Int),
            o(&[AnyMap], Int),
        ],
    },
    Function {
        name: "contains",
        style: Style::Method,
        func: Func::Contains,
        overloads: &[o(&[Str, Str], Bool)],
    },
    Function {
        name: "startsWith",
        style: Style::Method,
        func: Func::StartsWith,
        overloads: &[o(&[Str, Str], Bool)],
    },
    Function {
        name: "endsWith",
        style: Style::Method,
        func: Func::EndsWith,
        overloads: &[o(&[Str, Str], Bool)],
    },
    Function {
        name: "matches",
        style: Style::Both,
        func: Func::MatchesDynamic,
        overloads: &[o(&[Str, Str], Bool)],
    },
    Function {
        name: "int",
        style: Style::Global,
        func: Func::ToInt,
        overloads: &[
            o(&[Int], Int),
            o(&[Uint], Int),
            o(&[Double], Int),
            o(&[Str], Int),
            o(&[Timestamp], Int),
            o(&[AnyEnum], Int),
        ],
    },
    Function {
        name: "uint",
        style: Style::Global,
        func: Func::ToUint,
        overloads: &[
            o(&[Uint], Uint),
            o(&[Int], Uint),
            o(&[Double], Uint),
            o(&[Str], Uint),
        ],
    },
    Function {
        name: "double",
        style: Style::Global,
        func: Func::ToDouble,
        overloads: &[
            o(&[Double], Double),
            o(&[Int], Double),
            o(&[Uint], Double),
            o(&[Str], Double),
            o(&[Money], Double),
        ],
    },
    Function {
        name: "string",
        style: Style::Global,
        func: Func::ToString,
        overloads: &[
            o(&[Str], Str),
            o(&[Bool], Str),
            o(&[Int], Str),
            o(&[Uint], Str),
            o(&[Double], Str),
            o(&[Bytes], Str),
            o(&[Timestamp], Str),
            o(&[Duration], Str),
            o(&[Money], Str),
            o(&[Timezone], Str),
            o(&[Ip], Str),
            o(&[Cidr], Str),
        ],
    },
    Function {
        name: "bytes",
        style: Style::Global,
        func: Func::ToBytes,
        overloads: &[o(&[Bytes], Bytes), o(&[Str], Bytes)],
    },
    Function {
        name: "bool",
        style: Style::Global,
        func: Func::ToBool,
        overloads: &[o(&[Bool], Bool), o(&[Str], Bool)],
    },
    Function {
        name: "timestamp",
        style: Style::Global,
        func: Func::ToTimestamp,
        overloads: &[
            o(&[Timestamp], Timestamp),
            o(&[Str], Timestamp),
            o(&[Int], Timestamp),
        ],
    },
    Function {
        name: "duration",
        style: Style::Global,
        func: Func::ToDuration,
        overloads: &[o(&[Duration], Duration), o(&[Str], Duration)],
    },
    Function {
        name: "dyn",
        style: Style::Global,
        func: Func::ToDyn,
        overloads: &[o(&[Any], Dyn)],
    },
    Function {
        name: "type",
        style: Style::Global,
        func: Func::TypeOf,
        overloads: &[o(&[Any], Type)],
    },
    Function {
        name: "getFullYear",
        style: Style::Method,
        func: Func::TimePart(TimePart::FullYear),
        overloads: TIME_ON_TIMESTAMP,
    },
    Function {
        name: "getMonth",
        style: Style::Method,
        func: Func::TimePart(TimePart::Month),
        overloads: TIME_ON_TIMESTAMP,
    },
    Function {
        name: "getDate",
        style: Style::Method,
        func: Func::TimePart(TimePart::Date),
        overloads: TIME_ON_TIMESTAMP,
    },
    Function {
        name: "getDayOfMonth",
        style: Style::Method,
        func: Func::TimePart(TimePart::DayOfMonth),
        overloads: TIME_ON_TIMESTAMP,
    },
    Function {
        name: "getDayOfWeek",
        style: Style::Method,
        func: Func::TimePart(TimePart::DayOfWeek),
        overloads: TIME_ON_TIMESTAMP,
    },
    Function {
        name: "getDayOfYear",
        style: Style::Method,
        func: Func::TimePart(TimePart::DayOfYear),
        overloads: TIME_ON_TIMESTAMP,
    },
    Function {
        name: "getHours",
        style: Style::Method,
        func: Func::TimePart(TimePart::Hours),
        overloads: TIME_ON_BOTH,
    },
    Function {
        name: "getMinutes",
        style: Style::Method,
        func: Func::TimePart(TimePart::Minutes),
        overloads: TIME_ON_BOTH,
    },
    Function {
        name: "getSeconds",
        style: Style::Method,
        func: Func::TimePart(TimePart::Seconds),
        overloads: TIME_ON_BOTH,
    },
    Function {
        name: "getMilliseconds",
        style: Style::Method,
        func: Func::TimePart(TimePart::Milliseconds),
        overloads: TIME_ON_BOTH,
    },
];

const MACROS: [&str; 10] = [
    "all",
    "exists",
    "exists_one",
    "existsOne",
    "map",
    "filter",
    "transformList",
    "transformMap",
    "optMap",
    "optFlatMap",
];
const OPTIONAL_METHODS: [&str; 4] = ["hasValue", "value", "orValue", "or"];

fn node(kind: ExprKind, ty: Ty, span: Span) -> ir::Expr {
    ir::Expr { kind, ty, span }
}

pub(super) fn call(
    ch: &mut ExprChecker<'_, '_>,
    target: Option<&ast::Expr>,
    func: &Ident,
    args: &[ast::Expr],
    span: Span,
) -> ir::Expr {
    let name = func.name.as_str();
    match target {
        None if name == "has" && !ch.ctx.mode.no_macros => has(ch, args, span),
        Some(range) if MACROS.contains(&name) && !ch.ctx.mode.no_macros => {
            comprehension(ch, range, func, args, span)
        }
        Some(ast::Expr {
            kind:
                ast::ExprKind::Ident {
                    name: ns,
                    global: false,
                },
            ..
        }) if ns == "optional" && !ch_resolves_optional(ch) => {
            optional_namespace(ch, func, args, span)
        }
        Some(receiver) if OPTIONAL_METHODS.contains(&name) => {
            // `optional.none()` keeps its free type here, so that `.or(optional.of(2))` and
            // `.orValue(2)` type by their argument.
            let r = ch.check_flexible(receiver, None);
            let mut e = optional_method(ch, r, func, args, span);
            e.ty = e.ty.settled();
            e
        }
        // As in cel-go, a qualified function name wins over a variable of its first part.
        Some(ns) if ExprChecker::dotted(ns).as_deref() == Some("cel") && !ch.ctx.mode.no_macros => {
            cel_namespace(ch, target, func, args, span)
        }
        Some(ns) if let Some(qualified) = library_name(ns, name) => {
            let checked: Vec<ir::Expr> = args.iter().map(|a| ch.check(a)).collect();
            let func = Ident {
                name: qualified,
                span: func.span,
            };
            builtin(ch, None, &func, checked, span)
        }
        Some(ns)
            if let Some(namespace) = ch.namespace(ns)
                && library::functions().any(|f| f.name.starts_with(&format!("{namespace}."))) =>
        {
            unknown_in_namespace(ch, &namespace, func, span)
        }
        _ => {
            let receiver = target.map(|t| ch.check(t));
            let checked: Vec<ir::Expr> = args.iter().map(|a| ch.check(a)).collect();
            builtin(ch, receiver, func, checked, span)
        }
    }
}

/// `cel.bind`, `cel.block`, and the references `cel.index(i)` and `cel.iterVar(i, j)`.
fn cel_namespace(
    ch: &mut ExprChecker<'_, '_>,
    target: Option<&ast::Expr>,
    func: &Ident,
    args: &[ast::Expr],
    span: Span,
) -> ir::Expr {
    let name = func.name.as_str();
    if let Some(e) = binding_macro(ch, name, args, span) {
        return e;
    }
    let call = ast::Expr {
        kind: ast::ExprKind::Call {
            target: target.map(|t| Box::new(t.clone())),
            func: func.clone(),
            args: args.to_vec(),
        },
        span,
    };
    if let Some(local) = block_reference(&call) {
        return ch.local_named(&local, span);
    }
    let (message, help) = match name {
        "bind" => (
            "`cel.bind` takes a name, a value and an expression".to_string(),
            "write `cel.bind(x, 2, x * x)`",
        ),
        "block" => (
            "`cel.block` takes a list of expressions and an expression".to_string(),
            "write `cel.block([a, cel.index(0) + 1], cel.index(1))`",
        ),
        "index" | "iterVar" | "accuVar" => (
            format!("`cel.{name}` takes non-negative int literals"),
            "write `cel.index(0)`, or `cel.iterVar(0, 0)` for a macro's variable",
        ),
        _ => (
            format!("unknown function `cel.{name}`"),
            "the cel namespace has `cel.bind` and `cel.block`",
        ),
    };
    let code = if matches!(name, "bind" | "block" | "index" | "iterVar" | "accuVar") {
        Code::WrongArity
    } else {
        Code::UnknownFunction
    };
    // An unknown function is its name's mistake; a misused one, the call's.
    let at = if code == Code::UnknownFunction {
        func.span
    } else {
        span
    };
    let d = ch.error(code, at, message).with_help(help);
    ch.report(d);
    error_expr(span)
}

/// `math.sqrt(x)`: a namespace of a library, with a function it does not have.
fn unknown_in_namespace(
    ch: &mut ExprChecker<'_, '_>,
    namespace: &str,
    func: &Ident,
    span: Span,
) -> ir::Expr {
    let prefix = format!("{namespace}.");
    let known: Vec<&str> = library::functions()
        .map(|f| f.name)
        .filter(|n| n.starts_with(&prefix))
        .collect();
    let written = format!("{prefix}{}", func.name);
    if ch.dynamic() {
        return ch.deferred_error(
            EvalError::NoSuchOverload(format!("unbound function `{written}`")),
            span,
        );
    }
    let mut d = ch
        .error(
            Code::UnknownFunction,
            func.span,
            format!("unknown function `{written}`"),
        )
        .with_label(format!("not in `{namespace}`"));
    let bare = known.iter().filter_map(|k| k.strip_prefix(&prefix));
    d.help = closest(&func.name, bare)
        .map(|c| format!("did you mean `{prefix}{c}`?"))
        .or_else(|| {
            let listed: Vec<String> = known.iter().take(6).map(|k| format!("`{k}`")).collect();
            let more = if known.len() > 6 { ", ..." } else { "" };
            Some(format!("`{namespace}` has {}{more}", listed.join(", ")))
        });
    ch.report(d);
    error_expr(span)
}

/// `ns.name` as the qualified name of a library function (`base64.encode`), when `ns` is a
/// plain dotted name, whatever else the name means here (as in cel-go, a variable `math` does
/// not hide `math.abs`).
fn library_name(ns: &ast::Expr, name: &str) -> Option<String> {
    let ns = ExprChecker::dotted(ns)?;
    let qualified = format!("{ns}.{name}");
    library::functions()
        .any(|f| f.name == qualified)
        .then_some(qualified)
}

/// Every function a call may name: the built-ins, then the extension libraries.
fn functions() -> impl Iterator<Item = &'static Function> {
    FUNCTIONS.iter().chain(library::functions())
}

/// `optional` is a namespace unless the program binds the name to something.
fn ch_resolves_optional(ch: &ExprChecker<'_, '_>) -> bool {
    ch.scope.bindings.iter().any(|(n, _)| n == "optional")
}

fn has(ch: &mut ExprChecker<'_, '_>, args: &[ast::Expr], span: Span) -> ir::Expr {
    let [arg] = args else {
        let d = ch
            .error(Code::WrongArity, span, "`has` takes one field selection")
            .with_help("write `has(record.field)`");
        ch.report(d);
        return error_expr(span);
    };
    let ast::ExprKind::Select {
        base,
        field,
        optional: false,
    } = &arg.kind
    else {
        // A bare field of the trigger: its selection is what `has` needs.
        let help = match (&arg.kind, ch.scope.trigger) {
            (ast::ExprKind::Ident { name, .. }, Some(trigger)) => {
                let event = ch
                    .ctx
                    .schema
                    .record(trigger)
                    .map_or("event", |r| r.name.as_str());
                format!("write `has({event}.{name})`")
            }
            _ => "write `has(record.field)` or `has(map.key)`".to_string(),
        };
        let d = ch
            .error(
                Code::TypeMismatch,
                arg.span,
                "`has` needs a field selection",
            )
            .with_help(help);
        ch.report(d);
        return error_expr(span);
    };
    let b = ch.check(base);
    match &b.ty {
        Ty::Record(_) => match ch.field_of(b, field, arg.span).kind {
            ExprKind::Field { base, slot } => {
                node(ExprKind::HasField { base, slot }, Ty::Bool, span)
            }
            _ => error_expr(span),
        },
        Ty::Map(_, _) | Ty::Dyn | Ty::Optional(_) => node(
            ExprKind::HasKey {
                base: Box::new(b),
                key: field.name.as_str().into(),
            },
            Ty::Bool,
            span,
        ),
        Ty::Error => error_expr(span),
        _ if ch.dynamic() => node(
            ExprKind::HasKey {
                base: Box::new(b),
                key: field.name.as_str().into(),
            },
            Ty::Bool,
            span,
        ),
        other => {
            let d = ch.error(
                Code::TypeMismatch,
                b.span,
                format!(
                    "`has` tests a field of a record or a map, and this is {}",
                    ch.show(other)
                ),
            );
            ch.report(d);
            error_expr(span)
        }
    }
}

/// A comprehension variable as written: a name, or `cel.iterVar(i, j)` of a `cel.block`.
fn variable_name(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ast::ExprKind::Ident {
            name,
            global: false,
        } => Some(name.clone()),
        _ => block_reference(e).filter(|r| r.starts_with("@it")),
    }
}

/// `cel.index(n)`, `cel.iterVar(i, j)` and `cel.accuVar(i, j)` as the names of the locals they
/// refer to (names no user can write).
fn block_reference(e: &ast::Expr) -> Option<String> {
    let ast::ExprKind::Call {
        target: Some(target),
        func,
        args,
    } = &e.kind
    else {
        return None;
    };
    if !matches!(&target.kind, ast::ExprKind::Ident { name, global: false } if name == "cel") {
        return None;
    }
    let number = |a: &ast::Expr| match a.kind {
        ast::ExprKind::Literal(ast::Literal::Int(n)) if n >= 0 => Some(n),
        _ => None,
    };
    match (func.name.as_str(), args.as_slice()) {
        ("index", [n]) => Some(format!("@index{}", number(n)?)),
        ("iterVar", [a, b]) => Some(format!("@it{}:{}", number(a)?, number(b)?)),
        ("accuVar", [a, b]) => Some(format!("@ac{}:{}", number(a)?, number(b)?)),
        _ => None,
    }
}

/// `cel.bind(x, value, body)` and `cel.block([e0, e1, ...], body)`, where `cel.index(i)` in
/// later expressions and the body is `ei`: both are local bindings.
fn binding_macro(
    ch: &mut ExprChecker<'_, '_>,
    name: &str,
    args: &[ast::Expr],
    span: Span,
) -> Option<ir::Expr> {
    match (name, args) {
        ("bind", [var, value, body]) => {
            let Some(var) = variable_name(var) else {
                let d = ch
                    .error(Code::WrongArity, var.span, "`cel.bind` binds a name")
                    .with_help("write `cel.bind(x, value, x + 1)`");
                ch.report(d);
                return Some(error_expr(span));
            };
            let value = ch.check(value);
            Some(let_node(ch, &var, value, body, span))
        }
        ("block", [list, body]) => {
            let ast::ExprKind::List(items) = &list.kind else {
                let d = ch
                    .error(
                        Code::TypeMismatch,
                        list.span,
                        "`cel.block` takes a list literal",
                    )
                    .with_help("write `cel.block([a, cel.index(0) + 1], cel.index(1))`");
                ch.report(d);
                return Some(error_expr(span));
            };
            Some(block(ch, items, 0, body, span))
        }
        _ => None,
    }
}

fn block(
    ch: &mut ExprChecker<'_, '_>,
    items: &[ast::Element],
    index: usize,
    body: &ast::Expr,
    span: Span,
) -> ir::Expr {
    let Some((first, rest)) = items.split_first() else {
        return ch.check(body);
    };
    let value = ch.check(&first.value);
    let ty = value.ty.clone();
    ch.with_local(&format!("@index{index}"), ty, |ch, var| {
        let inner = block(ch, rest, index + 1, body, span);
        let ty = inner.ty.clone();
        node(
            ExprKind::Let {
                var,
                value: Box::new(value),
                body: Box::new(inner),
            },
            ty,
            span,
        )
    })
}

fn let_node(
    ch: &mut ExprChecker<'_, '_>,
    var: &str,
    value: ir::Expr,
    body: &ast::Expr,
    span: Span,
) -> ir::Expr {
    let ty = value.ty.clone();
    ch.with_local(var, ty, |ch, index| {
        let body = ch.check(body);
        let ty = body.ty.clone();
        node(
            ExprKind::Let {
                var: index,
                value: Box::new(value),
                body: Box::new(body),
            },
            ty,
            span,
        )
    })
}

fn comprehension(
    ch: &mut ExprChecker<'_, '_>,
    range: &ast::Expr,
    func: &Ident,
    args: &[ast::Expr],
    span: Span,
) -> ir::Expr {
    use ComprehensionKind as K;
    let fname = func.name.as_str();
    // (kind, variables, has a predicate, has a transform)
    let shape = match (fname, args.len()) {
        ("all", 2) => Some((K::All, 1, true, false)),
        ("all", 3) => Some((K::All, 2, true, false)),
        ("exists", 2) => Some((K::Exists, 1, true, false)),
        ("exists", 3) => Some((K::Exists, 2, true, false)),
        ("exists_one" | "existsOne", 2) => Some((K::ExistsOne, 1, true, false)),
        ("exists_one" | "existsOne", 3) => Some((K::ExistsOne, 2, true, false)),
        ("map", 2) => Some((K::Map, 1, false, true)),
        ("map", 3) => Some((K::Map, 1, true, true)),
        ("filter", 2) => Some((K::Filter, 1, true, false)),
        ("transformList", 3) => Some((K::Map, 2, false, true)),
        ("transformList", 4) => Some((K::Map, 2, true, true)),
        ("transformMap", 3) => Some((K::TransformMap, 2, false, true)),
        ("transformMap", 4) => Some((K::TransformMap, 2, true, true)),
        ("optMap", 2) => Some((K::OptionalMap, 1, false, true)),
        ("optFlatMap", 2) => Some((K::OptionalFlatMap, 1, false, true)),
        _ => None,
    };
    let names: Option<Vec<String>> = shape.and_then(|(_, vars, _, _)| {
        args.get(..vars)
            .map(|vs| vs.iter().map(variable_name).collect::<Option<Vec<_>>>())?
    });
    let (Some((kind, vars, has_predicate, has_transform)), Some(names)) = (shape, names) else {
        let usage = match fname {
            "map" => "`list.map(x, f)` or `list.map(x, p, f)`",
            "transformList" | "transformMap" => {
                "two variables, an optional filter and a transform, as in `m.transformMap(k, v, v + 1)`"
            }
            "optMap" | "optFlatMap" => "a variable and a transform, as in `o.optMap(x, x + 1)`",
            _ => "a variable and a predicate, as in `list.all(x, x > 0)`",
        };
        // Point at the argument that should have been a variable, when that is the mistake.
        let (at, label) = match shape
            .and_then(|(_, vars, _, _)| args.iter().take(vars).find(|a| variable_name(a).is_none()))
        {
            Some(arg) => (arg.span, "not a variable name"),
            None => (span, "here"),
        };
        let d = ch
            .error(Code::WrongArity, at, format!("`{fname}` takes {usage}"))
            .with_label(label);
        ch.report(d);
        return error_expr(span);
    };
    if let [a, b] = names.as_slice()
        && a == b
    {
        let d = ch
            .error(
                Code::Duplicate,
                args.get(1).map_or(span, |a| a.span),
                format!("`{fname}` binds `{a}` twice"),
            )
            .with_help("give the index (or key) and the value two names, as in `(i, v)`");
        ch.report(d);
        return error_expr(span);
    }
    if let Some(reserved) = names.iter().find(|n| n.as_str() == "__result__") {
        let d = ch.error(
            Code::Duplicate,
            span,
            format!("`{reserved}` is the macros' own accumulator and cannot be a variable"),
        );
        ch.report(d);
        return error_expr(span);
    }
    let r = ch.check(range);
    let optional_range = matches!(kind, K::OptionalMap | K::OptionalFlatMap);
    // The variables' types: (first, second) for this range.
    let var_types = match (&r.ty, vars, optional_range) {
        (Ty::Optional(inner), _, true) => Some((inner.as_ref().clone(), Ty::Dyn)),
        (Ty::List(e), 1, false) => Some((e.as_ref().clone(), Ty::Dyn)),
        (Ty::List(e), _, false) => Some((Ty::Int, e.as_ref().clone())),
        (Ty::Map(k, _), 1, false) => Some((k.as_ref().clone(), Ty::Dyn)),
        (Ty::Map(k, v), _, false) => Some((k.as_ref().clone(), v.as_ref().clone())),
        (Ty::Dyn, _, _) => Some((Ty::Dyn, Ty::Dyn)),
        (Ty::Error, _, _) => Some((Ty::Error, Ty::Error)),
        _ if ch.dynamic() => Some((Ty::Dyn, Ty::Dyn)),
        _ => None,
    };
    let Some((first_ty, second_ty)) = var_types else {
        let what = if optional_range {
            "an optional value"
        } else {
            "a list or a map"
        };
        let d = ch.error(
            Code::TypeMismatch,
            r.span,
            format!(
                "`{fname}` ranges over {what}, and this is {}",
                ch.show(&r.ty)
            ),
        );
        ch.report(d);
        return error_expr(span);
    };
    let elem_for_result = match (&r.ty, vars) {
        (Ty::List(e), _) => e.as_ref().clone(),
        _ => first_ty.clone(),
    };
    let first_name = names.first().cloned().unwrap_or_default();
    let second_name = names.get(1).cloned();
    let rest = args.get(vars..).unwrap_or(&[]);
    let (index, index2, predicate, transform) =
        ch.with_local(&first_name, first_ty.clone(), |ch, index| {
            let body = |ch: &mut ExprChecker<'_, '_>| {
                let (predicate, transform) = match (has_predicate, has_transform, rest) {
                    (true, true, [p, t]) => (Some(ch.check(p)), Some(ch.check(t))),
                    (true, false, [p]) => (Some(ch.check(p)), None),
                    (false, true, [t]) => (None, Some(ch.check(t))),
                    _ => (None, None),
                };
                if let Some(p) = &predicate {
                    ch.expect_bool(p, &format!("the predicate of `{fname}`"));
                }
                (predicate, transform)
            };
            match &second_name {
                Some(name) => ch.with_local(name, second_ty.clone(), |ch, index2| {
                    let (p, t) = body(ch);
                    (index, Some(index2), p, t)
                }),
                None => {
                    let (p, t) = body(ch);
                    (index, None, p, t)
                }
            }
        });
    let transform_ty = transform.as_ref().map_or(Ty::Dyn, |t| t.ty.clone());
    let ty = match kind {
        K::Map => Ty::list(transform_ty),
        K::TransformMap => Ty::map(first_ty, transform_ty),
        K::Filter => Ty::list(elem_for_result),
        K::OptionalMap => Ty::optional(transform_ty),
        K::OptionalFlatMap => match transform_ty {
            t @ (Ty::Optional(_) | Ty::Dyn | Ty::Error) => t,
            other => {
                let d = ch.error(
                    Code::TypeMismatch,
                    span,
                    format!(
                        "`optFlatMap` needs a transform that gives an optional, and this gives {}",
                        ch.show(&other)
                    ),
                ).with_help("use `optMap` for a plain value");
                ch.report(d);
                return error_expr(span);
            }
        },
        K::All | K::Exists | K::ExistsOne => Ty::Bool,
    };
    node(
        ExprKind::Comprehension(Box::new(ir::Comprehension {
            kind,
            var: index,
            var2: index2,
            range: r,
            predicate,
            transform,
        })),
        ty,
        span,
    )
}

fn optional_namespace(
    ch: &mut ExprChecker<'_, '_>,
    func: &Ident,
    args: &[ast::Expr],
    span: Span,
) -> ir::Expr {
    match (func.name.as_str(), args) {
        (name @ ("of" | "ofNonZeroValue"), [value]) => {
            let v = ch.check(value);
            let ty = Ty::optional(v.ty.clone());
            let func = if name == "of" {
                Func::OptionalOf
            } else {
                Func::OptionalOfNonZeroValue
            };
            node(
                ExprKind::Call {
                    func,
                    args: vec![v],
                },
                ty,
                span,
            )
        }
        ("none", []) => node(
            ExprKind::Call {
                func: Func::OptionalNone,
                args: Vec::new(),
            },
            Ty::optional(Ty::Free),
            span,
        ),
        // The libraries' functions of the namespace (`optional.unwrap`).
        (name, _) if library::functions().any(|f| f.name == format!("optional.{name}")) => {
            let checked: Vec<ir::Expr> = args.iter().map(|a| ch.check(a)).collect();
            let qualified = Ident {
                name: format!("optional.{name}"),
                span: func.span,
            };
            builtin(ch, None, &qualified, checked, span)
        }
        (name, _) => {
            let mut d = ch
                .error(
                    Code::UnknownFunction,
                    func.span,
                    format!("unknown function `optional.{name}`"),
                )
                .with_help("the optional namespace has `optional.of(x)`, `optional.ofNonZeroValue(x)`, `optional.none()` and `optional.unwrap(list)`");
            if let Some(s) = did_you_mean(name, ["of", "ofNonZeroValue", "none", "unwrap"]) {
                d.help = Some(s);
            }
            ch.report(d);
            error_expr(span)
        }
    }
}

fn optional_method(
    ch: &mut ExprChecker<'_, '_>,
    receiver: ir::Expr,
    func: &Ident,
    args: &[ast::Expr],
    span: Span,
) -> ir::Expr {
    let inner = match &receiver.ty {
        Ty::Optional(inner) => inner.as_ref().clone(),
        Ty::Dyn => Ty::Dyn,
        Ty::Error => return error_expr(span),
        _ if ch.dynamic() => Ty::Dyn,
        other => {
            let d = ch
                .error(
                    Code::NoOverload,
                    func.span,
                    format!(
                        "`{}` is a method of optional values, and this is {}",
                        func.name,
                        ch.show(other)
                    ),
                )
                .with_label("not an optional");
            ch.report(d);
            return error_expr(span);
        }
    };
    match (func.name.as_str(), args) {
        ("hasValue", []) => node(
            ExprKind::Call {
                func: Func::OptionalHasValue,
                args: vec![receiver],
            },
            Ty::Bool,
            span,
        ),
        ("value", []) => node(
            ExprKind::Call {
                func: Func::OptionalValue,
                args: vec![receiver],
            },
            inner,
            span,
        ),
        ("orValue", [default]) => {
            let d = ch.check(default);
            if !inner.accepts(&d.ty) && !ch.dynamic() {
                let diag = ch.error(
                    Code::TypeMismatch,
                    d.span,
                    format!(
                        "the default must be {}, like the optional's value, not {}",
                        ch.show(&inner),
                        ch.show(&d.ty)
                    ),
                );
                ch.report(diag);
            }
            let ty = inner.join(&d.ty);
            node(
                ExprKind::Call {
                    func: Func::OptionalOrValue,
                    args: vec![receiver, d],
                },
                ty,
                span,
            )
        }
        ("or", [other]) => {
            let o = ch.check_flexible(other, None);
            let ty = match (&receiver.ty, &o.ty) {
                (a, b) if a == b => a.clone(),
                (Ty::Optional(a), Ty::Optional(b)) if a.accepts(b) || b.accepts(a) => {
                    Ty::optional(a.join(b))
                }
                (a, b) if a.is_dynamic() || b.is_dynamic() || ch.dynamic() => Ty::optional(Ty::Dyn),
                (Ty::Optional(a), Ty::Optional(b)) => {
                    let diag = ch.error(
                        Code::TypeMismatch,
                        o.span,
                        format!(
                            "`or` joins optionals of one type: this is {}, the first holds {}",
                            ch.show(&Ty::optional(b.as_ref().clone())),
                            ch.show(a)
                        ),
                    );
                    ch.report(diag);
                    return error_expr(span);
                }
                (_, b) => {
                    let diag = ch
                        .error(
                            Code::TypeMismatch,
                            o.span,
                            format!("`or` takes another optional, not {}", ch.show(b)),
                        )
                        .with_help("use `orValue(x)` for a plain default");
                    ch.report(diag);
                    return error_expr(span);
                }
            };
            node(
                ExprKind::Call {
                    func: Func::OptionalOr,
                    args: vec![receiver, o],
                },
                ty,
                span,
            )
        }
        (name, _) => {
            let d = ch.error(
                Code::WrongArity,
                span,
                format!(
                    "`{name}` takes {}",
                    if name == "orValue" || name == "or" {
                        "one argument"
                    } else {
                        "no arguments"
                    }
                ),
            );
            ch.report(d);
            error_expr(span)
        }
    }
}

fn builtin(
    ch: &mut ExprChecker<'_, '_>,
    receiver: Option<ir::Expr>,
    func: &Ident,
    args: Vec<ir::Expr>,
    span: Span,
) -> ir::Expr {
    let name = func.name.as_str();
    if let Some(i) = ch.ctx.mode.functions.iter().position(|f| f.name == name) {
        return declared(ch, i, receiver, func, args, span);
    }
    let Some(f) = functions().find(|f| f.name == name) else {
        // `foo.bar(1)` with `foo` unknown is one mistake, already reported.
        if receiver.as_ref().is_some_and(|r| r.ty == Ty::Error) {
            return error_expr(span);
        }
        if ch.dynamic() {
            return ch.deferred_error(
                EvalError::NoSuchOverload(format!("unbound function `{name}`")),
                span,
            );
        }
        let known = functions()
            .map(|f| f.name)
            .chain(MACROS)
            .chain(OPTIONAL_METHODS)
            .chain(["has"]);
        let mut d = ch
            .error(
                Code::UnknownFunction,
                func.span,
                format!("unknown function `{name}`"),
            )
            .with_label("not a built-in function");
        d.help = did_you_mean(name, known);
        ch.report(d);
        return error_expr(span);
    };
    let is_method = receiver.is_some();
    let wrong_style = match f.style {
        Style::Global => is_method,
        Style::Method => !is_method,
        Style::Both => false,
    };
    if wrong_style && ch.dynamic() {
        return ch.deferred_error(
            EvalError::NoSuchOverload(format!("unbound function `{name}`")),
            span,
        );
    }
    if is_method && f.style == Style::Global {
        let d = ch
            .error(
                Code::NoOverload,
                func.span,
                format!("`{name}` is a function, not a method"),
            )
            .with_help(format!("write `{name}(x)`"));
        ch.report(d);
        return error_expr(span);
    }
    if !is_method && f.style == Style::Method {
        let d = ch
            .error(Code::NoOverload, func.span, format!("`{name}` is a method"))
            .with_help(format!("call it on a value, as in `x.{name}(...)`"));
        ch.report(d);
        return error_expr(span);
    }
    let all: Vec<ir::Expr> = receiver.into_iter().chain(args).collect();
    let types: Vec<Ty> = all.iter().map(|a| a.ty.clone()).collect();
    let matching: Vec<&Overload> = f.overloads.iter().filter(|o| o.fits(&types)).collect();
    if all.iter().any(|a| a.ty == Ty::Error) {
        return error_expr(span);
    }
    let ty = match matching.as_slice() {
        [] if ch.dynamic() && f.overloads.iter().any(|o| o.params.len() == all.len()) => Ty::Dyn,
        [] if ch.dynamic() => {
            return ch.deferred_error(
                EvalError::NoSuchOverload(format!(
                    "`{name}` does not take {} arguments",
                    all.len()
                )),
                span,
            );
        }
        [] => {
            let given: Vec<String> = all.iter().map(|a| ch.show(&a.ty)).collect();
            let shapes: Vec<String> = f.overloads.iter().map(Overload::shape).collect();
            let message = if f.overloads.iter().all(|o| !o.takes(all.len())) {
                (
                    Code::WrongArity,
                    format!(
                        "`{name}` does not take {} argument{}",
                        all.len() - usize::from(is_method),
                        if all.len() - usize::from(is_method) == 1 {
                            ""
                        } else {
                            "s"
                        }
                    ),
                )
            } else {
                (
                    Code::NoOverload,
                    format!("no `{name}` for ({})", given.join(", ")),
                )
            };
            let d = ch
                .error(message.0, span, message.1)
                .with_help(format!("`{name}` takes {}", shapes.join(" or ")));
            ch.report(d);
            return error_expr(span);
        }
        [one, rest @ ..] => {
            let ty = one.result_ty(&types);
            if rest.iter().all(|o| o.result_ty(&types) == ty) {
                ty
            } else {
                Ty::Dyn
            }
        }
    };
    if f.func == Func::MatchesDynamic {
        return matches(ch, all, span);
    }
    node(
        ExprKind::Call {
            func: f.func,
            args: all,
        },
        ty,
        span,
    )
}

/// A call of a function the host declared: the first overload whose parameters the arguments
/// fit, its type parameters bound by them (several bindings of one parameter join, so
/// `sort(tuple(dyn(1), 2u))` binds `T` to `dyn`).
fn declared(
    ch: &mut ExprChecker<'_, '_>,
    index: usize,
    receiver: Option<ir::Expr>,
    func: &Ident,
    args: Vec<ir::Expr>,
    span: Span,
) -> ir::Expr {
    let method = receiver.is_some();
    let all: Vec<ir::Expr> = receiver.into_iter().chain(args).collect();
    if all.iter().any(|a| a.ty == Ty::Error) {
        return error_expr(span);
    }
    let overloads = ch
        .ctx
        .mode
        .functions
        .get(index)
        .map(|f| f.overloads.clone())
        .unwrap_or_default();
    let found = overloads.iter().find_map(|o| {
        if o.method != method || o.params.len() != all.len() {
            return None;
        }
        let mut bound = std::collections::HashMap::new();
        o.params
            .iter()
            .zip(&all)
            .all(|(p, a)| unify(p, &a.ty, &mut bound))
            .then(|| substitute(&o.result, &bound))
    });
    match found {
        Some(ty) => node(
            ExprKind::Call {
                func: Func::Declared(index as u32),
                args: all,
            },
            ty,
            span,
        ),
        None if ch.dynamic() => node(
            ExprKind::Call {
                func: Func::Declared(index as u32),
                args: all,
            },
            Ty::Dyn,
            span,
        ),
        None => {
            let given: Vec<String> = all.iter().map(|a| ch.show(&a.ty)).collect();
            let d = ch.error(
                Code::NoOverload,
                span,
                format!("no `{}` for ({})", func.name, given.join(", ")),
            );
            ch.report(d);
            error_expr(span)
        }
    }
}

/// Whether an argument of type `arg` fits the parameter `param`, binding type parameters.
fn unify(param: &Ty, arg: &Ty, bound: &mut std::collections::HashMap<String, Ty>) -> bool {
    match (param, arg) {
        (Ty::Param(name), _) => {
            let joined = match bound.get(name.as_ref()) {
                Some(previous) => previous.join(arg),
                None => arg.clone(),
            };
            bound.insert(name.to_string(), joined);
            true
        }
        (_, a) if a.is_dynamic() => true,
        (Ty::List(p), Ty::List(a)) | (Ty::Optional(p), Ty::Optional(a)) => unify(p, a, bound),
        (Ty::Map(pk, pv), Ty::Map(ak, av)) => unify(pk, ak, bound) && unify(pv, av, bound),
        (Ty::Abstract(p), Ty::Abstract(a)) => {
            p.name == a.name
                && p.args.len() == a.args.len()
                && p.args.iter().zip(&a.args).all(|(p, a)| unify(p, a, bound))
        }
        (p, a) => p.accepts(a),
    }
}

fn substitute(ty: &Ty, bound: &std::collections::HashMap<String, Ty>) -> Ty {
    match ty {
        Ty::Param(name) => bound.get(name.as_ref()).cloned().unwrap_or(Ty::Dyn),
        Ty::List(e) => Ty::list(substitute(e, bound)),
        Ty::Optional(e) => Ty::optional(substitute(e, bound)),
        Ty::Map(k, v) => Ty::map(substitute(k, bound), substitute(v, bound)),
        Ty::Abstract(a) => Ty::abstract_of(
            a.name.clone(),
            a.args.iter().map(|x| substitute(x, bound)).collect(),
        ),
        other => other.clone(),
    }
}

/// `s.matches(p)`: a constant pattern is checked now and compiled once at load.
fn matches(ch: &mut ExprChecker<'_, '_>, mut args: Vec<ir::Expr>, span: Span) -> ir::Expr {
    let pattern_expr = args.pop().map(|p| crate::fold::fold(p, &ch.ctx.schema));
    let arg = args.pop();
    match (arg, pattern_expr) {
        (Some(arg), Some(p)) => {
            match p.as_const() {
                Some(Value::String(pattern)) => {
                    if let Err(e) = ops::compile_regex(pattern) {
                        let d = ch
                        .error(Code::BadRegex, p.span, "invalid regular expression")
                        .with_label(regex_reason(&e.to_string()))
                        .with_help("patterns use RE2 syntax; there are no backreferences or look-arounds");
                        ch.report(d);
                        return error_expr(span);
                    }
                    let pattern = pattern.clone();
                    node(
                        ExprKind::Matches {
                            arg: Box::new(arg),
                            pattern,
                        },
                        Ty::Bool,
                        span,
                    )
                }
                _ => node(
                    ExprKind::Call {
                        func: Func::MatchesDynamic,
                        args: vec![arg, p],
                    },
                    Ty::Bool,
                    span,
                ),
            }
        }
        _ => error_expr(span),
    }
}

/// The reason in a regex error, without the pattern the error message repeats around it.
fn regex_reason(message: &str) -> String {
    message
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or(message)
        .to_string()
}
