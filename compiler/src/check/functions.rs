//! Calls: CEL's macros (`has`, `all`, `exists`, `exists_one`, `map`, `filter`), its built-in
//! functions and methods with their overloads, and the `optional` namespace.

use super::expr::{ExprChecker, error_expr};
use crate::diagnostic::{Code, did_you_mean};
use crate::ir::{self, ComprehensionKind, ExprKind, Func};
use crate::span::Span;
use crate::syntax::ast::{self, Ident};
use crate::types::Ty;
use crate::value::time::TimePart;
use crate::value::{Value, ops};

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

const MACROS: [&str; 5] = ["all", "exists", "exists_one", "map", "filter"];
const OPTIONAL_METHODS: [&str; 3] = ["hasValue", "value", "orValue"];

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
            let r = ch.check(receiver);
            optional_method(ch, r, func, args, span)
        }
        Some(ns) if let Some(qualified) = library_name(ch, ns, name) => {
            let checked: Vec<ir::Expr> = args.iter().map(|a| ch.check(a)).collect();
            let func = Ident {
                name: qualified,
                span: func.span,
            };
            builtin(ch, None, &func, checked, span)
        }
        _ => {
            let receiver = target.map(|t| ch.check(t));
            let checked: Vec<ir::Expr> = args.iter().map(|a| ch.check(a)).collect();
            builtin(ch, receiver, func, checked, span)
        }
    }
}

/// `ns.name` as the qualified name of a library function (`base64.encode`), when `ns` is a
/// plain dotted name that means nothing else here.
fn library_name(ch: &ExprChecker<'_, '_>, ns: &ast::Expr, name: &str) -> Option<String> {
    let ns = ch.namespace(ns)?;
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
            .with_help("write `has(subscriber.household)`");
        ch.report(d);
        return error_expr(span);
    };
    let ast::ExprKind::Select { base, field } = &arg.kind else {
        let d = ch
            .error(
                Code::TypeMismatch,
                arg.span,
                "`has` needs a field selection",
            )
            .with_help("write `has(subscriber.household)` or `has(m.key)`");
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
        Ty::Map(_, _) | Ty::Dyn => node(
            ExprKind::HasKey {
                base: Box::new(b),
                key: field.name.as_str().into(),
            },
            Ty::Bool,
            span,
        ),
        Ty::Error => error_expr(span),
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

fn comprehension(
    ch: &mut ExprChecker<'_, '_>,
    range: &ast::Expr,
    func: &Ident,
    args: &[ast::Expr],
    span: Span,
) -> ir::Expr {
    let kind = match func.name.as_str() {
        "all" => ComprehensionKind::All,
        "exists" => ComprehensionKind::Exists,
        "exists_one" => ComprehensionKind::ExistsOne,
        "map" => ComprehensionKind::Map,
        _ => ComprehensionKind::Filter,
    };
    let arity_ok = match kind {
        ComprehensionKind::Map => args.len() == 2 || args.len() == 3,
        _ => args.len() == 2,
    };
    let var = match args.first().map(|a| &a.kind) {
        Some(ast::ExprKind::Ident {
            name,
            global: false,
        }) if arity_ok => name.clone(),
        _ => {
            let usage = match kind {
                ComprehensionKind::Map => "`list.map(x, f)` or `list.map(x, p, f)`",
                _ => "a variable and a predicate, as in `list.all(x, x > 0)`",
            };
            let d = ch
                .error(
                    Code::WrongArity,
                    span,
                    format!("`{}` takes {usage}", func.name),
                )
                .with_label("here");
            ch.report(d);
            return error_expr(span);
        }
    };
    let r = ch.check(range);
    let elem = match &r.ty {
        Ty::List(e) => e.as_ref().clone(),
        Ty::Map(k, _) => k.as_ref().clone(),
        Ty::Dyn => Ty::Dyn,
        Ty::Error => Ty::Error,
        other => {
            let d = ch.error(
                Code::TypeMismatch,
                r.span,
                format!(
                    "`{}` ranges over a list or a map, and this is {}",
                    func.name,
                    ch.show(other)
                ),
            );
            ch.report(d);
            Ty::Error
        }
    };
    let elem_for_result = elem.clone();
    let (index, predicate, transform) = ch.with_local(&var, elem, |ch, index| {
        let rest = args.get(1..).unwrap_or(&[]);
        let (predicate, transform) = match (kind, rest) {
            (ComprehensionKind::Map, [t]) => (None, Some(ch.check(t))),
            (ComprehensionKind::Map, [p, t]) => (Some(ch.check(p)), Some(ch.check(t))),
            (_, [p]) => (Some(ch.check(p)), None),
            _ => (None, None),
        };
        if let Some(p) = &predicate {
            ch.expect_bool(p, &format!("the predicate of `{}`", func.name));
        }
        (index, predicate, transform)
    });
    let ty = match kind {
        ComprehensionKind::Map => Ty::list(transform.as_ref().map_or(Ty::Dyn, |t| t.ty.clone())),
        ComprehensionKind::Filter => Ty::list(elem_for_result),
        _ => Ty::Bool,
    };
    node(
        ExprKind::Comprehension(Box::new(ir::Comprehension {
            kind,
            var: index,
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
        ("of", [value]) => {
            let v = ch.check(value);
            let ty = Ty::optional(v.ty.clone());
            node(
                ExprKind::Call {
                    func: Func::OptionalOf,
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
            Ty::optional(Ty::Dyn),
            span,
        ),
        (name, _) => {
            let mut d = ch
                .error(
                    Code::UnknownFunction,
                    func.span,
                    format!("unknown function `optional.{name}`"),
                )
                .with_help("the optional namespace has `optional.of(x)` and `optional.none()`");
            if let Some(s) = did_you_mean(name, ["of", "none"]) {
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
            if !inner.accepts(&d.ty) {
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
        (name, _) => {
            let d = ch.error(
                Code::WrongArity,
                span,
                format!(
                    "`{name}` takes {}",
                    if name == "orValue" {
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
    let Some(f) = functions().find(|f| f.name == name) else {
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
    let matching: Vec<&Overload> = f
        .overloads
        .iter()
        .filter(|o| {
            o.params.len() == all.len() && o.params.iter().zip(&all).all(|(p, a)| p.accepts(&a.ty))
        })
        .collect();
    if all.iter().any(|a| a.ty == Ty::Error) {
        return error_expr(span);
    }
    let ty = match matching.as_slice() {
        [] => {
            let given: Vec<String> = all.iter().map(|a| ch.show(&a.ty)).collect();
            let shapes: Vec<String> = f
                .overloads
                .iter()
                .map(|o| {
                    format!(
                        "({})",
                        o.params
                            .iter()
                            .map(|p| p.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect();
            let message = if f.overloads.iter().all(|o| o.params.len() != all.len()) {
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
        [one, rest @ ..] if rest.iter().all(|o| o.result == one.result) => one.result.ty(),
        _ => Ty::Dyn,
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
