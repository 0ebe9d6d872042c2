//! The static types of the Offer language: CEL's types plus money, timezone, enums and records.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Index of an enum in [`crate::schema::Schema::enums`].
pub type EnumId = u32;
/// Index of a record (profile, event or nested record) in [`crate::schema::Schema::records`].
pub type RecordId = u32;

/// A static type. `Dyn` is CEL's `dyn`: checked at run time. `Error` marks an expression whose
/// type could not be determined because a diagnostic was already reported for it; it unifies with
/// everything so that one mistake produces one diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ty {
    Null,
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Timestamp,
    Duration,
    Money,
    Timezone,
    Enum(EnumId),
    Record(RecordId),
    List(Box<Ty>),
    Map(Box<Ty>, Box<Ty>),
    Optional(Box<Ty>),
    /// The type of a type value, as returned by `type(x)`.
    Type,
    /// A type of the host, opaque to the language, with type arguments (`tuple<int, uint>`):
    /// what declared functions take and return.
    Abstract(Box<AbstractTy>),
    /// A type parameter of a declared function's overload (`T` in `sort(list<T>) -> list<T>`);
    /// bound by the arguments of a call, never the type of a checked expression.
    Param(Box<str>),
    Dyn,
    /// The element type of an empty literal (`[]`, `{}`, `optional.none()`) while it is joined
    /// with its siblings: it takes the type of the others (`[[], [1]]` is `list<list<int>>`),
    /// and becomes `dyn` when nothing constrains it. Never left in a checked expression.
    Free,
    Error,
    /// `net.IP` and `net.CIDR`, of the network extension.
    Ip,
    Cidr,
}

/// A host type's name and type arguments (boxed: rare, and `Ty` stays small).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AbstractTy {
    pub name: String,
    pub args: Vec<Ty>,
}

impl Ty {
    pub fn abstract_of(name: impl Into<String>, args: Vec<Ty>) -> Ty {
        Ty::Abstract(Box::new(AbstractTy {
            name: name.into(),
            args,
        }))
    }

    pub fn list(elem: Ty) -> Ty {
        Ty::List(Box::new(elem))
    }

    pub fn map(key: Ty, value: Ty) -> Ty {
        Ty::Map(Box::new(key), Box::new(value))
    }

    pub fn optional(inner: Ty) -> Ty {
        Ty::Optional(Box::new(inner))
    }

    /// The type a type name denotes as a value (`type(x) == int`, `net.IP`); parameterised
    /// types by their bare name (`list` is `list<dyn>`).
    pub fn named(name: &str) -> Option<Ty> {
        Some(match name {
            "int" => Ty::Int,
            "uint" => Ty::Uint,
            "double" => Ty::Double,
            "bool" => Ty::Bool,
            "string" => Ty::String,
            "bytes" => Ty::Bytes,
            "null_type" => Ty::Null,
            "type" => Ty::Type,
            "list" => Ty::list(Ty::Dyn),
            "map" => Ty::map(Ty::Dyn, Ty::Dyn),
            "optional_type" => Ty::optional(Ty::Dyn),
            "google.protobuf.Timestamp" | "timestamp" => Ty::Timestamp,
            "google.protobuf.Duration" | "duration" => Ty::Duration,
            "money" => Ty::Money,
            "net.IP" => Ty::Ip,
            "net.CIDR" => Ty::Cidr,
            _ => return None,
        })
    }

    /// True for types checked only at run time, where any static mismatch is deferred.
    pub fn is_dynamic(&self) -> bool {
        matches!(self, Ty::Dyn | Ty::Free | Ty::Error)
    }

    /// The type with every [`Ty::Free`] left unconstrained made `dyn`.
    pub fn settled(&self) -> Ty {
        match self {
            Ty::Free => Ty::Dyn,
            Ty::List(e) => Ty::list(e.settled()),
            Ty::Map(k, v) => Ty::map(k.settled(), v.settled()),
            Ty::Optional(t) => Ty::optional(t.settled()),
            Ty::Abstract(a) => {
                Ty::abstract_of(a.name.clone(), a.args.iter().map(Ty::settled).collect())
            }
            other => other.clone(),
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Uint | Ty::Double)
    }

    /// Whether a value of type `other` may flow where `self` is expected.
    pub fn accepts(&self, other: &Ty) -> bool {
        if self.is_dynamic() || other.is_dynamic() {
            return true;
        }
        match (self, other) {
            (Ty::List(a), Ty::List(b)) | (Ty::Optional(a), Ty::Optional(b)) => a.accepts(b),
            (Ty::Map(ak, av), Ty::Map(bk, bv)) => ak.accepts(bk) && av.accepts(bv),
            (Ty::Abstract(a), Ty::Abstract(b)) => {
                a.name == b.name
                    && a.args.len() == b.args.len()
                    && a.args.iter().zip(&b.args).all(|(p, q)| p.accepts(q))
            }
            _ => self == other,
        }
    }

    /// The common type of two branches (ternary arms, list elements): equal types stay, anything
    /// else becomes `dyn`, as in CEL's heterogeneous literals.
    pub fn join(&self, other: &Ty) -> Ty {
        if self == other {
            return self.clone();
        }
        match (self, other) {
            (Ty::Error, t) | (t, Ty::Error) | (Ty::Free, t) | (t, Ty::Free) => t.clone(),
            (Ty::Optional(a), Ty::Optional(b)) => Ty::optional(a.join(b)),
            (Ty::Null, Ty::Optional(_)) => other.clone(),
            (Ty::Optional(_), Ty::Null) => self.clone(),
            (Ty::List(a), Ty::List(b)) => Ty::list(a.join(b)),
            (Ty::Map(ak, av), Ty::Map(bk, bv)) => Ty::map(ak.join(bk), av.join(bv)),
            (Ty::Abstract(a), Ty::Abstract(b))
                if a.name == b.name && a.args.len() == b.args.len() =>
            {
                let args = a.args.iter().zip(&b.args).map(|(p, q)| p.join(q)).collect();
                Ty::abstract_of(a.name.clone(), args)
            }
            _ => Ty::Dyn,
        }
    }
}

/// Renders a type with the names of the schema's enums and records.
pub struct TyDisplay<'a> {
    pub ty: &'a Ty,
    pub schema: Option<&'a crate::schema::Schema>,
}

impl fmt::Display for TyDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let schema = self.schema;
        let sub = |ty| TyDisplay { ty, schema };
        match self.ty {
            Ty::Null => f.write_str("null_type"),
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::Uint => f.write_str("uint"),
            Ty::Double => f.write_str("double"),
            Ty::String => f.write_str("string"),
            Ty::Bytes => f.write_str("bytes"),
            Ty::Timestamp => f.write_str("timestamp"),
            Ty::Duration => f.write_str("duration"),
            Ty::Money => f.write_str("money"),
            Ty::Timezone => f.write_str("timezone"),
            Ty::Enum(id) => match self.schema.and_then(|s| s.enums.get(*id as usize)) {
                Some(e) => write!(f, "enum {}", e.name),
                None => write!(f, "enum #{id}"),
            },
            Ty::Record(id) => match self.schema.and_then(|s| s.records.get(*id as usize)) {
                Some(r) => f.write_str(&r.name),
                None => write!(f, "record #{id}"),
            },
            Ty::List(e) => write!(f, "list<{}>", sub(e)),
            Ty::Map(k, v) => write!(f, "map<{}, {}>", sub(k), sub(v)),
            Ty::Optional(t) => write!(f, "optional<{}>", sub(t)),
            Ty::Type => f.write_str("type"),
            Ty::Abstract(a) => {
                f.write_str(&a.name)?;
                if !a.args.is_empty() {
                    f.write_str("<")?;
                    for (i, a) in a.args.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{}", sub(a))?;
                    }
                    f.write_str(">")?;
                }
                Ok(())
            }
            Ty::Param(name) => f.write_str(name),
            Ty::Dyn | Ty::Free => f.write_str("dyn"),
            Ty::Error => f.write_str("<error>"),
            Ty::Ip => f.write_str("net.IP"),
            Ty::Cidr => f.write_str("net.CIDR"),
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        TyDisplay {
            ty: self,
            schema: None,
        }
        .fmt(f)
    }
}
