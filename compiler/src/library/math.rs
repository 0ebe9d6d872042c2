//! The math extension: `math.greatest` and `math.least` over numbers of mixed kinds, rounding
//! (`ceil`, `floor`, `round`, `trunc`), `abs` and `sign`, the double tests (`isNaN`, `isInf`,
//! `isFinite`) and the bitwise operations on ints and uints. Semantics follow cel-go's
//! `ext.Math()`, which the CEL conformance suite encodes.

use super::LibraryFn;
use crate::check::signature::{Function, Overload, P, Style, o, variadic};
use crate::ir::Func;
use crate::value::{EvalError, Value, ops};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MathFn {
    Greatest,
    Least,
    Ceil,
    Floor,
    Round,
    Trunc,
    Abs,
    Sign,
    IsNaN,
    IsInf,
    IsFinite,
    BitAnd,
    BitOr,
    BitXor,
    BitNot,
    BitShiftLeft,
    BitShiftRight,
}

impl MathFn {
    const fn name(self) -> &'static str {
        match self {
            MathFn::Greatest => "math.greatest",
            MathFn::Least => "math.least",
            MathFn::Ceil => "math.ceil",
            MathFn::Floor => "math.floor",
            MathFn::Round => "math.round",
            MathFn::Trunc => "math.trunc",
            MathFn::Abs => "math.abs",
            MathFn::Sign => "math.sign",
            MathFn::IsNaN => "math.isNaN",
            MathFn::IsInf => "math.isInf",
            MathFn::IsFinite => "math.isFinite",
            MathFn::BitAnd => "math.bitAnd",
            MathFn::BitOr => "math.bitOr",
            MathFn::BitXor => "math.bitXor",
            MathFn::BitNot => "math.bitNot",
            MathFn::BitShiftLeft => "math.bitShiftLeft",
            MathFn::BitShiftRight => "math.bitShiftRight",
        }
    }
}

const fn function(f: MathFn, overloads: &'static [Overload]) -> Function {
    Function {
        name: f.name(),
        style: Style::Global,
        func: Func::Library(LibraryFn::Math(f)),
        overloads,
    }
}

/// Several numbers, or one list of them; the result has the kind of the chosen number.
const EXTREMUM: &[Overload] = &[variadic(&[P::Num], P::Num), o(&[P::NumList], P::Num)];
const ROUNDING: &[Overload] = &[o(&[P::Double], P::Double)];
const SIGNED: &[Overload] = &[
    o(&[P::Int], P::Int),
    o(&[P::Uint], P::Uint),
    o(&[P::Double], P::Double),
];
const DOUBLE_TEST: &[Overload] = &[o(&[P::Double], P::Bool)];
const BITWISE: &[Overload] = &[
    o(&[P::Int, P::Int], P::Int),
    o(&[P::Uint, P::Uint], P::Uint),
];
const SHIFT: &[Overload] = &[o(&[P::Int, P::Int], P::Int), o(&[P::Uint, P::Int], P::Uint)];

pub(crate) const FUNCTIONS: &[Function] = &[
    function(MathFn::Greatest, EXTREMUM),
    function(MathFn::Least, EXTREMUM),
    function(MathFn::Ceil, ROUNDING),
    function(MathFn::Floor, ROUNDING),
    function(MathFn::Round, ROUNDING),
    function(MathFn::Trunc, ROUNDING),
    function(MathFn::Abs, SIGNED),
    function(MathFn::Sign, SIGNED),
    function(MathFn::IsNaN, DOUBLE_TEST),
    function(MathFn::IsInf, DOUBLE_TEST),
    function(MathFn::IsFinite, DOUBLE_TEST),
    function(MathFn::BitAnd, BITWISE),
    function(MathFn::BitOr, BITWISE),
    function(MathFn::BitXor, BITWISE),
    function(
        MathFn::BitNot,
        &[o(&[P::Int], P::Int), o(&[P::Uint], P::Uint)],
    ),
    function(MathFn::BitShiftLeft, SHIFT),
    function(MathFn::BitShiftRight, SHIFT),
];

pub fn call(f: MathFn, args: &[Value]) -> Value {
    use Value::{Bool, Double, Int, Uint};
    match (f, args) {
        _ if let Some(err) = args.iter().find(|a| a.is_error()) => err.clone(),
        (MathFn::Greatest, _) => extremum(f, args, Ordering::Greater),
        (MathFn::Least, _) => extremum(f, args, Ordering::Less),
        (MathFn::Ceil, [Double(d)]) => Double(d.ceil()),
        (MathFn::Floor, [Double(d)]) => Double(d.floor()),
        // Halves round away from zero, as Go's `math.Round` does.
        (MathFn::Round, [Double(d)]) => Double(d.round()),
        (MathFn::Trunc, [Double(d)]) => Double(d.trunc()),
        (MathFn::Abs, [Int(i)]) => i.checked_abs().map_or_else(overflow, Int),
        (MathFn::Abs, [Uint(u)]) => Uint(*u),
        (MathFn::Abs, [Double(d)]) => Double(d.abs()),
        (MathFn::Sign, [Int(i)]) => Int(i.signum()),
        (MathFn::Sign, [Uint(u)]) => Uint(u64::from(*u != 0)),
        (MathFn::Sign, [Double(d)]) => Double(double_sign(*d)),
        (MathFn::IsNaN, [Double(d)]) => Bool(d.is_nan()),
        (MathFn::IsInf, [Double(d)]) => Bool(d.is_infinite()),
        (MathFn::IsFinite, [Double(d)]) => Bool(d.is_finite()),
        (MathFn::BitAnd, [Int(a), Int(b)]) => Int(a & b),
        (MathFn::BitAnd, [Uint(a), Uint(b)]) => Uint(a & b),
        (MathFn::BitOr, [Int(a), Int(b)]) => Int(a | b),
        (MathFn::BitOr, [Uint(a), Uint(b)]) => Uint(a | b),
        (MathFn::BitXor, [Int(a), Int(b)]) => Int(a ^ b),
        (MathFn::BitXor, [Uint(a), Uint(b)]) => Uint(a ^ b),
        (MathFn::BitNot, [Int(i)]) => Int(!i),
        (MathFn::BitNot, [Uint(u)]) => Uint(!u),
        (MathFn::BitShiftLeft | MathFn::BitShiftRight, [Int(i), Int(by)]) => {
            shift(f, i.cast_unsigned(), *by).map_or_else(Value::error, |b| Int(b.cast_signed()))
        }
        (MathFn::BitShiftLeft | MathFn::BitShiftRight, [Uint(u), Int(by)]) => {
            shift(f, *u, *by).map_or_else(Value::error, Uint)
        }
        (f, args) => super::no_overload(f.name(), args),
    }
}

fn overflow() -> Value {
    Value::error(EvalError::Overflow)
}

/// Zero and NaN are their own sign, so `-0.0` and `NaN` come back unchanged.
fn double_sign(d: f64) -> f64 {
    if d > 0.0 {
        1.0
    } else if d < 0.0 {
        -1.0
    } else {
        d
    }
}

/// The greatest (`wanted` = `Greater`) or least number of the arguments, or of a single list
/// argument. Numbers compare by exact value across kinds, and the winner keeps its own kind;
/// on a tie or an unordered NaN the earlier number stays, as in cel-go.
fn extremum(f: MathFn, args: &[Value], wanted: Ordering) -> Value {
    let numbers: &[Value] = match args {
        [Value::List(items)] => items,
        _ => args,
    };
    let Some((first, rest)) = numbers.split_first() else {
        return Value::error(EvalError::InvalidArgument(format!(
            "{}() takes at least one number, and the list is empty",
            f.name()
        )));
    };
    let is_number = |v: &Value| matches!(v, Value::Int(_) | Value::Uint(_) | Value::Double(_));
    if let Some(other) = numbers.iter().find(|v| !is_number(v)) {
        return super::no_overload(f.name(), std::slice::from_ref(other));
    }
    // NaN is not ordered against anything: picking around it would make the answer depend on
    // the arguments' order.
    if !rest.is_empty()
        && numbers
            .iter()
            .any(|v| matches!(v, Value::Double(d) if d.is_nan()))
    {
        return Value::error(EvalError::InvalidArgument(format!(
            "{}(): NaN values cannot be ordered",
            f.name()
        )));
    }
    let mut best = first;
    for candidate in rest {
        if let Ok(Some(order)) = ops::compare(candidate, best)
            && order == wanted
        {
            best = candidate;
        }
    }
    best.clone()
}

/// Shifts by `by` bits; past 63 every bit is gone. Ints arrive as their bits, so they shift
/// right logically, filling with zeros rather than the sign, as cel-go does.
fn shift(f: MathFn, bits: u64, by: i64) -> Result<u64, EvalError> {
    let Ok(by) = u32::try_from(by) else {
        return if by < 0 {
            Err(EvalError::InvalidArgument(format!(
                "{}() negative offset: {by}",
                f.name()
            )))
        } else {
            Ok(0)
        };
    };
    let shifted = if f == MathFn::BitShiftLeft {
        bits.checked_shl(by)
    } else {
        bits.checked_shr(by)
    };
    Ok(shifted.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::checked_type;

    fn list(items: Vec<Value>) -> Value {
        Value::list(items)
    }

    #[test]
    fn the_checker_types_an_extremum_by_its_arguments_common_kind() {
        use crate::types::Ty;
        assert_eq!(checked_type("math.greatest(1, 2, 3)"), Ok(Ty::Int));
        assert_eq!(checked_type("math.least(5u)"), Ok(Ty::Uint));
        assert_eq!(checked_type("math.least([1.5, 2.5])"), Ok(Ty::Double));
        assert_eq!(checked_type("math.greatest(1, 2u)"), Ok(Ty::Dyn));
        assert_eq!(checked_type("math.greatest([1, 2u])"), Ok(Ty::Dyn));
        assert_eq!(checked_type("math.greatest(dyn(1), 2)"), Ok(Ty::Dyn));
        assert_eq!(checked_type("math.bitShiftRight(1u, 2)"), Ok(Ty::Uint));
    }

    #[test]
    fn the_checker_rejects_arguments_that_fit_no_overload() {
        for (text, code) in [
            ("math.greatest()", "WrongArity"),
            ("math.greatest('a')", "NoOverload"),
            ("math.least(1, 'a')", "NoOverload"),
            ("math.greatest([1], 2)", "NoOverload"),
            ("math.greatest(['a'])", "NoOverload"),
            ("math.ceil(1)", "NoOverload"),
            ("math.bitAnd(1, 2u)", "NoOverload"),
            ("math.bitShiftLeft(1, 2u)", "NoOverload"),
            ("math.abs(1, 2)", "WrongArity"),
        ] {
            let result = checked_type(text);
            assert!(
                result
                    .as_ref()
                    .is_err_and(|(c, _)| format!("{c:?}") == code),
                "{text}: {result:?}"
            );
        }
    }

    #[test]
    fn greatest_and_least_compare_across_kinds_and_keep_the_winner_kind() {
        let args = [
            Value::Double(5.4),
            Value::Int(10),
            Value::Uint(3),
            Value::Double(-5.0),
        ];
        assert_eq!(call(MathFn::Greatest, &args), Value::Int(10));
        assert_eq!(call(MathFn::Least, &args), Value::Double(-5.0));
        assert_eq!(
            call(MathFn::Greatest, &[list(args.to_vec())]),
            Value::Int(10)
        );
        assert_eq!(
            call(
                MathFn::Greatest,
                &[Value::Uint(u64::MAX), Value::Int(i64::MAX)]
            ),
            Value::Uint(u64::MAX)
        );
        assert_eq!(
            call(MathFn::Least, &[Value::Int(1), Value::Int(i64::MIN)]),
            Value::Int(i64::MIN)
        );
        assert_eq!(call(MathFn::Least, &[Value::Uint(5)]), Value::Uint(5));
    }

    #[test]
    fn extremum_ties_keep_the_first_and_nan_is_an_error() {
        assert_eq!(
            call(MathFn::Greatest, &[Value::Int(1), Value::Double(1.0)]),
            Value::Int(1)
        );
        assert_eq!(
            call(MathFn::Least, &[Value::Uint(1), Value::Int(1)]),
            Value::Uint(1)
        );
        for args in [
            [Value::Int(2), Value::Double(f64::NAN)],
            [Value::Double(f64::NAN), Value::Int(2)],
        ] {
            assert!(call(MathFn::Greatest, &args).is_error());
            assert!(call(MathFn::Least, &[list(args.to_vec())]).is_error());
        }
        assert!(!call(MathFn::Greatest, &[Value::Double(f64::NAN)]).is_error());
    }

    #[test]
    fn extremum_rejects_an_empty_list_and_non_numbers() {
        assert!(call(MathFn::Greatest, &[list(vec![])]).is_error());
        assert!(call(MathFn::Least, &[Value::Int(1), Value::string("a")]).is_error());
        assert!(call(MathFn::Least, &[list(vec![Value::Bool(true)])]).is_error());
        assert!(call(MathFn::Greatest, &[list(vec![list(vec![Value::Int(1)])])]).is_error());
    }

    #[test]
    fn rounding_takes_doubles_only() {
        assert_eq!(
            call(MathFn::Ceil, &[Value::Double(-1.2)]),
            Value::Double(-1.0)
        );
        assert_eq!(
            call(MathFn::Floor, &[Value::Double(-1.2)]),
            Value::Double(-2.0)
        );
        assert_eq!(
            call(MathFn::Round, &[Value::Double(-1.5)]),
            Value::Double(-2.0)
        );
        assert_eq!(
            call(MathFn::Round, &[Value::Double(2.5)]),
            Value::Double(3.0)
        );
        assert_eq!(
            call(MathFn::Trunc, &[Value::Double(-1.7)]),
            Value::Double(-1.0)
        );
        assert_eq!(
            call(MathFn::Trunc, &[Value::Double(f64::NAN)]),
            Value::Double(f64::NAN)
        );
        assert!(call(MathFn::Ceil, &[Value::Int(1)]).is_error());
    }

    #[test]
    fn abs_overflows_on_int_min_and_sign_keeps_zero_and_nan() {
        assert_eq!(
            call(MathFn::Abs, &[Value::Int(i64::MIN)]),
            Value::error(EvalError::Overflow)
        );
        assert_eq!(
            call(MathFn::Abs, &[Value::Int(-i64::MAX)]),
            Value::Int(i64::MAX)
        );
        assert_eq!(
            call(MathFn::Abs, &[Value::Double(-11.5)]),
            Value::Double(11.5)
        );
        assert_eq!(call(MathFn::Abs, &[Value::Uint(7)]), Value::Uint(7));
        assert_eq!(call(MathFn::Sign, &[Value::Int(-11)]), Value::Int(-1));
        assert_eq!(call(MathFn::Sign, &[Value::Uint(0)]), Value::Uint(0));
        assert_eq!(call(MathFn::Sign, &[Value::Uint(9)]), Value::Uint(1));
        assert_eq!(
            call(MathFn::Sign, &[Value::Double(-32.0)]),
            Value::Double(-1.0)
        );
        assert_eq!(
            call(MathFn::Sign, &[Value::Double(-0.0)]),
            Value::Double(-0.0)
        );
        assert_eq!(
            call(MathFn::Sign, &[Value::Double(f64::NAN)]),
            Value::Double(f64::NAN)
        );
        assert!(call(MathFn::Sign, &[Value::Bool(true)]).is_error());
    }

    #[test]
    fn double_tests() {
        let nan = [Value::Double(f64::NAN)];
        let inf = [Value::Double(f64::NEG_INFINITY)];
        assert_eq!(call(MathFn::IsNaN, &nan), Value::Bool(true));
        assert_eq!(call(MathFn::IsInf, &nan), Value::Bool(false));
        assert_eq!(call(MathFn::IsInf, &inf), Value::Bool(true));
        assert_eq!(call(MathFn::IsFinite, &inf), Value::Bool(false));
        assert_eq!(
            call(MathFn::IsFinite, &[Value::Double(0.5)]),
            Value::Bool(true)
        );
        assert!(call(MathFn::IsNaN, &[Value::Int(1)]).is_error());
    }

    #[test]
    fn bitwise_needs_one_kind() {
        assert_eq!(
            call(MathFn::BitAnd, &[Value::Int(1), Value::Int(-1)]),
            Value::Int(1)
        );
        assert_eq!(
            call(MathFn::BitOr, &[Value::Uint(1), Value::Uint(4)]),
            Value::Uint(5)
        );
        assert_eq!(
            call(MathFn::BitXor, &[Value::Int(4), Value::Int(-2)]),
            Value::Int(-6)
        );
        assert_eq!(call(MathFn::BitNot, &[Value::Int(0)]), Value::Int(-1));
        assert_eq!(
            call(MathFn::BitNot, &[Value::Uint(1)]),
            Value::Uint(u64::MAX - 1)
        );
        assert!(call(MathFn::BitAnd, &[Value::Uint(2), Value::Int(1)]).is_error());
    }

    #[test]
    fn shifts_drop_bits_past_63_fill_ints_with_zeros_and_reject_negative_offsets() {
        let shl = |v, by| call(MathFn::BitShiftLeft, &[v, Value::Int(by)]);
        let shr = |v, by| call(MathFn::BitShiftRight, &[v, Value::Int(by)]);
        assert_eq!(shl(Value::Int(1), 2), Value::Int(4));
        assert_eq!(shl(Value::Int(1), 63), Value::Int(i64::MIN));
        assert_eq!(shl(Value::Int(-1), 64), Value::Int(0));
        assert_eq!(shl(Value::Uint(1), 200), Value::Uint(0));
        assert_eq!(
            shr(Value::Int(-1024), 3),
            Value::Int(2_305_843_009_213_693_824)
        );
        assert_eq!(shr(Value::Int(-1024), 64), Value::Int(0));
        assert_eq!(shr(Value::Uint(1024), 2), Value::Uint(256));
        assert!(shl(Value::Uint(1), -1).is_error());
        assert!(shr(Value::Int(1), i64::MIN).is_error());
        assert!(shr(Value::Double(4.3), 1).is_error());
        assert!(call(MathFn::BitShiftLeft, &[Value::Uint(1), Value::Uint(2)]).is_error());
    }
}
