//! Overload signatures: the parameter kinds a function accepts and the type it returns, shared
//! by the built-in functions and the extension libraries.

use crate::ir::Func;
use crate::types::Ty;

/// A parameter kind in an overload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum P {
    Int,
    Uint,
    Double,
    Bool,
    Str,
    Bytes,
    Timestamp,
    Duration,
    Money,
    Timezone,
    StrList,
    AnyList,
    AnyMap,
    AnyEnum,
    Any,
    Dyn,
    Type,
    /// An int, a uint or a double. As a result: the arguments' common type (a list argument
    /// contributes its element type), so `int` when every argument is an int, and `dyn` when
    /// kinds mix, because the value is then one of the arguments with its own kind.
    Num,
    /// A list of numbers.
    NumList,
    Ip,
    Cidr,
    /// Results that follow the first argument, a list: the same list type, an optional of its
    /// element, or the list one level flatter.
    SameList,
    OptElemOf,
    Flattened,
    /// A list of optionals, and as a result the list of their values.
    OptList,
}

impl P {
    pub(crate) fn accepts(self, ty: &Ty) -> bool {
        if ty.is_dynamic() {
            return true;
        }
        match self {
            P::Int => *ty == Ty::Int,
            P::Uint => *ty == Ty::Uint,
            P::Double => *ty == Ty::Double,
            P::Bool => *ty == Ty::Bool,
            P::Str => *ty == Ty::String,
            P::Bytes => *ty == Ty::Bytes,
            P::Timestamp => *ty == Ty::Timestamp,
            P::Duration => *ty == Ty::Duration,
            P::Money => *ty == Ty::Money,
            P::Timezone => *ty == Ty::Timezone,
            P::StrList => matches!(ty, Ty::List(e) if e.is_dynamic() || **e == Ty::String),
            P::AnyList => matches!(ty, Ty::List(_)),
            P::AnyMap => matches!(ty, Ty::Map(_, _)),
            P::AnyEnum => matches!(ty, Ty::Enum(_)),
            P::Any => true,
            P::Dyn | P::Type => false,
            P::Num => ty.is_numeric(),
            P::NumList => matches!(ty, Ty::List(e) if e.is_dynamic() || e.is_numeric()),
            P::Ip => *ty == Ty::Ip,
            P::Cidr => *ty == Ty::Cidr,
            P::SameList | P::OptElemOf | P::Flattened => false,
            P::OptList => {
                matches!(ty, Ty::List(e) if e.is_dynamic() || matches!(**e, Ty::Optional(_)))
            }
        }
    }

    pub(crate) fn ty(self) -> Ty {
        match self {
            P::Int => Ty::Int,
            P::Uint => Ty::Uint,
            P::Double => Ty::Double,
            P::Bool => Ty::Bool,
            P::Str => Ty::String,
            P::Bytes => Ty::Bytes,
            P::Timestamp => Ty::Timestamp,
            P::Duration => Ty::Duration,
            P::Money => Ty::Money,
            P::Timezone => Ty::Timezone,
            P::StrList => Ty::list(Ty::String),
            P::Type => Ty::Type,
            P::AnyList | P::AnyMap | P::AnyEnum | P::Any | P::Dyn | P::Num => Ty::Dyn,
            P::NumList => Ty::list(Ty::Dyn),
            P::Ip => Ty::Ip,
            P::Cidr => Ty::Cidr,
            P::SameList | P::Flattened => Ty::list(Ty::Dyn),
            P::OptElemOf => Ty::optional(Ty::Dyn),
            P::OptList => Ty::list(Ty::Dyn),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            P::Int => "int",
            P::Uint => "uint",
            P::Double => "double",
            P::Bool => "bool",
            P::Str => "string",
            P::Bytes => "bytes",
            P::Timestamp => "timestamp",
            P::Duration => "duration",
            P::Money => "money",
            P::Timezone => "timezone",
            P::StrList => "list<string>",
            P::AnyList => "list",
            P::AnyMap => "map",
            P::AnyEnum => "enum",
            P::Any | P::Dyn => "dyn",
            P::Type => "type",
            P::Num => "number",
            P::NumList => "list<number>",
            P::Ip => "net.IP",
            P::Cidr => "net.CIDR",
            P::SameList | P::Flattened => "list",
            P::OptElemOf => "dyn",
            P::OptList => "list<optional>",
        }
    }
}

/// How a function is called: on a receiver (`s.size()`), as a global (`size(s)`), or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Method,
    Global,
    Both,
}

pub(crate) struct Overload {
    pub params: &'static [P],
    pub result: P,
    /// The last parameter repeats: it takes one or more arguments of its kind.
    pub variadic: bool,
}

impl Overload {
    /// Whether arguments of these types fit this overload.
    pub(crate) fn fits(&self, args: &[Ty]) -> bool {
        self.takes(args.len())
            && args
                .iter()
                .enumerate()
                .all(|(i, a)| self.param(i).is_some_and(|p| p.accepts(a)))
    }

    /// Whether this overload takes `n` arguments, whatever their types.
    pub(crate) fn takes(&self, n: usize) -> bool {
        if self.variadic {
            n >= self.params.len()
        } else {
            n == self.params.len()
        }
    }

    /// The type of a call with arguments of these types, which fit this overload.
    pub(crate) fn result_ty(&self, args: &[Ty]) -> Ty {
        let elem = |t: Option<&Ty>| match t {
            Some(Ty::List(e)) => e.as_ref().clone(),
            _ => Ty::Dyn,
        };
        match self.result {
            P::SameList => {
                return match args.first() {
                    Some(t @ Ty::List(_)) => t.clone(),
                    _ => Ty::list(Ty::Dyn),
                };
            }
            P::OptElemOf => return Ty::optional(elem(args.first())),
            P::Flattened => {
                let inner = elem(args.first());
                return Ty::list(match inner {
                    Ty::List(e) => *e,
                    _ => Ty::Dyn,
                });
            }
            P::OptList => {
                return Ty::list(match elem(args.first()) {
                    Ty::Optional(inner) => *inner,
                    _ => Ty::Dyn,
                });
            }
            P::Num => {}
            other => return other.ty(),
        }
        args.iter()
            .map(|a| match a {
                Ty::List(e) => e.as_ref().clone(),
                other => other.clone(),
            })
            .reduce(|a, b| a.join(&b))
            .unwrap_or(Ty::Dyn)
    }

    /// The parameter kinds as a help text shows them: `(int, string)`, `(number, ...)`.
    pub(crate) fn shape(&self) -> String {
        let mut names: Vec<&str> = self.params.iter().map(|p| p.name()).collect();
        if self.variadic {
            names.push("...");
        }
        format!("({})", names.join(", "))
    }

    /// The kind of the `i`th argument; past the end, the repeated one.
    fn param(&self, i: usize) -> Option<P> {
        let repeated = || self.params.last().filter(|_| self.variadic);
        self.params.get(i).or_else(repeated).copied()
    }
}

pub(crate) struct Function {
    /// The name as written; a library's global functions carry their namespace
    /// (`base64.encode`).
    pub name: &'static str,
    pub style: Style,
    pub func: Func,
    pub overloads: &'static [Overload],
}

pub(crate) const fn o(params: &'static [P], result: P) -> Overload {
    Overload {
        params,
        result,
        variadic: false,
    }
}

/// An overload whose last parameter repeats (`math.greatest(1, 2, 3)`).
pub(crate) const fn variadic(params: &'static [P], result: P) -> Overload {
    Overload {
        params,
        result,
        variadic: true,
    }
}
