//! Run-time values with CEL semantics, shared by constant folding in the compiler and by the
//! runtime's interpreter, so that both compute with one set of rules.
//!
//! Errors are values ([`Value::Error`]): `&&`, `||` and the macros absorb them as CEL requires, and
//! nothing in evaluation panics or wraps.

pub mod money;
pub mod net;
pub mod ops;
pub mod time;

pub use money::{Currency, Money};
pub use net::NetValue;

use crate::types::{EnumId, RecordId, Ty};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Nanoseconds since the Unix epoch. `i128` because CEL's timestamp range (years 1 to 9999) and
/// duration range (±10,000 years) do not fit 64-bit nanoseconds.
pub type Nanos = i128;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Double(f64),
    String(Arc<str>),
    Bytes(Arc<[u8]>),
    Timestamp(Nanos),
    Duration(Nanos),
    Money(Money),
    /// An IANA time-zone name, validated when the value was made.
    Timezone(Arc<str>),
    Enum(EnumValue),
    List(Arc<Vec<Value>>),
    Map(Arc<MapValue>),
    Record(Arc<RecordValue>),
    Optional(Option<Arc<Value>>),
    Type(Arc<Ty>),
    Error(Arc<EvalError>),
    /// An IP address or a CIDR prefix (the network extension).
    Net(NetValue),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EnumValue {
    pub ty: EnumId,
    pub index: u32,
}

/// A record value in the schema's flat layout: `fields[slot]`, `None` where a field is absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordValue {
    pub ty: RecordId,
    pub fields: Vec<Option<Value>>,
}

/// A map with CEL's key kinds (bool, int, uint, string). Numeric keys compare by value across
/// int and uint, so `{1: 'a'}[1u]` finds the entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MapValue {
    pub entries: BTreeMap<MapKey, Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MapKey {
    Bool(bool),
    /// Both int and uint keys, as an exact integer.
    Int(i128),
    String(Arc<str>),
}

/// Why an evaluation failed. Carried as a value so that `&&`/`||` can absorb it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum EvalError {
    #[error("integer overflow")]
    Overflow,
    #[error("division by zero")]
    DivisionByZero,
    #[error("modulus by zero")]
    ModulusByZero,
    #[error("no such overload: {0}")]
    NoSuchOverload(String),
    #[error("no such key: {0}")]
    NoSuchKey(String),
    #[error("no such field: {0}")]
    NoSuchField(String),
    #[error("index out of range: {0}")]
    IndexOutOfRange(String),
    #[error("range error: {0}")]
    Range(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("{0}")]
    Message(String),
    /// A field that the event or profile does not carry.
    #[error("`{0}` is not set")]
    Unset(String),
    /// The customer has no profile yet (no profile event was received for them).
    #[error("no `{0}` profile was loaded for this customer")]
    NoProfile(String),
    /// `since`/`last` of an event type the customer has not sent before.
    #[error("no earlier `{0}` for this customer")]
    NoHistory(String),
    #[error("unbound variable `{0}`")]
    Unbound(String),
    /// The evaluation did more work, or built larger values, than one evaluation may.
    #[error("evaluation exceeded its budget of {0} steps")]
    Budget(u64),
}

impl Value {
    pub fn error(e: EvalError) -> Value {
        Value::Error(Arc::new(e))
    }

    pub fn string(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Value::Error(_))
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The CEL type name of this value, as `type(x)` would print it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null_type",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Uint(_) => "uint",
            Value::Double(_) => "double",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Timestamp(_) => "google.protobuf.Timestamp",
            Value::Duration(_) => "google.protobuf.Duration",
            Value::Money(_) => "money",
            Value::Timezone(_) => "timezone",
            Value::Enum(_) => "enum",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Record(_) => "record",
            Value::Optional(_) => "optional_type",
            Value::Type(_) => "type",
            Value::Error(_) => "error",
            Value::Net(n) => n.type_name(),
        }
    }
}

/// Structural identity (not CEL equality, which is in [`ops`]): doubles compare by bits so that
/// a folded `NaN` constant is equal to itself and salsa can tell that a result did not change.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Uint(a), Uint(b)) => a == b,
            (Double(a), Double(b)) => a.to_bits() == b.to_bits(),
            (String(a), String(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (Timestamp(a), Timestamp(b)) | (Duration(a), Duration(b)) => a == b,
            (Money(a), Money(b)) => a == b,
            (Timezone(a), Timezone(b)) => a == b,
            (Enum(a), Enum(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            (Record(a), Record(b)) => a == b,
            (Optional(a), Optional(b)) => a == b,
            (Type(a), Type(b)) => a == b,
            (Error(a), Error(b)) => a == b,
            (Net(a), Net(b)) => a == b,
            _ => false,
        }
    }
}

impl MapKey {
    pub fn from_value(v: &Value) -> Result<MapKey, EvalError> {
        match v {
            Value::Bool(b) => Ok(MapKey::Bool(*b)),
            Value::Int(i) => Ok(MapKey::Int(i128::from(*i))),
            Value::Uint(u) => Ok(MapKey::Int(i128::from(*u))),
            Value::String(s) => Ok(MapKey::String(s.clone())),
            // A double with an exact integer value finds integer keys, as CEL's
            // heterogeneous equality requires for lookups.
            Value::Double(d) if d.fract() == 0.0 && d.is_finite() && d.abs() < 1.8e19 => {
                Ok(MapKey::Int(*d as i128))
            }
            other => Err(EvalError::InvalidArgument(format!(
                "unsupported map key type: {}",
                other.type_name()
            ))),
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            MapKey::Bool(b) => Value::Bool(*b),
            MapKey::Int(i) => match i64::try_from(*i) {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Uint(u64::try_from(*i).unwrap_or(u64::MAX)),
            },
            MapKey::String(s) => Value::String(s.clone()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Uint(u) => write!(f, "{u}u"),
            Value::Double(d) => {
                let magnitude = d.abs();
                if d.is_finite() && d.fract() == 0.0 && magnitude < 1e16 {
                    write!(f, "{d:.1}")
                } else if d.is_finite() && (magnitude >= 1e16 || (magnitude < 1e-4 && *d != 0.0)) {
                    // `1e100`, not a hundred digits.
                    write!(f, "{d:e}")
                } else if d.is_nan() {
                    f.write_str("NaN")
                } else if d.is_infinite() {
                    f.write_str(if *d > 0.0 { "Infinity" } else { "-Infinity" })
                } else {
                    write!(f, "{d}")
                }
            }
            Value::String(s) => f.write_str(&quoted(s, true)),
            Value::Bytes(b) => {
                f.write_str("b\"")?;
                for byte in b.iter() {
                    match byte {
                        b'"' => f.write_str("\\\"")?,
                        b'\\' => f.write_str("\\\\")?,
                        0x20..=0x7e => write!(f, "{}", *byte as char)?,
                        _ => write!(f, "\\x{byte:02x}")?,
                    }
                }
                f.write_str("\"")
            }
            Value::Timestamp(n) => f.write_str(&time::format_timestamp(*n)),
            Value::Duration(n) => f.write_str(&time::format_duration(*n)),
            Value::Money(m) => write!(f, "{m}"),
            Value::Timezone(z) => write!(f, "timezone({z:?})"),
            Value::Enum(e) => write!(f, "enum#{}.{}", e.ty, e.index),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {v}", k.to_value())?;
                }
                f.write_str("}")
            }
            Value::Record(r) => {
                write!(f, "record#{}{{", r.ty)?;
                for (i, v) in r.fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match v {
                        Some(v) => write!(f, "{v}")?,
                        None => f.write_str("_")?,
                    }
                }
                f.write_str("}")
            }
            Value::Optional(Some(v)) => write!(f, "optional.of({v})"),
            Value::Optional(None) => f.write_str("optional.none()"),
            Value::Type(t) => write!(f, "{t}"),
            Value::Error(e) => write!(f, "error: {e}"),
            Value::Net(n) => write!(f, "{n}"),
        }
    }
}

/// `s` between double quotes with the escapes CEL's string literals read back (`\a \b \f \n
/// \r \t \v \\ \"`). With `visible`, every other character a terminal would not show as
/// itself is escaped too (control characters, line separators, the byte-order mark,
/// bidirectional overrides), which is how values are printed; without, they stay as they are,
/// as cel-go's `strings.quote` leaves them.
pub fn quoted(s: &str, visible: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if visible && ((c as u32) < 0x20 || c == '\u{7f}') => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            '\u{80}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
                if visible =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
