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
            P::AnyList | P::AnyMap | P::AnyEnum | P::Any | P::Dyn => Ty::Dyn,
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
    Overload { params, result }
}
