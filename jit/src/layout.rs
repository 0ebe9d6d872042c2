//! How values cross between the host and native code: which types native code holds in
//! registers ([`Repr`]), and the four-word [`Slot`] that carries one value (an input, a helper's
//! argument or result, the function's result) through memory.

use offer_compiler::types::{EnumId, Ty};
use offer_compiler::value::{Currency, EnumValue, Money, Nanos, Value};

/// The kinds of value native code computes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    Uint,
    Double,
    Enum(EnumId),
    Timestamp,
    Duration,
    /// A borrowed UTF-8 string: a pointer and a length into a value the host keeps alive for
    /// the call, or into the compiled expression's constants.
    String,
    /// Borrowed bytes, as a string is borrowed.
    Bytes,
    /// An amount in micro-units and its currency's three letters; every operation on it is the
    /// reference evaluator's (currencies must match, scaling rounds half to even).
    Money,
}

impl Kind {
    /// Whether a value of this kind has a second word (`Slot::hi`).
    pub fn wide(self) -> bool {
        matches!(self, Kind::String | Kind::Bytes | Kind::Money)
    }

    /// Whether a value of this kind borrows its bytes (a pointer and a length) from a value
    /// that must outlive the call; its budget cost grows with its length.
    pub fn borrows(self) -> bool {
        matches!(self, Kind::String | Kind::Bytes)
    }
}

/// A kind, possibly optional (`optional<int>`, a field that may be absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    pub kind: Kind,
    pub optional: bool,
}

impl Repr {
    /// The representation of a static type, or `None` for the types native code does not hold
    /// (lists, maps, records, `dyn`, money, ...).
    pub fn of(ty: &Ty) -> Option<Repr> {
        match ty {
            Ty::Optional(inner) => Some(Repr {
                kind: kind_of(inner)?,
                optional: true,
            }),
            other => Some(Repr {
                kind: kind_of(other)?,
                optional: false,
            }),
        }
    }

    pub fn plain(kind: Kind) -> Repr {
        Repr {
            kind,
            optional: false,
        }
    }
}

fn kind_of(ty: &Ty) -> Option<Kind> {
    Some(match ty {
        Ty::Bool => Kind::Bool,
        Ty::Int => Kind::Int,
        Ty::Uint => Kind::Uint,
        Ty::Double => Kind::Double,
        Ty::Enum(id) => Kind::Enum(*id),
        Ty::Timestamp => Kind::Timestamp,
        Ty::Duration => Kind::Duration,
        Ty::String => Kind::String,
        Ty::Bytes => Kind::Bytes,
        Ty::Money => Kind::Money,
        _ => return None,
    })
}

/// One value in memory: `status` 0 for a value and 1 for "not a value of this representation"
/// (an error, or a value of another kind, which the interpreter then decides); `present` 1 when
/// an optional has a value; `lo` the bits of a scalar (the low half of a timestamp or
/// duration, a string's pointer); `hi` the high half of a timestamp or duration, a string's
/// length.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    pub status: u64,
    pub present: u64,
    pub lo: u64,
    pub hi: u64,
}

/// The byte offsets of a slot's words, for the code generator.
pub const STATUS: i32 = 0;
pub const PRESENT: i32 = 8;
pub const LO: i32 = 16;
pub const HI: i32 = 24;
pub const SLOT_BYTES: u32 = 32;

pub const NOT_A_VALUE: Slot = Slot {
    status: 1,
    present: 0,
    lo: 0,
    hi: 0,
};

impl Slot {
    /// `v` in representation `repr`, or [`NOT_A_VALUE`] when it is an error or of another kind.
    /// A string's slot borrows its bytes: `v` must outlive every use of the slot.
    #[inline]
    pub fn load(v: &Value, repr: Repr) -> Slot {
        if repr.optional {
            return match v {
                Value::Optional(None) => Slot {
                    status: 0,
                    present: 0,
                    lo: 0,
                    hi: 0,
                },
                Value::Optional(Some(inner)) => Slot::load_present(inner, repr.kind),
                _ => NOT_A_VALUE,
            };
        }
        Slot::load_present(v, repr.kind)
    }

    /// A present value of `kind` (the `present` word set, for optionals that hold it).
    #[inline]
    pub fn load_present(v: &Value, kind: Kind) -> Slot {
        let scalar = |lo: u64| Slot {
            status: 0,
            present: 1,
            lo,
            hi: 0,
        };
        let wide = |n: Nanos| Slot {
            status: 0,
            present: 1,
            lo: n as u64,
            hi: (n >> 64) as u64,
        };
        match (kind, v) {
            (Kind::Bool, Value::Bool(b)) => scalar(u64::from(*b)),
            (Kind::Int, Value::Int(i)) => scalar(*i as u64),
            (Kind::Uint, Value::Uint(u)) => scalar(*u),
            (Kind::Double, Value::Double(d)) => scalar(d.to_bits()),
            (Kind::Enum(id), Value::Enum(e)) if e.ty == id => scalar(u64::from(e.index)),
            (Kind::Timestamp, Value::Timestamp(n)) | (Kind::Duration, Value::Duration(n)) => {
                wide(*n)
            }
            (Kind::Money, Value::Money(m)) => Slot {
                status: 0,
                present: 1,
                lo: m.micros as u64,
                hi: u64::from_le_bytes([
                    m.currency.0[0],
                    m.currency.0[1],
                    m.currency.0[2],
                    0,
                    0,
                    0,
                    0,
                    0,
                ]),
            },
            (Kind::String, Value::String(s)) => Slot {
                status: 0,
                present: 1,
                lo: s.as_ptr() as u64,
                hi: s.len() as u64,
            },
            (Kind::Bytes, Value::Bytes(b)) => Slot {
                status: 0,
                present: 1,
                lo: b.as_ptr() as u64,
                hi: b.len() as u64,
            },
            _ => NOT_A_VALUE,
        }
    }

    /// The slot's scalar as a value of `kind`; `None` for strings and bytes, which only the unsafe reader
    /// of borrowed bytes can rebuild.
    pub fn scalar(&self, kind: Kind) -> Option<Value> {
        let wide = ((self.hi as u128) << 64 | self.lo as u128) as i128;
        Some(match kind {
            Kind::Bool => Value::Bool(self.lo != 0),
            Kind::Int => Value::Int(self.lo as i64),
            Kind::Uint => Value::Uint(self.lo),
            Kind::Double => Value::Double(f64::from_bits(self.lo)),
            Kind::Enum(ty) => Value::Enum(EnumValue {
                ty,
                index: u32::try_from(self.lo).ok()?,
            }),
            Kind::Timestamp => Value::Timestamp(wide),
            Kind::Duration => Value::Duration(wide),
            Kind::Money => {
                let [a, b, c, ..] = self.hi.to_le_bytes();
                Value::Money(Money {
                    micros: self.lo as i64,
                    currency: Currency([a, b, c]),
                })
            }
            Kind::String | Kind::Bytes => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_round_trip_through_a_slot() {
        let cases = [
            (Value::Bool(true), Kind::Bool),
            (Value::Int(i64::MIN), Kind::Int),
            (Value::Uint(u64::MAX), Kind::Uint),
            (Value::Double(-0.5), Kind::Double),
            (
                Value::Timestamp(-253_402_300_799_000_000_000),
                Kind::Timestamp,
            ),
            (Value::Duration(315_576_000_000_000_000_000), Kind::Duration),
            (Value::Enum(EnumValue { ty: 3, index: 7 }), Kind::Enum(3)),
            (
                Value::Money(Money {
                    micros: -1_990_000,
                    currency: Currency(*b"EUR"),
                }),
                Kind::Money,
            ),
        ];
        for (v, kind) in cases {
            let slot = Slot::load(&v, Repr::plain(kind));
            assert_eq!(slot.status, 0, "{v:?}");
            let back = slot.scalar(kind).map(|b| b.to_string());
            assert_eq!(back, Some(v.to_string()));
        }
    }

    #[test]
    fn a_value_of_another_kind_is_not_a_value() {
        assert_eq!(
            Slot::load(&Value::Int(1), Repr::plain(Kind::Double)),
            NOT_A_VALUE
        );
        let other_enum = Value::Enum(EnumValue { ty: 1, index: 0 });
        assert_eq!(
            Slot::load(&other_enum, Repr::plain(Kind::Enum(2))),
            NOT_A_VALUE
        );
        let empty = Repr {
            kind: Kind::Int,
            optional: true,
        };
        assert_eq!(Slot::load(&Value::Optional(None), empty).present, 0);
        assert_eq!(Slot::load(&Value::Int(1), empty), NOT_A_VALUE);
    }
}
