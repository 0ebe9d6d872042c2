//! CEL operators and functions over [`Value`]: arithmetic, equality, ordering, membership,
//! indexing, size, string functions, conversions. One implementation shared by constant folding
//! and the interpreter, so that both compute the same results.
//!
//! Every function takes its arguments as values and returns a value: an error argument is passed
//! on (the first one, left to right), a failure is a [`Value::Error`], and nothing panics or
//! wraps. Arguments of kinds that a function does not accept give `no such overload`, as CEL's
//! dynamic dispatch does; CEL has no implicit numeric conversion, so `1 + 1u` is one of those.

use super::time::{self, TimePart};
use super::{EvalError, MapKey, Money, Nanos, NetValue, Value};
use crate::types::Ty;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What an operation computes before errors are turned into values: `None` when no overload
/// accepts the arguments' kinds.
type Outcome = Option<Result<Value, EvalError>>;

// ---------------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------------

/// `_+_`: numbers of one kind (checked), string, bytes and list concatenation, timestamp plus
/// duration (either order), duration plus duration, money plus money of one currency.
pub fn add(a: &Value, b: &Value) -> Value {
    use Value::*;
    call("_+_", &[a, b], || match (a, b) {
        (Int(x), Int(y)) => Some(int(x.checked_add(*y))),
        (Uint(x), Uint(y)) => Some(uint(x.checked_add(*y))),
        (Double(x), Double(y)) => Some(Ok(Double(x + y))),
        (String(x), String(y)) => Some(Ok(Value::string(format!("{x}{y}")))),
        (Bytes(x), Bytes(y)) => Some(Ok(Bytes([&x[..], &y[..]].concat().into()))),
        (List(x), List(y)) => Some(Ok(concat_lists(x, y))),
        (Timestamp(t), Duration(d)) | (Duration(d), Timestamp(t)) => {
            Some(timestamp(t.saturating_add(*d)))
        }
        (Duration(x), Duration(y)) => Some(duration(x.saturating_add(*y))),
        (Money(x), Money(y)) => Some(money_sum(x, y, i64::checked_add)),
        _ => None,
    })
}

/// `_-_`: numbers of one kind (checked), timestamp minus duration, timestamp minus timestamp (a
/// duration), duration minus duration, money minus money of one currency.
pub fn sub(a: &Value, b: &Value) -> Value {
    use Value::*;
    call("_-_", &[a, b], || match (a, b) {
        (Int(x), Int(y)) => Some(int(x.checked_sub(*y))),
        (Uint(x), Uint(y)) => Some(uint(x.checked_sub(*y))),
        (Double(x), Double(y)) => Some(Ok(Double(x - y))),
        (Timestamp(t), Duration(d)) => Some(timestamp(t.saturating_sub(*d))),
        (Timestamp(x), Timestamp(y)) | (Duration(x), Duration(y)) => {
            Some(duration(x.saturating_sub(*y)))
        }
        (Money(x), Money(y)) => Some(money_sum(x, y, i64::checked_sub)),
        _ => None,
    })
}

/// `_*_`: numbers of one kind (checked), and money scaled by an int (exactly) or a double
/// (rounded half to even to a micro-unit), in either order.
pub fn mul(a: &Value, b: &Value) -> Value {
    use Value::*;
    call("_*_", &[a, b], || match (a, b) {
        (Int(x), Int(y)) => Some(int(x.checked_mul(*y))),
        (Uint(x), Uint(y)) => Some(uint(x.checked_mul(*y))),
        (Double(x), Double(y)) => Some(Ok(Double(x * y))),
        (Money(m), Int(k)) | (Int(k), Money(m)) => Some(money(m.micros.checked_mul(*k), m)),
        (Money(m), Double(k)) | (Double(k), Money(m)) if !k.is_finite() => {
            Some(Err(EvalError::Range(format!("cannot scale money by {k}"))))
        }
        (Money(m), Double(k)) | (Double(k), Money(m)) => {
            Some(money(scale_half_even(m.micros, *k), m))
        }
        _ => None,
    })
}

/// `_/_`: int and uint division truncate toward zero (division by zero and `MIN / -1` are
/// errors), doubles follow IEEE 754 (`1.0 / 0.0` is infinity), money divided by an int rounds half
/// to even to a micro-unit.
pub fn div(a: &Value, b: &Value) -> Value {
    use Value::*;
    call("_/_", &[a, b], || match (a, b) {
        (Int(_), Int(0)) | (Uint(_), Uint(0)) | (Money(_), Int(0)) => {
            Some(Err(EvalError::DivisionByZero))
        }
        (Int(x), Int(y)) => Some(int(x.checked_div(*y))),
        (Uint(x), Uint(y)) => Some(uint(x.checked_div(*y))),
        (Double(x), Double(y)) => Some(Ok(Double(x / y))),
        (Money(m), Int(k)) => {
            let quotient = div_half_even(i128::from(m.micros), i128::from(*k));
            Some(money(i64::try_from(quotient).ok(), m))
        }
        _ => None,
    })
}

/// `_%_`: int and uint remainder, with the sign of the dividend; modulus by zero and
/// `MIN % -1` are errors. No double overload, as in CEL.
pub fn rem(a: &Value, b: &Value) -> Value {
    use Value::*;
    call("_%_", &[a, b], || match (a, b) {
        (Int(_), Int(0)) | (Uint(_), Uint(0)) => Some(Err(EvalError::ModulusByZero)),
        (Int(x), Int(y)) => Some(int(x.checked_rem(*y))),
        (Uint(x), Uint(y)) => Some(uint(x.checked_rem(*y))),
        _ => None,
    })
}

/// `-_`: int (checked: `-MIN` overflows), double, duration, money.
pub fn neg(a: &Value) -> Value {
    use Value::*;
    call("-_", &[a], || match a {
        Int(x) => Some(int(x.checked_neg())),
        Double(x) => Some(Ok(Double(-x))),
        Duration(d) => Some(duration(d.saturating_neg())),
        Money(m) => Some(money(m.micros.checked_neg(), m)),
        _ => None,
    })
}

/// `!_`.
pub fn not(a: &Value) -> Value {
    call("!_", &[a], || a.as_bool().map(|b| Ok(Value::Bool(!b))))
}

fn int(v: Option<i64>) -> Result<Value, EvalError> {
    v.map(Value::Int).ok_or(EvalError::Overflow)
}

fn uint(v: Option<u64>) -> Result<Value, EvalError> {
    v.map(Value::Uint).ok_or(EvalError::Overflow)
}

fn timestamp(n: Nanos) -> Result<Value, EvalError> {
    time::check_timestamp(n).map(Value::Timestamp)
}

fn duration(n: Nanos) -> Result<Value, EvalError> {
    time::check_duration(n).map(Value::Duration)
}

/// An amount in the currency of `like`; `None` is an overflow.
fn money(micros: Option<i64>, like: &Money) -> Result<Value, EvalError> {
    let currency = like.currency;
    micros
        .map(|micros| Value::Money(Money { micros, currency }))
        .ok_or_else(|| EvalError::Range("the amount is too large for money".into()))
}

fn money_sum(x: &Money, y: &Money, op: fn(i64, i64) -> Option<i64>) -> Result<Value, EvalError> {
    let currency = common_currency(x, y)?;
    money(
        op(x.micros, y.micros),
        &Money {
            micros: 0,
            currency,
        },
    )
}

fn same_currency(x: &Money, y: &Money) -> Result<(), EvalError> {
    common_currency(x, y).map(|_| ())
}

/// Amounts in different currencies neither add nor compare: there is no exchange rate here.
/// An amount in no currency (ISO 4217 `XXX`, the sum of no purchases) goes with any currency.
fn common_currency(x: &Money, y: &Money) -> Result<super::Currency, EvalError> {
    match (x.currency, y.currency) {
        (a, b) if a == b => Ok(a),
        (super::Currency::NONE, b) => Ok(b),
        (a, super::Currency::NONE) => Ok(a),
        (a, b) => Err(EvalError::InvalidArgument(format!(
            "currency mismatch: {} and {}",
            a.as_str(),
            b.as_str()
        ))),
    }
}

fn concat_lists(x: &Arc<Vec<Value>>, y: &Arc<Vec<Value>>) -> Value {
    match (x.is_empty(), y.is_empty()) {
        (_, true) => Value::List(x.clone()),
        (true, false) => Value::List(y.clone()),
        (false, false) => Value::list(x.iter().chain(y.iter()).cloned().collect()),
    }
}

/// `n / d` rounded to the nearest integer, ties to even; `d` must not be zero.
fn div_half_even(n: i128, d: i128) -> i128 {
    let (n, d) = if d < 0 { (-n, -d) } else { (n, d) };
    let quotient = n / d;
    let twice_remainder = (n % d).abs() * 2;
    let away = match twice_remainder.cmp(&d) {
        Ordering::Greater => true,
        Ordering::Equal => quotient % 2 != 0,
        Ordering::Less => false,
    };
    if away {
        quotient + n.signum()
    } else {
        quotient
    }
}

/// `micros × factor` for a finite `factor`, rounded half to even, computed exactly from the
/// double's binary value (mantissa × 2^exponent) rather than as a rounded floating-point product;
/// `None` on overflow.
fn scale_half_even(micros: i64, factor: f64) -> Option<i64> {
    let bits = factor.to_bits();
    let biased_exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = i128::from(bits & ((1 << 52) - 1));
    let (mantissa, exponent) = match biased_exponent {
        0 => (fraction, -1074),
        e => (fraction | (1 << 52), e - 1075),
    };
    let sign = if factor.is_sign_negative() { -1 } else { 1 };
    // |micros × mantissa| < 2^63 × 2^53, so the product itself cannot overflow.
    let product = i128::from(micros) * mantissa * sign;
    let scaled = match exponent {
        _ if product == 0 => 0,
        // Shifted left by 64 bits or more, any non-zero product is out of range.
        0..64 => product.checked_mul(1 << exponent)?,
        64.. => return None,
        -126..0 => div_half_even(product, 1 << exponent.unsigned_abs()),
        // |product| < 2^116: shifted right by more than 126 bits it is below one half.
        _ => 0,
    };
    i64::try_from(scaled).ok()
}

// ---------------------------------------------------------------------------------------------
// Equality and ordering
// ---------------------------------------------------------------------------------------------

/// CEL's heterogeneous equality. Numbers compare by exact value across int, uint and double
/// (`1 == 1.0`, but `9007199254740993 != 9007199254740992.0`); NaN equals nothing; lists, maps and
/// records compare element-wise; values of different kinds are unequal, not an error. An error
/// argument is returned as the error.
pub fn equals(a: &Value, b: &Value) -> Result<bool, EvalError> {
    use Value::*;
    Ok(match (a, b) {
        (Error(e), _) | (_, Error(e)) => return Err(e.as_ref().clone()),
        (Null, Null) => true,
        (Bool(x), Bool(y)) => x == y,
        (String(x), String(y)) => x == y,
        (Bytes(x), Bytes(y)) => x == y,
        (Timestamp(x), Timestamp(y)) | (Duration(x), Duration(y)) => x == y,
        (Money(x), Money(y)) => x.micros == y.micros && same_currency(x, y).is_ok(),
        (Timezone(x), Timezone(y)) => x == y,
        (Net(x), Net(y)) => x.cel_equals(y),
        (Enum(x), Enum(y)) => x == y,
        (Type(x), Type(y)) => same_type(x, y),
        (List(x), List(y)) => x.len() == y.len() && all_equal(x.iter().zip(y.iter()))?,
        (Map(x), Map(y)) => entries_equal(&x.entries, &y.entries)?,
        (Record(x), Record(y)) => x.ty == y.ty && fields_equal(&x.fields, &y.fields)?,
        (Optional(x), Optional(y)) => match (x, y) {
            (Some(x), Some(y)) => equals(x, y)?,
            (None, None) => true,
            _ => false,
        },
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => compare_numbers(x, y) == Some(Ordering::Equal),
            _ => false,
        },
    })
}

/// `_==_` as a value.
pub fn eq(a: &Value, b: &Value) -> Value {
    equals(a, b).map_or_else(Value::error, Value::Bool)
}

/// `_!=_` as a value.
pub fn ne(a: &Value, b: &Value) -> Value {
    equals(a, b).map_or_else(Value::error, |equal| Value::Bool(!equal))
}

/// Element-wise equality as CEL defines it for aggregates: any unequal pair makes the result
/// false even if another pair is an error; otherwise an error wins over true.
fn all_equal<'a>(pairs: impl Iterator<Item = (&'a Value, &'a Value)>) -> Result<bool, EvalError> {
    let mut error = None;
    for (x, y) in pairs {
        match equals(x, y) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    error.map_or(Ok(true), Err)
}

/// Maps are equal when they have the same keys and equal values under each key.
fn entries_equal(
    x: &BTreeMap<MapKey, Value>,
    y: &BTreeMap<MapKey, Value>,
) -> Result<bool, EvalError> {
    if x.len() != y.len() || !x.keys().all(|k| y.contains_key(k)) {
        return Ok(false);
    }
    all_equal(x.iter().filter_map(|(k, v)| Some((v, y.get(k)?))))
}

/// Records (of one type) are equal when the same fields are set, to equal values.
fn fields_equal(x: &[Option<Value>], y: &[Option<Value>]) -> Result<bool, EvalError> {
    let same_fields_set =
        x.len() == y.len() && x.iter().zip(y).all(|(f, g)| f.is_some() == g.is_some());
    if !same_fields_set {
        return Ok(false);
    }
    all_equal(
        x.iter()
            .zip(y)
            .filter_map(|(f, g)| f.as_ref().zip(g.as_ref())),
    )
}

/// Type values compare as CEL's runtime types, without element types: `type([1]) == type(['a'])`.
fn same_type(x: &Ty, y: &Ty) -> bool {
    match (x, y) {
        (Ty::List(_), Ty::List(_))
        | (Ty::Map(_, _), Ty::Map(_, _))
        | (Ty::Optional(_), Ty::Optional(_)) => true,
        _ => x == y,
    }
}

/// The order of two values for `<`, `<=`, `>`, `>=`: numbers across int, uint and double by exact
/// value, strings by code point, bytes, bools (`false < true`), timestamps, durations, and money
/// of one currency. `Ok(None)` when a NaN is involved: every comparison is then false. Other
/// kinds give `no such overload`.
pub fn compare(a: &Value, b: &Value) -> Result<Option<Ordering>, EvalError> {
    ordering("compare", a, b)
}

/// `_<_`.
pub fn less(a: &Value, b: &Value) -> Value {
    relation("_<_", a, b, Ordering::is_lt)
}

/// `_<=_`.
pub fn less_eq(a: &Value, b: &Value) -> Value {
    relation("_<=_", a, b, Ordering::is_le)
}

/// `_>_`.
pub fn greater(a: &Value, b: &Value) -> Value {
    relation("_>_", a, b, Ordering::is_gt)
}

/// `_>=_`.
pub fn greater_eq(a: &Value, b: &Value) -> Value {
    relation("_>=_", a, b, Ordering::is_ge)
}

fn relation(op: &str, a: &Value, b: &Value, holds: fn(Ordering) -> bool) -> Value {
    match ordering(op, a, b) {
        Ok(order) => Value::Bool(order.is_some_and(holds)),
        Err(e) => Value::error(e),
    }
}

fn ordering(op: &str, a: &Value, b: &Value) -> Result<Option<Ordering>, EvalError> {
    use Value::*;
    match (a, b) {
        (Error(e), _) | (_, Error(e)) => Err(e.as_ref().clone()),
        (Bool(x), Bool(y)) => Ok(Some(x.cmp(y))),
        // UTF-8 byte order is code point order.
        (String(x), String(y)) => Ok(Some(x.cmp(y))),
        (Bytes(x), Bytes(y)) => Ok(Some(x.cmp(y))),
        (Timestamp(x), Timestamp(y)) | (Duration(x), Duration(y)) => Ok(Some(x.cmp(y))),
        (Money(x), Money(y)) => same_currency(x, y).map(|()| Some(x.micros.cmp(&y.micros))),
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => Ok(compare_numbers(x, y)),
            _ => Err(no_overload(op, &[a, b])),
        },
    }
}

/// A number for cross-kind comparison: ints and uints as exact integers, doubles as they are.
#[derive(Clone, Copy)]
enum Number {
    Integer(i128),
    Double(f64),
}

fn number(v: &Value) -> Option<Number> {
    match v {
        Value::Int(i) => Some(Number::Integer(i128::from(*i))),
        Value::Uint(u) => Some(Number::Integer(i128::from(*u))),
        Value::Double(d) => Some(Number::Double(*d)),
        _ => None,
    }
}

fn compare_numbers(a: Number, b: Number) -> Option<Ordering> {
    match (a, b) {
        (Number::Integer(x), Number::Integer(y)) => Some(x.cmp(&y)),
        (Number::Double(x), Number::Double(y)) => x.partial_cmp(&y),
        (Number::Integer(x), Number::Double(y)) => compare_integer_double(x, y),
        (Number::Double(x), Number::Integer(y)) => {
            compare_integer_double(y, x).map(Ordering::reverse)
        }
    }
}

/// 2^63 and 2^64: the open upper bounds of the doubles that convert to int and uint.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
/// 2^127: every double below it in magnitude truncates to an exact `i128`.
const TWO_POW_127: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;

/// Exact comparison of an integer with a double, without rounding either: compare with the
/// double's integer part, then let its fraction break a tie.
///
/// One exception: `i64::MAX` and `u64::MAX` have no double of their own, and the CEL conformance
/// suite takes each as equal to the double it rounds to (2^63, 2^64), as cel-go did when it
/// converted the integer to a double. So they are equal here too, and `<=`/`>=` agree with `==`.
fn compare_integer_double(i: i128, d: f64) -> Option<Ordering> {
    let rounds_to = |max: i128, double: f64| i == max && d == double;
    if rounds_to(i128::from(i64::MAX), TWO_POW_63) || rounds_to(i128::from(u64::MAX), TWO_POW_64) {
        return Some(Ordering::Equal);
    }
    if d.is_nan() {
        return None;
    }
    if d >= TWO_POW_127 {
        return Some(Ordering::Less);
    }
    if d < -TWO_POW_127 {
        return Some(Ordering::Greater);
    }
    let whole = d.trunc();
    let by_fraction = whole.partial_cmp(&d).unwrap_or(Ordering::Equal);
    Some(i.cmp(&(whole as i128)).then(by_fraction))
}

// ---------------------------------------------------------------------------------------------
// Aggregates
// ---------------------------------------------------------------------------------------------

/// `elem in container`: list membership by heterogeneous equality, map key membership (numeric
/// keys match across int, uint and integral doubles; keys of other kinds are simply absent).
pub fn contains_elem(container: &Value, elem: &Value) -> Value {
    call("@in", &[elem, container], || match container {
        Value::List(items) => {
            // List elements are never errors (a list literal with an error is that error), so
            // `equals` cannot fail here.
            let found = items.iter().any(|item| equals(item, elem) == Ok(true));
            Some(Ok(Value::Bool(found)))
        }
        Value::Map(map) => {
            let found = MapKey::from_value(elem).is_ok_and(|key| map.entries.contains_key(&key));
            Some(Ok(Value::Bool(found)))
        }
        _ => None,
    })
}

/// `container[key]`: a list by int, uint or integral double (bounds-checked), a map by key.
pub fn index(container: &Value, key: &Value) -> Value {
    call("_[_]", &[container, key], || match container {
        Value::List(items) => Some(list_position(key).and_then(|pos| {
            usize::try_from(pos)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(|| EvalError::IndexOutOfRange(pos.to_string()))
        })),
        Value::Map(map) => Some(match MapKey::from_value(key) {
            Ok(k) => map
                .entries
                .get(&k)
                .cloned()
                .ok_or_else(|| EvalError::NoSuchKey(key.to_string())),
            Err(_) if matches!(key, Value::Double(_)) => Err(EvalError::NoSuchKey(key.to_string())),
            Err(e) => Err(e),
        }),
        _ => None,
    })
}

/// `container[?key]`: the element as an optional, empty where `container[key]` finds nothing.
pub fn optional_index(container: &Value, key: &Value) -> Value {
    match index(container, key) {
        Value::Error(e)
            if matches!(
                e.as_ref(),
                EvalError::IndexOutOfRange(_) | EvalError::NoSuchKey(_)
            ) =>
        {
            Value::Optional(None)
        }
        err @ Value::Error(_) => err,
        v => optional_of(&v),
    }
}

fn list_position(key: &Value) -> Result<i128, EvalError> {
    match key {
        Value::Int(i) => Ok(i128::from(*i)),
        Value::Uint(u) => Ok(i128::from(*u)),
        Value::Double(d) if d.fract() == 0.0 && d.abs() < TWO_POW_127 => Ok(*d as i128),
        Value::Double(d) => Err(EvalError::InvalidArgument(format!(
            "list index {d} is not an integer"
        ))),
        other => Err(EvalError::InvalidArgument(format!(
            "list index of type {} is not a number",
            other.type_name()
        ))),
    }
}

/// `size(v)`: strings in code points, bytes in bytes, lists and maps in elements.
pub fn size(v: &Value) -> Value {
    call("size", &[v], || {
        let n = match v {
            Value::String(s) => s.chars().count(),
            Value::Bytes(b) => b.len(),
            Value::List(items) => items.len(),
            Value::Map(map) => map.entries.len(),
            _ => return None,
        };
        Some(length(n))
    })
}

fn length(n: usize) -> Result<Value, EvalError> {
    i64::try_from(n)
        .map(Value::Int)
        .map_err(|_| EvalError::Overflow)
}

// ---------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------

/// `s.contains(sub)`.
pub fn contains(s: &Value, sub: &Value) -> Value {
    string_test("contains", s, sub, |s, sub| s.contains(sub))
}

/// `s.startsWith(prefix)`.
pub fn starts_with(s: &Value, prefix: &Value) -> Value {
    string_test("startsWith", s, prefix, |s, prefix| s.starts_with(prefix))
}

/// `s.endsWith(suffix)`.
pub fn ends_with(s: &Value, suffix: &Value) -> Value {
    string_test("endsWith", s, suffix, |s, suffix| s.ends_with(suffix))
}

fn string_test(name: &str, a: &Value, b: &Value, test: fn(&str, &str) -> bool) -> Value {
    call(name, &[a, b], || {
        let (a, b) = (string_arg(a)?, string_arg(b)?);
        Some(Ok(Value::Bool(test(a, b))))
    })
}

/// Compiles an RE2-syntax pattern. The `regex` crate matches in linear time, as RE2 does.
pub fn compile_regex(pattern: &str) -> Result<regex::Regex, EvalError> {
    regex::Regex::new(pattern)
        .map_err(|e| EvalError::InvalidArgument(format!("invalid regular expression: {e}")))
}

/// `s.matches(re)` with a compiled pattern: true if it matches any substring (anchor with `^`
/// and `$` for a whole-string match).
pub fn matches(s: &Value, re: &regex::Regex) -> Value {
    call("matches", &[s], || {
        string_arg(s).map(|s| Ok(Value::Bool(re.is_match(s))))
    })
}

/// `s.matches(pattern)` with a pattern known only at run time.
pub fn matches_pattern(s: &Value, pattern: &Value) -> Value {
    call("matches", &[s, pattern], || {
        let (s, pattern) = (string_arg(s)?, string_arg(pattern)?);
        Some(compile_regex(pattern).map(|re| Value::Bool(re.is_match(s))))
    })
}

fn string_arg(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Timestamps and durations
// ---------------------------------------------------------------------------------------------

/// `t.getHours()`, `t.getHours(tz)` and the other accessors: on a timestamp, a calendar field in
/// UTC or in `tz` (a string or timezone value); on a duration, a clock field without a zone.
pub fn time_part(v: &Value, part: TimePart, tz: Option<&Value>) -> Value {
    call(part.method_name(), &args(&[v], tz), || {
        let result = match (v, tz) {
            (Value::Timestamp(n), None) => time::timestamp_part(*n, part, None),
            (Value::Timestamp(n), Some(Value::String(z) | Value::Timezone(z))) => {
                time::timestamp_part(*n, part, Some(z))
            }
            (Value::Duration(n), None) if part.applies_to_durations() => {
                time::duration_part(*n, part)
            }
            _ => return None,
        };
        Some(result.map(Value::Int))
    })
}

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

/// `int(v)`: from uint (range-checked), double (truncated; NaN, infinities and values outside
/// (-2^63, 2^63) are range errors), decimal string, timestamp (Unix seconds, rounded down), enum
/// (its ordinal).
pub fn to_int(v: &Value) -> Value {
    call("int", &[v], || match v {
        Value::Int(_) => Some(Ok(v.clone())),
        Value::Uint(u) => Some(
            i64::try_from(*u)
                .map(Value::Int)
                .map_err(|_| range("int", v)),
        ),
        Value::Double(d) if *d > -TWO_POW_63 && *d < TWO_POW_63 => Some(Ok(Value::Int(*d as i64))),
        Value::Double(_) => Some(Err(range("int", v))),
        Value::String(s) => Some(s.parse().map(Value::Int).map_err(|_| unparsable("int", s))),
        Value::Timestamp(n) => {
            let seconds = n.div_euclid(time::NANOS_PER_SECOND);
            Some(
                i64::try_from(seconds)
                    .map(Value::Int)
                    .map_err(|_| range("int", v)),
            )
        }
        Value::Enum(e) => Some(Ok(Value::Int(i64::from(e.index)))),
        _ => None,
    })
}

/// `uint(v)`: from int (range-checked), double (truncated; values outside [0, 2^64) are range
/// errors), decimal string.
pub fn to_uint(v: &Value) -> Value {
    call("uint", &[v], || match v {
        Value::Uint(_) => Some(Ok(v.clone())),
        Value::Int(i) => Some(
            u64::try_from(*i)
                .map(Value::Uint)
                .map_err(|_| range("uint", v)),
        ),
        Value::Double(d) if *d >= 0.0 && *d < TWO_POW_64 => Some(Ok(Value::Uint(*d as u64))),
        Value::Double(_) => Some(Err(range("uint", v))),
        Value::String(s) => Some(
            s.parse()
                .map(Value::Uint)
                .map_err(|_| unparsable("uint", s)),
        ),
        _ => None,
    })
}

/// `double(v)`: from int and uint (nearest double), string (`"1e3"`, `"-0.5"`, `"inf"`, `"NaN"`),
/// money (its amount; exactness ends here).
pub fn to_double(v: &Value) -> Value {
    call("double", &[v], || match v {
        Value::Double(_) => Some(Ok(v.clone())),
        Value::Int(i) => Some(Ok(Value::Double(*i as f64))),
        Value::Uint(u) => Some(Ok(Value::Double(*u as f64))),
        Value::String(s) => Some(match s.parse::<f64>() {
            // A finite number too large for a double is a range error, as in cel-go; only
            // the spellings of infinity are infinite.
            Ok(d) if d.is_infinite() && !names_infinity(s) => Err(range("double", v)),
            Ok(d) => Ok(Value::Double(d)),
            Err(_) => Err(unparsable("double", s)),
        }),
        Value::Money(m) => Some(Ok(Value::Double(m.to_f64()))),
        _ => None,
    })
}

fn names_infinity(text: &str) -> bool {
    let unsigned = text.trim_start_matches(['+', '-']);
    unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity")
}

/// `string(v)`: numbers in decimal (doubles as Go's `%g`, as cel-go prints them: `1`, `1.5`,
/// `1e+06`), bytes that are valid UTF-8, bools, timestamps and durations in their CEL text form,
/// money as `9.99 EUR`, a timezone as its name, an IP address or CIDR prefix in its text form.
pub fn to_string(v: &Value) -> Value {
    call("string", &[v], || {
        let text = match v {
            Value::String(_) => return Some(Ok(v.clone())),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Uint(u) => u.to_string(),
            Value::Double(d) => format_double(*d),
            Value::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) => s.to_owned(),
                Err(_) => {
                    return Some(Err(EvalError::InvalidArgument(
                        "invalid UTF-8 in bytes".into(),
                    )));
                }
            },
            Value::Timestamp(n) => time::format_timestamp(*n),
            Value::Duration(n) => time::format_duration(*n),
            Value::Money(m) => m.to_string(),
            Value::Timezone(z) => z.to_string(),
            Value::Net(n) => n.text(),
            _ => return None,
        };
        Some(Ok(Value::string(text)))
    })
}

/// `bytes(v)`: a string's UTF-8 encoding.
pub fn to_bytes(v: &Value) -> Value {
    call("bytes", &[v], || match v {
        Value::Bytes(_) => Some(Ok(v.clone())),
        Value::String(s) => Some(Ok(Value::Bytes(s.as_bytes().into()))),
        _ => None,
    })
}

/// `bool(v)`: from the strings that Go's `strconv.ParseBool` accepts (`"true"`, `"TRUE"`,
/// `"True"`, `"t"`, `"T"`, `"1"` and their false counterparts).
pub fn to_bool(v: &Value) -> Value {
    call("bool", &[v], || match v {
        Value::Bool(_) => Some(Ok(v.clone())),
        Value::String(s) => Some(match s.as_ref() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(Value::Bool(true)),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(Value::Bool(false)),
            _ => Err(unparsable("bool", s)),
        }),
        _ => None,
    })
}

/// `timestamp(v)`: from an RFC 3339 string, or from Unix seconds (an int).
pub fn to_timestamp(v: &Value) -> Value {
    call("timestamp", &[v], || match v {
        Value::Timestamp(_) => Some(Ok(v.clone())),
        Value::String(s) => Some(time::parse_timestamp(s).map(Value::Timestamp)),
        Value::Int(seconds) => Some(timestamp(i128::from(*seconds) * time::NANOS_PER_SECOND)),
        _ => None,
    })
}

/// `duration(v)`: from a duration string such as `"1h30m"`.
pub fn to_duration(v: &Value) -> Value {
    call("duration", &[v], || match v {
        Value::Duration(_) => Some(Ok(v.clone())),
        Value::String(s) => Some(time::parse_duration(s).map(Value::Duration)),
        _ => None,
    })
}

/// `type(v)`: the value's runtime type, as a type value.
pub fn type_of(v: &Value) -> Value {
    call("type", &[v], || {
        Some(Ok(Value::Type(Arc::new(runtime_type(v)))))
    })
}

/// The runtime type of a value. Aggregates carry no element types at run time, so lists, maps and
/// optionals are `list<dyn>`, `map<dyn, dyn>` and `optional<dyn>`.
pub fn runtime_type(v: &Value) -> Ty {
    match v {
        Value::Null => Ty::Null,
        Value::Bool(_) => Ty::Bool,
        Value::Int(_) => Ty::Int,
        Value::Uint(_) => Ty::Uint,
        Value::Double(_) => Ty::Double,
        Value::String(_) => Ty::String,
        Value::Bytes(_) => Ty::Bytes,
        Value::Timestamp(_) => Ty::Timestamp,
        Value::Duration(_) => Ty::Duration,
        Value::Money(_) => Ty::Money,
        Value::Timezone(_) => Ty::Timezone,
        Value::Enum(e) => Ty::Enum(e.ty),
        Value::List(_) => Ty::list(Ty::Dyn),
        Value::Map(_) => Ty::map(Ty::Dyn, Ty::Dyn),
        Value::Record(r) => Ty::Record(r.ty),
        Value::Optional(_) => Ty::optional(Ty::Dyn),
        Value::Type(_) => Ty::Type,
        Value::Error(_) => Ty::Error,
        Value::Net(NetValue::Ip(_)) => Ty::Ip,
        Value::Net(NetValue::Cidr(..)) => Ty::Cidr,
    }
}

/// A double as Go's `%g` prints it (cel-go's `string(double)`): the shortest digits that read
/// back as the same double, in positional form for exponents -4..=5 and in `d.ddde±XX` form
/// otherwise; `NaN`, `+Inf`, `-Inf`.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's `{:e}` gives the same shortest digits: `-1.2345e-7`.
    let scientific = format!("{:e}", d.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if d.is_sign_negative() { "-" } else { "" };
    if !(-4..6).contains(&exponent) {
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{sign}{mantissa}e{exponent_sign}{:02}",
            exponent.unsigned_abs()
        );
    }
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let point = exponent + 1;
    match usize::try_from(point) {
        Err(_) | Ok(0) => format!(
            "{sign}0.{}{digits}",
            "0".repeat(point.unsigned_abs() as usize)
        ),
        Ok(p) => match digits.split_at_checked(p) {
            Some((whole, fraction)) if !fraction.is_empty() => format!("{sign}{whole}.{fraction}"),
            _ => format!("{sign}{digits:0<p$}"),
        },
    }
}

fn range(target: &str, v: &Value) -> EvalError {
    EvalError::Range(format!("{v} is out of the range of {target}"))
}

fn unparsable(target: &str, text: &str) -> EvalError {
    EvalError::InvalidArgument(format!("cannot convert {text:?} to {target}"))
}

// ---------------------------------------------------------------------------------------------
// Optionals
// ---------------------------------------------------------------------------------------------

/// `optional.of(v)`.
pub fn optional_of(v: &Value) -> Value {
    call("optional.of", &[v], || {
        Some(Ok(Value::Optional(Some(Arc::new(v.clone())))))
    })
}

/// `optional.ofNonZeroValue(v)`: empty for the zero value of `v`'s type.
pub fn optional_of_non_zero(v: &Value) -> Value {
    let zero = match v {
        Value::Error(_) => return v.clone(),
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Uint(u) => *u == 0,
        Value::Double(d) => *d == 0.0,
        Value::String(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.entries.is_empty(),
        Value::Duration(d) | Value::Timestamp(d) => *d == 0,
        Value::Optional(o) => o.is_none(),
        _ => false,
    };
    if zero {
        Value::Optional(None)
    } else {
        optional_of(v)
    }
}

/// `a.or(b)`: `a` when it has a value, else `b`.
pub fn optional_or(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Optional(Some(_)), _) => a.clone(),
        (Value::Optional(None), Value::Optional(_) | Value::Error(_)) => b.clone(),
        (Value::Error(_), _) => a.clone(),
        _ => Value::error(no_overload("or", &[a, b])),
    }
}

/// `o.hasValue()`.
pub fn has_value(o: &Value) -> Value {
    call("hasValue", &[o], || match o {
        Value::Optional(inner) => Some(Ok(Value::Bool(inner.is_some()))),
        _ => None,
    })
}

/// `o.value()`: the value, or an error for an empty optional.
pub fn optional_value(o: &Value) -> Value {
    call("value", &[o], || match o {
        Value::Optional(Some(v)) => Some(Ok(v.as_ref().clone())),
        Value::Optional(None) => Some(Err(EvalError::Message(
            "optional.none() has no value".into(),
        ))),
        _ => None,
    })
}

/// `o.orValue(default)`: the value, or `default` for an empty optional. The default is only
/// looked at when it is needed, so an error there does not spoil a present value.
pub fn or_value(o: &Value, default: &Value) -> Value {
    match o {
        Value::Error(_) => o.clone(),
        Value::Optional(Some(v)) => v.as_ref().clone(),
        Value::Optional(None) => default.clone(),
        _ => Value::error(no_overload("orValue", &[o, default])),
    }
}

// ---------------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------------

/// Runs an overload: passes on the first error argument, reports `no such overload` when
/// `compute` accepts none of the argument kinds, and turns a failure into an error value.
fn call(name: &str, args: &[&Value], compute: impl FnOnce() -> Outcome) -> Value {
    if let Some(error) = args.iter().find(|v| v.is_error()) {
        return (*error).clone();
    }
    match compute() {
        Some(Ok(v)) => v,
        Some(Err(e)) => Value::error(e),
        None => Value::error(no_overload(name, args)),
    }
}

/// The arguments of a call whose last argument is optional.
fn args<'a>(required: &[&'a Value], optional: Option<&'a Value>) -> Vec<&'a Value> {
    required.iter().copied().chain(optional).collect()
}

fn no_overload(name: &str, args: &[&Value]) -> EvalError {
    let kinds: Vec<&str> = args.iter().map(|v| v.type_name()).collect();
    EvalError::NoSuchOverload(format!("{name}({})", kinds.join(", ")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testing::{b, d, dur, i, list, map, s, ts, u};
    use crate::value::{Currency, EnumValue, RecordValue};
    use std::mem::discriminant;

    fn cash(amount: &str, currency: &str) -> Value {
        Value::Money(Money::parse_amount(amount, Currency::parse(currency).unwrap()).unwrap())
    }

    fn eur(amount: &str) -> Value {
        cash(amount, "EUR")
    }

    fn error(e: EvalError) -> Value {
        Value::error(e)
    }

    fn overflow() -> Value {
        error(EvalError::Overflow)
    }

    fn money_overflow() -> Value {
        error(EvalError::Range("the amount is too large for money".into()))
    }

    fn no_overload() -> Value {
        error(EvalError::NoSuchOverload(String::new()))
    }

    fn range() -> Value {
        error(EvalError::Range(String::new()))
    }

    fn invalid() -> Value {
        error(EvalError::InvalidArgument(String::new()))
    }

    fn out_of_range() -> Value {
        error(EvalError::IndexOutOfRange(String::new()))
    }

    /// Values compare structurally (doubles by bits); errors compare by kind only, since their
    /// messages are informative.
    #[track_caller]
    fn check(actual: &Value, expected: &Value, what: &str) {
        match (actual, expected) {
            (Value::Error(a), Value::Error(e)) => {
                assert_eq!(
                    discriminant(a.as_ref()),
                    discriminant(e.as_ref()),
                    "{what}: {a}"
                )
            }
            _ => assert_eq!(actual, expected, "{what}"),
        }
    }

    type Binary = fn(&Value, &Value) -> Value;

    /// Rows of (operation, left, right, expected).
    #[track_caller]
    fn check_ops(cases: &[(Binary, Value, Value, Value)]) {
        for (op, a, b, expected) in cases {
            check(&op(a, b), expected, &format!("{a} ? {b}"));
        }
    }

    #[test]
    fn int_arithmetic_is_checked() {
        let (max, min) = (i64::MAX, i64::MIN);
        check_ops(&[
            (add, i(40), i(2), i(42)),
            (add, i(max), i(1), overflow()),
            (add, i(min), i(-1), overflow()),
            (sub, i(42), i(-22), i(64)),
            (sub, i(min), i(1), overflow()),
            (sub, i(1), i(-max), overflow()),
            (mul, i(-30), i(-2), i(60)),
            (mul, i(5_000_000_000), i(5_000_000_000), overflow()),
            (mul, i(-5_000_000_000), i(5_000_000_000), overflow()),
            (mul, i(min), i(-1), overflow()),
            (div, i(-20), i(2), i(-10)),
            (div, i(-7), i(2), i(-3)),
            (div, i(15), i(0), error(EvalError::DivisionByZero)),
            (div, i(min), i(-1), overflow()),
            (div, i(min), i(1), i(min)),
            (rem, i(47), i(5), i(2)),
            (rem, i(43), i(-5), i(3)),
            (rem, i(-42), i(-5), i(-2)),
            (rem, i(-3), i(5), i(-3)),
            (rem, i(34), i(0), error(EvalError::ModulusByZero)),
            (rem, i(min), i(-1), overflow()),
        ]);
        check(&neg(&i(42)), &i(-42), "-42");
        check(&neg(&i(min)), &overflow(), "-MIN");
        check(&neg(&i(max)), &i(-max), "-MAX");
    }

    #[test]
    fn uint_arithmetic_is_checked() {
        check_ops(&[
            (add, u(42), u(2), u(44)),
            (add, u(u64::MAX), u(1), overflow()),
            (sub, u(42), u(12), u(30)),
            (sub, u(0), u(1), overflow()),
            (mul, u(40), u(2), u(80)),
            (mul, u(5_000_000_000), u(5_000_000_000), overflow()),
            (div, u(60), u(2), u(30)),
            (div, u(15), u(0), error(EvalError::DivisionByZero)),
            (rem, u(42), u(5), u(2)),
            (rem, u(34), u(0), error(EvalError::ModulusByZero)),
        ]);
        check(&neg(&u(5)), &no_overload(), "-5u");
    }

    #[test]
    fn double_arithmetic_is_ieee() {
        check_ops(&[
            (add, d(4.25), d(15.25), d(19.5)),
            (mul, d(2.0), d(8.988466e307), d(f64::INFINITY)),
            (mul, d(2.0), d(-8.988466e307), d(f64::NEG_INFINITY)),
            (div, d(15.75), d(0.0), d(f64::INFINITY)),
            (div, d(1e-320), d(1e10), d(0.0)),
            (div, d(-8.875), d(-0.0625), d(142.0)),
            (rem, d(47.5), d(5.5), no_overload()),
        ]);
        check(&neg(&d(0.0)), &d(-0.0), "-(0.0)");
        assert!(matches!(div(&d(0.0), &d(0.0)), Value::Double(x) if x.is_nan()));
    }

    #[test]
    fn mixed_numeric_arithmetic_has_no_overload() {
        for op in [add, sub, mul, div, rem] as [Binary; 5] {
            for (a, b) in [(i(1), u(1)), (i(1), d(1.0)), (u(1), d(1.0)), (s("1"), i(1))] {
                check(&op(&a, &b), &no_overload(), &format!("{a} ? {b}"));
            }
        }
        check(&neg(&Value::Bool(false)), &no_overload(), "-false");
        check(&not(&i(1)), &no_overload(), "!1");
        check(&not(&Value::Bool(true)), &Value::Bool(false), "!true");
    }

    #[test]
    fn concatenation() {
        check_ops(&[
            (add, s("he"), s("llo"), s("hello")),
            (add, s(""), s("Ω"), s("Ω")),
            (add, b(b"abc"), b(b"\xffoo"), b(b"abc\xffoo")),
            (
                add,
                list(&[i(0), i(1)]),
                list(&[s("x")]),
                list(&[i(0), i(1), s("x")]),
            ),
            (add, list(&[]), list(&[]), list(&[])),
            (add, list(&[]), list(&[i(3)]), list(&[i(3)])),
            (add, s("a"), b(b"b"), no_overload()),
        ]);
    }

    #[test]
    fn errors_pass_through_left_to_right() {
        let first = error(EvalError::Unbound("x".into()));
        let second = error(EvalError::DivisionByZero);
        assert_eq!(add(&first, &i(1)), first);
        assert_eq!(add(&i(1), &second), second);
        assert_eq!(mul(&first, &second), first);
        assert_eq!(neg(&first), first);
        assert_eq!(size(&first), first);
        assert_eq!(eq(&first, &i(1)), first);
        assert_eq!(less(&i(1), &second), second);
        assert_eq!(equals(&i(1), &second), Err(EvalError::DivisionByZero));
        assert_eq!(contains_elem(&list(&[i(1)]), &first), first);
    }

    #[test]
    fn timestamp_and_duration_arithmetic() {
        let (first, last) = ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z");
        let (t0, t1) = (ts("2009-02-13T23:00:00Z"), ts("2009-02-13T23:04:00Z"));
        check_ops(&[
            (add, t0.clone(), dur("240s"), t1.clone()),
            (add, dur("240s"), t0.clone(), t1.clone()),
            (add, dur("600s"), dur("50s"), dur("650s")),
            (
                add,
                ts("0001-01-01T00:00:01.000000001Z"),
                dur("-999999999ns"),
                ts("0001-01-01T00:00:00.000000002Z"),
            ),
            (add, ts(first), dur("-1ns"), range()),
            (
                add,
                ts("9999-12-31T23:59:59.999999999Z"),
                dur("1ns"),
                range(),
            ),
            (add, ts(last), dur("1s"), range()),
            (add, dur("5000000000s"), dur("5000000000s"), range()),
            (add, t0.clone(), t0.clone(), no_overload()),
            (add, dur("1s"), i(1), no_overload()),
            (sub, t1.clone(), dur("240s"), t0.clone()),
            (sub, t1.clone(), t0.clone(), dur("240s")),
            (sub, t0.clone(), t1.clone(), dur("-240s")),
            (sub, dur("900s"), dur("42s"), dur("858s")),
            (sub, ts(last), ts(first), range()),
            (sub, ts(first), ts(last), range()),
            (sub, dur("-5000000000s"), dur("5000000000s"), range()),
            (sub, dur("1s"), t0.clone(), no_overload()),
        ]);
        check(&neg(&dur("1.5s")), &dur("-1.5s"), "-duration");
        check(&neg(&t0), &no_overload(), "-timestamp");
    }

    #[test]
    fn money_is_exact() {
        let usd = cash("1", "USD");
        check_ops(&[
            (add, eur("9.99"), eur("0.01"), eur("10")),
            (add, eur("1"), usd.clone(), invalid()),
            (add, eur("1"), i(1), no_overload()),
            (
                add,
                eur("9000000000000"),
                eur("9000000000000"),
                money_overflow(),
            ),
            (sub, eur("10"), eur("0.01"), eur("9.99")),
            (sub, eur("1"), usd.clone(), invalid()),
            (mul, eur("9.99"), i(3), eur("29.97")),
            (mul, i(-2), eur("1.5"), eur("-3")),
            (mul, eur("9000000000000"), i(2), money_overflow()),
            (mul, eur("9.99"), d(0.9), eur("8.991")),
            (mul, d(0.1), eur("9.99"), eur("0.999")),
            // Half to even at the micro-unit, from the double's exact value.
            (mul, eur("0.000001"), d(0.5), eur("0")),
            (mul, eur("0.000003"), d(0.5), eur("0.000002")),
            (mul, eur("0.000005"), d(0.5), eur("0.000002")),
            (mul, eur("0.000007"), d(0.5), eur("0.000004")),
            (mul, eur("-0.000005"), d(0.5), eur("-0.000002")),
            (mul, eur("0.000001"), d(1.5), eur("0.000002")),
            (mul, eur("0.000001"), d(0.5000000001), eur("0.000001")),
            (mul, eur("1"), d(5e-324), eur("0")),
            (mul, eur("1"), d(-0.0), eur("0")),
            (mul, eur("1"), d(1e12), eur("1000000000000")),
            (mul, eur("1"), d(1e300), money_overflow()),
            (mul, eur("0"), d(1e300), eur("0")),
            (mul, eur("-1"), d(-2.5), eur("2.5")),
            (mul, eur("1"), d(f64::INFINITY), range()),
            (mul, eur("1"), d(f64::NAN), range()),
            (mul, eur("1"), eur("1"), no_overload()),
            (div, eur("10"), i(3), eur("3.333333")),
            (div, eur("20"), i(3), eur("6.666667")),
            (div, eur("-20"), i(3), eur("-6.666667")),
            (div, eur("0.000005"), i(2), eur("0.000002")),
            (div, eur("0.000007"), i(2), eur("0.000004")),
            (div, eur("0.000007"), i(-2), eur("-0.000004")),
            (div, eur("1"), i(0), error(EvalError::DivisionByZero)),
            (div, eur("1"), d(2.0), no_overload()),
        ]);
        check(&neg(&eur("9.99")), &eur("-9.99"), "-money");
        let min = Value::Money(Money {
            micros: i64::MIN,
            currency: Currency::parse("EUR").unwrap(),
        });
        check(&neg(&min), &money_overflow(), "-MIN money");
        check(&div(&min, &i(-1)), &money_overflow(), "MIN money / -1");
    }

    #[test]
    fn heterogeneous_equality() {
        let t = Value::Bool(true);
        let f = Value::Bool(false);
        let enum_value = |ty, index| Value::Enum(EnumValue { ty, index });
        let some = |v: Value| Value::Optional(Some(Arc::new(v)));
        let type_value = |ty: Ty| Value::Type(Arc::new(ty));
        let record = |fields: &[Option<Value>]| {
            Value::Record(Arc::new(RecordValue {
                ty: 0,
                fields: fields.to_vec(),
            }))
        };
        check_ops(&[
            (eq, i(1), u(1), t.clone()),
            (eq, i(1), d(1.0), t.clone()),
            (eq, u(1), d(1.0), t.clone()),
            (eq, i(2), d(1.0), f.clone()),
            (eq, i(-1), u(u64::MAX), f.clone()),
            (
                eq,
                i(9_007_199_254_740_993),
                d(9_007_199_254_740_992.0),
                f.clone(),
            ),
            (
                eq,
                i(9_007_199_254_740_992),
                d(9_007_199_254_740_992.0),
                t.clone(),
            ),
            (
                eq,
                u(u64::MAX - 1),
                d(18_446_744_073_709_551_616.0),
                f.clone(),
            ),
            (eq, i(1), d(1.5), f.clone()),
            (eq, d(f64::NAN), d(f64::NAN), f.clone()),
            (eq, i(1), d(f64::NAN), f.clone()),
            (eq, d(0.0), d(-0.0), t.clone()),
            (eq, s("a"), i(1), f.clone()),
            (eq, s("Am\u{e9}lie"), s("Ame\u{301}lie"), f.clone()),
            (eq, Value::Null, Value::Null, t.clone()),
            (eq, Value::Null, i(0), f.clone()),
            (eq, Value::Null, list(&[]), f.clone()),
            (eq, b(b"\xc3\xbf"), b("ÿ".as_bytes()), t.clone()),
            (
                eq,
                list(&[d(1.0), i(2), u(3)]),
                list(&[u(1), i(2), d(3.0)]),
                t.clone(),
            ),
            (eq, list(&[i(1)]), list(&[i(1), i(2)]), f.clone()),
            (eq, list(&[s("one")]), list(&[i(2), i(3)]), f.clone()),
            (
                eq,
                list(&[i(1), s("dos"), i(3)]),
                list(&[i(1), i(2), i(4)]),
                f.clone(),
            ),
            (eq, list(&[list(&[])]), list(&[list(&[])]), t.clone()),
            (
                eq,
                map(&[(i(1), d(1.0)), (u(2), u(3))]),
                map(&[(u(1), i(1)), (i(2), d(3.0))]),
                t.clone(),
            ),
            (
                eq,
                map(&[(s("k"), i(1))]),
                map(&[(s("j"), i(1))]),
                f.clone(),
            ),
            (
                eq,
                map(&[(s("k"), i(1))]),
                map(&[(s("k"), i(1)), (s("j"), i(1))]),
                f.clone(),
            ),
            (
                eq,
                map(&[(s("k"), i(1)), (s("j"), i(2))]),
                map(&[(s("k"), i(1)), (s("j"), Value::Null)]),
                f.clone(),
            ),
            (eq, eur("1"), eur("1.00"), t.clone()),
            (eq, eur("1"), cash("1", "USD"), f.clone()),
            (eq, eur("1"), d(1.0), f.clone()),
            (eq, enum_value(1, 2), enum_value(1, 2), t.clone()),
            (eq, enum_value(1, 2), enum_value(2, 2), f.clone()),
            (eq, enum_value(1, 2), i(2), f.clone()),
            (eq, some(i(1)), some(d(1.0)), t.clone()),
            (eq, some(i(1)), Value::Optional(None), f.clone()),
            (eq, Value::Optional(None), Value::Optional(None), t.clone()),
            (
                eq,
                type_value(Ty::list(Ty::Int)),
                type_value(Ty::list(Ty::String)),
                t.clone(),
            ),
            (eq, type_value(Ty::Int), type_value(Ty::Uint), f.clone()),
            (
                eq,
                record(&[Some(i(1)), None]),
                record(&[Some(d(1.0)), None]),
                t.clone(),
            ),
            (
                eq,
                record(&[Some(i(1)), None]),
                record(&[Some(i(1)), Some(i(2))]),
                f.clone(),
            ),
            (
                eq,
                ts("2009-02-13T23:31:30Z"),
                ts("2009-02-13T23:31:30Z"),
                t.clone(),
            ),
            (eq, ts("2009-02-13T23:31:30Z"), dur("1s"), f.clone()),
            (eq, dur("60s"), dur("1m"), t.clone()),
        ]);
        check(&ne(&i(1), &d(1.0)), &f, "1 != 1.0");
        check(&ne(&d(f64::NAN), &d(f64::NAN)), &t, "NaN != NaN");
    }

    #[test]
    fn ordering_across_numeric_kinds_at_the_extremes() {
        // (a, b, a < b, a <= b) — from the CEL conformance suite's comparisons.
        let cases: &[(Value, Value, bool, bool)] = &[
            (i(1), u(2), true, true),
            (i(1), d(2.0), true, true),
            (u(1), i(1), false, true),
            (d(1.0), u(1), false, true),
            (i(1), u(9_223_372_036_854_775_808), true, true),
            (i(-1), u(0), true, true),
            (u(1), i(i64::MIN), false, false),
            (i(i64::MAX), d(9_223_372_036_854_775_808.0), false, true),
            (d(9_223_372_036_854_775_808.0), i(i64::MAX), false, true),
            (i(i64::MAX), d(9_223_372_036_854_777_857.0), true, true),
            (i(i64::MAX), d(-9_223_372_036_854_777_857.0), false, false),
            (i(i64::MIN), d(-9_223_372_036_854_775_809.0), false, true),
            (i(i64::MIN), d(-9_223_372_036_854_777_857.0), false, false),
            (d(-9_223_372_036_854_775_809.0), i(i64::MIN), false, true),
            (u(u64::MAX), d(-1.0), false, false),
            (u(u64::MAX), d(18_446_744_073_709_590_000.0), true, true),
            (d(18_446_744_073_709_553_665.0), u(u64::MAX), false, false),
            (
                i(9_007_199_254_740_993),
                d(9_007_199_254_740_992.0),
                false,
                false,
            ),
            (
                d(9_007_199_254_740_992.0),
                i(9_007_199_254_740_993),
                true,
                true,
            ),
            (i(2), d(2.5), true, true),
            (i(-2), d(-2.5), false, false),
            (i(0), d(-0.0), false, true),
            (i(0), d(f64::INFINITY), true, true),
            (i(0), d(f64::NEG_INFINITY), false, false),
            (d(-0.0), d(0.0), false, true),
        ];
        for (a, b, lt, le) in cases {
            check(&less(a, b), &Value::Bool(*lt), &format!("{a} < {b}"));
            check(&less_eq(a, b), &Value::Bool(*le), &format!("{a} <= {b}"));
            check(&greater(a, b), &Value::Bool(!le), &format!("{a} > {b}"));
            check(&greater_eq(a, b), &Value::Bool(!lt), &format!("{a} >= {b}"));
        }
    }

    #[test]
    fn nan_compares_false_every_way() {
        for (a, b) in [
            (d(f64::NAN), d(1.0)),
            (i(1), d(f64::NAN)),
            (d(f64::NAN), u(1)),
        ] {
            assert_eq!(compare(&a, &b), Ok(None));
            for op in [less, less_eq, greater, greater_eq] as [Binary; 4] {
                check(&op(&a, &b), &Value::Bool(false), &format!("{a} ? {b}"));
            }
        }
    }

    #[test]
    fn ordering_of_other_kinds() {
        let cases: &[(Value, Value, Option<Ordering>)] = &[
            (s("a"), s("b"), Some(Ordering::Less)),
            (s("Abc"), s("aBC"), Some(Ordering::Less)),
            (s("a"), s("\u{e1}"), Some(Ordering::Less)),
            (s("\u{ffff}"), s("\u{10000}"), Some(Ordering::Less)),
            (s("abc"), s("abcd"), Some(Ordering::Less)),
            (s("α"), s("omega"), Some(Ordering::Greater)),
            (b(b"\xc3\xa1"), b(b"b"), Some(Ordering::Greater)),
            (b(b""), b(b" "), Some(Ordering::Less)),
            (Value::Bool(false), Value::Bool(true), Some(Ordering::Less)),
            (
                ts("2009-02-13T23:00:00Z"),
                ts("2009-03-13T23:00:00Z"),
                Some(Ordering::Less),
            ),
            (dur("300s"), dur("200s"), Some(Ordering::Greater)),
            (eur("1.5"), eur("1.50"), Some(Ordering::Equal)),
        ];
        for (a, b, expected) in cases {
            assert_eq!(compare(a, b), Ok(*expected), "{a} ? {b}");
        }
        for (a, b) in [
            (list(&[i(0)]), list(&[i(1)])),
            (map(&[]), map(&[])),
            (Value::Null, Value::Null),
            (s("foo"), i(1024)),
            (ts("2009-02-13T23:00:00Z"), dur("1s")),
            (eur("1"), d(1.0)),
        ] {
            check(&less(&a, &b), &no_overload(), &format!("{a} < {b}"));
        }
        check(&less(&eur("1"), &cash("2", "USD")), &invalid(), "EUR < USD");
    }

    #[test]
    fn membership() {
        let numbers = list(&[i(5), i(4), i(3)]);
        let keys = map(&[(i(3), d(3.0)), (s("key"), u(2))]);
        let cases: &[(Value, &Value, Value)] = &[
            (i(3), &numbers, Value::Bool(true)),
            (u(3), &numbers, Value::Bool(true)),
            (d(3.0), &numbers, Value::Bool(true)),
            (d(3.5), &numbers, Value::Bool(false)),
            (s("3"), &numbers, Value::Bool(false)),
            (s("key"), &keys, Value::Bool(true)),
            (u(3), &keys, Value::Bool(true)),
            (d(3.0), &keys, Value::Bool(true)),
            (d(3.5), &keys, Value::Bool(false)),
            (s("lock"), &keys, Value::Bool(false)),
            (list(&[]), &keys, Value::Bool(false)),
            (i(1), &s("1"), no_overload()),
        ];
        for (elem, container, expected) in cases {
            check(
                &contains_elem(container, elem),
                expected,
                &format!("{elem} in {container}"),
            );
        }
        check(
            &contains_elem(&list(&[]), &i(7)),
            &Value::Bool(false),
            "7 in []",
        );
    }

    #[test]
    fn indexing() {
        let items = list(&[i(7), i(8), i(9)]);
        let m = map(&[(i(1), s("one")), (s("k"), s("v"))]);
        let cases: &[(&Value, Value, Value)] = &[
            (&items, i(0), i(7)),
            (&items, u(2), i(9)),
            (&items, d(1.0), i(8)),
            (&items, d(0.1), invalid()),
            (&items, d(f64::NAN), invalid()),
            (&items, i(3), out_of_range()),
            (&items, i(-1), out_of_range()),
            (&items, u(u64::MAX), out_of_range()),
            (&items, s(""), invalid()),
            (&m, u(1), s("one")),
            (&m, d(1.0), s("one")),
            (&m, s("k"), s("v")),
            (&m, s("x"), error(EvalError::NoSuchKey(String::new()))),
            (&m, d(1.5), error(EvalError::NoSuchKey(String::new()))),
            (&m, list(&[]), invalid()),
        ];
        for (container, key, expected) in cases {
            check(
                &index(container, key),
                expected,
                &format!("{container}[{key}]"),
            );
        }
        check(&index(&s("abc"), &i(0)), &no_overload(), "'abc'[0]");
    }

    #[test]
    fn sizes() {
        let cases: &[(Value, i64)] = &[
            (s(""), 0),
            (s("héllo😀"), 6),
            (s("πέντε"), 5),
            (b("héllo".as_bytes()), 6),
            (list(&[i(1), i(2), i(3)]), 3),
            (map(&[(i(1), s("one")), (i(2), s("two"))]), 2),
        ];
        for (v, n) in cases {
            check(&size(v), &i(*n), &format!("size({v})"));
        }
        check(&size(&i(1)), &no_overload(), "size(1)");
    }

    #[test]
    fn string_predicates_and_regexes() {
        let t = Value::Bool(true);
        let f = Value::Bool(false);
        check_ops(&[
            (contains, s("hello"), s("he"), t.clone()),
            (contains, s("hello"), s(""), t.clone()),
            (contains, s("hello"), s("ol"), f.clone()),
            (contains, s("🐱😀😁"), s("😀"), t.clone()),
            (contains, s(""), s("x"), f.clone()),
            (contains, s("1"), i(1), no_overload()),
            (starts_with, s("завтра"), s("за"), t.clone()),
            (starts_with, s(""), s("foo"), f.clone()),
            (ends_with, s("forté"), s("té"), t.clone()),
            (ends_with, s("foobar"), s("foo"), f.clone()),
        ]);
        let cases = [
            ("hubba", "ubb", true),
            ("", "foo|bar", false),
            ("cows", "", true),
            ("grey", "gr(a|e)y", true),
            ("banana", "^ba(na)*$", true),
            ("mañana", "a+ñ+a+", true),
            ("🐱😀😀", "(a|😀){2}", true),
            ("abc", "^b", false),
        ];
        for (text, pattern, expected) in cases {
            let re = compile_regex(pattern).unwrap();
            check(&matches(&s(text), &re), &Value::Bool(expected), pattern);
            check(
                &matches_pattern(&s(text), &s(pattern)),
                &Value::Bool(expected),
                pattern,
            );
        }
        assert!(matches!(
            compile_regex("(unclosed"),
            Err(EvalError::InvalidArgument(_))
        ));
        check(
            &matches_pattern(&s("x"), &s("(")),
            &invalid(),
            "bad pattern",
        );
        check(
            &matches(&i(1), &compile_regex("1").unwrap()),
            &no_overload(),
            "1.matches",
        );
    }

    #[test]
    fn time_accessors_on_values() {
        let t = ts("2009-02-13T23:31:30Z");
        let zone = Value::Timezone("Australia/Sydney".into());
        check(&time_part(&t, TimePart::Date, None), &i(13), "getDate()");
        check(
            &time_part(&t, TimePart::Date, Some(&zone)),
            &i(14),
            "getDate(tz)",
        );
        check(
            &time_part(&t, TimePart::Hours, Some(&s("+05:30"))),
            &i(5),
            "getHours('+05:30')",
        );
        check(
            &time_part(&t, TimePart::Hours, Some(&s("Nowhere/Land"))),
            &invalid(),
            "bad zone",
        );
        check(
            &time_part(&t, TimePart::Hours, Some(&i(1))),
            &no_overload(),
            "getHours(1)",
        );
        check(
            &time_part(&dur("3730s"), TimePart::Minutes, None),
            &i(62),
            "getMinutes()",
        );
        check(
            &time_part(&dur("1s"), TimePart::DayOfWeek, None),
            &no_overload(),
            "duration day",
        );
        check(
            &time_part(&dur("1s"), TimePart::Hours, Some(&zone)),
            &no_overload(),
            "duration tz",
        );
        check(
            &time_part(&i(1), TimePart::Hours, None),
            &no_overload(),
            "int.getHours()",
        );
    }

    #[test]
    fn conversions() {
        let cases: &[(Value, Value)] = &[
            (to_int(&u(42)), i(42)),
            (to_int(&u(i64::MAX as u64)), i(i64::MAX)),
            (to_int(&u(u64::MAX)), range()),
            (to_int(&d(-123.456)), i(-123)),
            (to_int(&d(1.9)), i(1)),
            (to_int(&d(-7.9)), i(-7)),
            (
                to_int(&d(36_028_797_018_963_968.0)),
                i(36_028_797_018_963_968),
            ),
            (to_int(&d(9_223_372_036_854_775_807.0)), range()),
            (to_int(&d(-9_223_372_036_854_775_808.0)), range()),
            (
                to_int(&d(-9_223_372_036_854_774_784.0)),
                i(-9_223_372_036_854_774_784),
            ),
            (to_int(&d(1e99)), range()),
            (to_int(&d(f64::NAN)), range()),
            (to_int(&d(f64::NEG_INFINITY)), range()),
            (to_int(&s("987")), i(987)),
            (to_int(&s("-987")), i(-987)),
            (to_int(&s("9223372036854775808")), invalid()),
            (to_int(&s("1.0")), invalid()),
            (to_int(&s("")), invalid()),
            (to_int(&ts("2004-09-16T23:59:59Z")), i(1_095_379_199)),
            (to_int(&ts("1969-12-31T23:59:59.5Z")), i(-1)),
            (to_int(&Value::Enum(EnumValue { ty: 0, index: 2 })), i(2)),
            (to_int(&Value::Bool(true)), no_overload()),
            (to_uint(&i(1729)), u(1729)),
            (to_uint(&i(-1)), range()),
            (to_uint(&d(3.7)), u(3)),
            (to_uint(&d(25.5)), u(25)),
            (to_uint(&d(-0.0)), u(0)),
            (to_uint(&d(-0.5)), range()),
            (
                to_uint(&d(18_446_744_073_709_549_568.0)),
                u(18_446_744_073_709_549_568),
            ),
            (to_uint(&d(18_446_744_073_709_551_615.0)), range()),
            (to_uint(&d(6.022e23)), range()),
            (to_uint(&s("300")), u(300)),
            (to_uint(&s("-1")), invalid()),
            (to_double(&i(0)), d(0.0)),
            (to_double(&i(i64::MAX)), d(9.223_372_036_854_776e18)),
            (to_double(&u(u64::MAX)), d(1.844_674_407_370_955_2e19)),
            (to_double(&s("-0.0")), d(-0.0)),
            (to_double(&s("6.02214e23")), d(6.02214e23)),
            (to_double(&s("-84.32e7")), d(-843_200_000.0)),
            (to_double(&s("1e3")), d(1000.0)),
            (to_double(&s("inf")), d(f64::INFINITY)),
            (to_double(&s("one")), invalid()),
            (to_double(&eur("9.99")), d(9.99)),
            (to_string(&i(-456)), s("-456")),
            (to_string(&u(9876)), s("9876")),
            (to_string(&d(123.456)), s("123.456")),
            (to_string(&d(-4.5e-3)), s("-0.0045")),
            (to_string(&b(b"abc")), s("abc")),
            (to_string(&b(b"\xc3\xbf")), s("ÿ")),
            (to_string(&b(b"\x00\xff")), invalid()),
            (to_string(&Value::Bool(true)), s("true")),
            (
                to_string(&ts("2009-02-13T23:31:30Z")),
                s("2009-02-13T23:31:30Z"),
            ),
            (
                to_string(&ts("9999-12-31T23:59:59.999999999Z")),
                s("9999-12-31T23:59:59.999999999Z"),
            ),
            (to_string(&dur("1000000s")), s("1000000s")),
            (to_string(&dur("-1.5s")), s("-1.5s")),
            (to_string(&eur("9.5")), s("9.50 EUR")),
            (
                to_string(&Value::Timezone("Europe/Helsinki".into())),
                s("Europe/Helsinki"),
            ),
            (to_string(&Value::Null), no_overload()),
            (to_bytes(&s("ÿ")), b(b"\xc3\xbf")),
            (to_bytes(&s("")), b(b"")),
            (to_bytes(&i(1)), no_overload()),
            (
                to_timestamp(&s("2009-02-13T23:31:30Z")),
                ts("2009-02-13T23:31:30Z"),
            ),
            (to_timestamp(&i(1_234_567_890)), ts("2009-02-13T23:31:30Z")),
            (
                to_timestamp(&i(-62_135_596_800)),
                ts("0001-01-01T00:00:00Z"),
            ),
            (to_timestamp(&i(-62_135_596_801)), range()),
            (to_timestamp(&i(253_402_300_800)), range()),
            (to_timestamp(&s("0000-01-01T00:00:00Z")), range()),
            (to_timestamp(&s("2009-02-13")), invalid()),
            (to_duration(&s("1h30m")), dur("5400s")),
            (to_duration(&s("-320000000000s")), range()),
            (to_duration(&s("soon")), invalid()),
            (to_duration(&dur("100s")), dur("100s")),
            (to_duration(&i(1)), no_overload()),
        ];
        for (n, (actual, expected)) in cases.iter().enumerate() {
            check(actual, expected, &format!("case {n}"));
        }
    }

    #[test]
    fn bool_conversion_accepts_go_spellings_only() {
        for (text, expected) in [
            ("1", true),
            ("t", true),
            ("T", true),
            ("true", true),
            ("TRUE", true),
            ("True", true),
            ("0", false),
            ("f", false),
            ("F", false),
            ("false", false),
            ("FALSE", false),
            ("False", false),
        ] {
            check(&to_bool(&s(text)), &Value::Bool(expected), text);
        }
        for text in ["TrUe", "FaLsE", "yes", "", " true"] {
            check(&to_bool(&s(text)), &invalid(), text);
        }
        check(
            &to_bool(&Value::Bool(false)),
            &Value::Bool(false),
            "bool(false)",
        );
    }

    #[test]
    fn doubles_format_like_go_percent_g() {
        for (value, text) in [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (1.5, "1.5"),
            (-1.5, "-1.5"),
            (123.456, "123.456"),
            (-4.5e-3, "-0.0045"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (100_000.0, "100000"),
            (123_456.7, "123456.7"),
            (1_000_000.0, "1e+06"),
            (1_234_567.0, "1.234567e+06"),
            (1e21, "1e+21"),
            (1e100, "1e+100"),
            (6.02214e23, "6.02214e+23"),
            (1.38e-23, "1.38e-23"),
            (5e-324, "5e-324"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ] {
            assert_eq!(format_double(value), text, "{value:?}");
        }
    }

    #[test]
    fn runtime_types() {
        let type_value = |ty: Ty| Value::Type(Arc::new(ty));
        let cases: &[(Value, Ty)] = &[
            (Value::Bool(true), Ty::Bool),
            (i(0), Ty::Int),
            (u(0), Ty::Uint),
            (d(0.0), Ty::Double),
            (Value::Null, Ty::Null),
            (s(""), Ty::String),
            (b(b""), Ty::Bytes),
            (list(&[i(1), s("one")]), Ty::list(Ty::Dyn)),
            (map(&[]), Ty::map(Ty::Dyn, Ty::Dyn)),
            (ts("2009-02-13T23:31:30Z"), Ty::Timestamp),
            (dur("1s"), Ty::Duration),
            (eur("1"), Ty::Money),
            (Value::Enum(EnumValue { ty: 3, index: 0 }), Ty::Enum(3)),
            (type_value(Ty::Int), Ty::Type),
            (Value::Optional(None), Ty::optional(Ty::Dyn)),
        ];
        for (v, ty) in cases {
            check(&type_of(v), &type_value(ty.clone()), &format!("type({v})"));
        }
        check(
            &eq(&type_of(&i(7)), &type_of(&u(7))),
            &Value::Bool(false),
            "int vs uint type",
        );
        check(
            &eq(&type_of(&d(0.0)), &type_of(&d(-0.0))),
            &Value::Bool(true),
            "double types",
        );
        let err = error(EvalError::Overflow);
        assert_eq!(type_of(&err), err);
    }
}
