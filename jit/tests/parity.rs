//! Native code against the reference interpreter: hand-picked cases for each semantic kind
//! (overflow, division by zero, NaN, error absorption, strings, optionals, time), and generated
//! expressions over typed variables. A compiled expression must give the interpreter's value,
//! or hand back (no value) exactly where the interpreter's result is an error.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails loudly"
)]

use offer_compiler::check::ExprOptions;
use offer_compiler::db::Database;
use offer_compiler::eval::{Bindings, Evaluator};
use offer_compiler::ir::Expr;
use offer_compiler::schema::Schema;
use offer_compiler::syntax::parse::parse_expression;
use offer_compiler::types::Ty;
use offer_compiler::value::Value;
use offer_jit::Jit;
use proptest::prelude::*;

/// Checks `text` unfolded, with `vars` bound (name, value; typed by the value).
fn check(text: &str, vars: &[(&str, Value)]) -> Expr {
    check_with(text, vars, true)
}

/// Checks `text` unfolded with the variables of `vars` typed as `types` says.
fn check_typed(text: &str, vars: &[(&str, Value)], types: &[(&str, Ty)]) -> Expr {
    let (parsed, diagnostics) = parse_expression("<jit>", text);
    assert!(diagnostics.is_empty(), "`{text}`: {diagnostics:?}");
    let bindings = vars
        .iter()
        .map(|(name, v)| {
            let ty = types
                .iter()
                .find(|(n, _)| n == name)
                .map_or_else(|| type_of(v), |(_, t)| t.clone());
            (name.to_string(), ty)
        })
        .collect();
    let options = ExprOptions {
        bindings,
        no_fold: true,
        ..ExprOptions::default()
    };
    let (ir, diagnostics) = Database::new().check_expression("<jit>", &parsed.unwrap(), options);
    assert!(
        !diagnostics.iter().any(|d| d.is_error()),
        "`{text}`: {diagnostics:?}"
    );
    ir
}

fn check_with(text: &str, vars: &[(&str, Value)], no_fold: bool) -> Expr {
    let (parsed, diagnostics) = parse_expression("<jit>", text);
    assert!(diagnostics.is_empty(), "`{text}`: {diagnostics:?}");
    let bindings = vars
        .iter()
        .map(|(name, v)| (name.to_string(), type_of(v)))
        .collect();
    let options = ExprOptions {
        bindings,
        no_fold,
        ..ExprOptions::default()
    };
    let (ir, diagnostics) = Database::new().check_expression("<jit>", &parsed.unwrap(), options);
    assert!(
        !diagnostics.iter().any(|d| d.is_error()),
        "`{text}`: {diagnostics:?}"
    );
    ir
}

fn type_of(v: &Value) -> Ty {
    match v {
        Value::Bool(_) => Ty::Bool,
        Value::Int(_) => Ty::Int,
        Value::Uint(_) => Ty::Uint,
        Value::Double(_) => Ty::Double,
        Value::String(_) => Ty::String,
        Value::Timestamp(_) => Ty::Timestamp,
        Value::Duration(_) => Ty::Duration,
        Value::Money(_) => Ty::Money,
        Value::Bytes(_) => Ty::Bytes,
        Value::Optional(Some(inner)) => Ty::Optional(Box::new(type_of(inner))),
        _ => Ty::Dyn,
    }
}

/// What native code gives for `text` (`None`: no value, the interpreter decides), and what the
/// interpreter gives; panics when the expression does not compile.
fn both(text: &str, vars: &[(&str, Value)]) -> (Option<Value>, Value) {
    both_of(check(text, vars), text, vars)
}

fn both_of(ir: Expr, text: &str, vars: &[(&str, Value)]) -> (Option<Value>, Value) {
    let mut jit = Jit::new().unwrap();
    jit.compile(&ir)
        .unwrap_or_else(|e| panic!("`{text}` did not compile: {e}"));
    let native = jit.finish().unwrap().exprs.pop().unwrap();
    let schema = Schema::default();
    let evaluator = Evaluator::new(&schema);
    let env = Bindings(vars.iter().map(|(_, v)| v.clone()).collect());
    (native.run(&evaluator, &env), evaluator.eval(&ir, &env))
}

/// Native code agrees with the interpreter on `text`, and returns the interpreter's result.
fn agree(text: &str, vars: &[(&str, Value)]) -> Value {
    let (native, reference) = both(text, vars);
    match (&native, &reference) {
        (None, Value::Error(_)) => {}
        (Some(v), r) if same(v, r) => {}
        _ => panic!("`{text}`: native {native:?}, interpreter {reference}"),
    }
    reference
}

/// The same value: doubles by bits (so `-0.0` is not `0.0`), except that every NaN is the
/// same, since CEL cannot tell NaNs apart (which operand's NaN an operation passes on depends
/// on the order the code generator picks for a commutative operation).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) if x.is_nan() => y.is_nan(),
        (Value::Double(x), Value::Double(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

#[test]
fn integer_arithmetic_overflows_into_errors() {
    assert_eq!(agree("x + 1", &[("x", Value::Int(41))]), Value::Int(42));
    assert!(agree("x + 1", &[("x", Value::Int(i64::MAX))]).is_error());
    assert!(agree("x - 1", &[("x", Value::Int(i64::MIN))]).is_error());
    assert!(agree("x * 2", &[("x", Value::Int(i64::MAX / 2 + 1))]).is_error());
    assert!(agree("-x", &[("x", Value::Int(i64::MIN))]).is_error());
    assert!(agree("x / -1", &[("x", Value::Int(i64::MIN))]).is_error());
    assert!(agree("x % -1", &[("x", Value::Int(i64::MIN))]).is_error());
    assert!(agree("x / 0", &[("x", Value::Int(1))]).is_error());
    assert!(agree("x % 0", &[("x", Value::Int(1))]).is_error());
    assert_eq!(agree("x / 2", &[("x", Value::Int(-7))]), Value::Int(-3));
    assert_eq!(agree("x % 2", &[("x", Value::Int(-7))]), Value::Int(-1));
    assert!(agree("x - 1u", &[("x", Value::Uint(0))]).is_error());
    assert!(agree("x + 1u", &[("x", Value::Uint(u64::MAX))]).is_error());
    assert!(agree("x * 2u", &[("x", Value::Uint(u64::MAX))]).is_error());
    assert!(agree("x / 0u", &[("x", Value::Uint(5))]).is_error());
    assert_eq!(
        agree("x / 2u", &[("x", Value::Uint(u64::MAX))]),
        Value::Uint(u64::MAX / 2)
    );
}

#[test]
fn doubles_follow_ieee() {
    let nan = [("x", Value::Double(f64::NAN))];
    assert_eq!(agree("x == x", &nan), Value::Bool(false));
    assert_eq!(agree("x != x", &nan), Value::Bool(true));
    assert_eq!(agree("x < 1.0 || x >= 1.0", &nan), Value::Bool(false));
    assert_eq!(
        agree("1.0 / x", &[("x", Value::Double(0.0))]),
        Value::Double(f64::INFINITY)
    );
    assert_eq!(
        agree("-x", &[("x", Value::Double(0.0))]),
        Value::Double(-0.0)
    );
}

#[test]
fn junctions_absorb_errors_as_cel_does() {
    let zero = [("x", Value::Int(0))];
    assert_eq!(agree("1 / x == 1 || true", &zero), Value::Bool(true));
    assert_eq!(agree("false && 1 / x == 1", &zero), Value::Bool(false));
    assert_eq!(agree("1 / x == 1 && false", &zero), Value::Bool(false));
    assert!(agree("1 / x == 1 && true", &zero).is_error());
    assert!(agree("false || 1 / x == 1", &zero).is_error());
    assert_eq!(agree("x == 0 && x < 1 && x > -1", &zero), Value::Bool(true));
    assert!(agree("1 / x == 1 ? 1 : 2", &zero).is_error());
    assert_eq!(agree("x == 0 ? 1 : 1 / x", &zero), Value::Int(1));
}

#[test]
fn numbers_compare_across_kinds_exactly() {
    let big = [("x", Value::Int(9_007_199_254_740_993))];
    assert_eq!(agree("x == 9007199254740992.0", &big), Value::Bool(false));
    assert_eq!(agree("x > 9007199254740992.0", &big), Value::Bool(true));
    assert_eq!(agree("x < 1u", &[("x", Value::Int(-1))]), Value::Bool(true));
    assert_eq!(agree("x == 1u", &[("x", Value::Int(1))]), Value::Bool(true));
}

#[test]
fn strings_compare_and_measure_by_code_point() {
    let s = [("s", Value::string("é€a"))];
    assert_eq!(agree("size(s)", &s), Value::Int(3));
    assert_eq!(agree("s.size() == 3", &s), Value::Bool(true));
    assert_eq!(agree("s < 'f'", &s), Value::Bool(false));
    assert_eq!(agree("s > 'e'", &s), Value::Bool(true));
    assert_eq!(agree("s == 'é€a' && s != 'é€'", &s), Value::Bool(true));
    assert_eq!(
        agree("s.startsWith('é') && s.endsWith('a')", &s),
        Value::Bool(true)
    );
    assert_eq!(agree("s.contains('€')", &s), Value::Bool(true));
    assert_eq!(agree("s.matches('^é.a$')", &s), Value::Bool(true));
    assert_eq!(agree("s in ['x', 'é€a']", &s), Value::Bool(true));
    assert_eq!(
        agree(
            "x ? s : 'other'",
            &[("s", Value::string("é€a")), ("x", Value::Bool(true))]
        ),
        Value::string("é€a")
    );
}

#[test]
fn membership_in_a_list_literal() {
    let x = [("x", Value::Int(3))];
    assert_eq!(agree("x in [1, 2, 3]", &x), Value::Bool(true));
    assert_eq!(agree("x in [1, 2]", &x), Value::Bool(false));
    assert!(agree("x in [1, 1 / (x - 3)]", &x).is_error());
}

#[test]
fn membership_in_a_folded_constant_list() {
    for (x, want) in [(Value::Int(3), true), (Value::Int(4), false)] {
        let vars = [("x", x)];
        let text = "x in [1, 2, 3]";
        let ir = check_with(text, &vars, false);
        assert!(
            matches!(&ir.kind, offer_compiler::ir::ExprKind::Binary { rhs, .. } if rhs.as_const().is_some()),
            "the list is folded: {ir:?}"
        );
        let (native, reference) = both_of(ir, text, &vars);
        assert_eq!(native, Some(Value::Bool(want)));
        assert_eq!(reference, Value::Bool(want));
    }
    let vars = [("s", Value::string("fiber"))];
    let ir = check_with("s in ['dsl', 'fiber']", &vars, false);
    assert_eq!(both_of(ir, "", &vars).0, Some(Value::Bool(true)));
}

#[test]
fn optionals_have_values_or_not() {
    let some = [(
        "o",
        Value::Optional(Some(std::sync::Arc::new(Value::Int(4)))),
    )];
    assert_eq!(agree("o.hasValue()", &some), Value::Bool(true));
    assert_eq!(agree("o.value() + 1", &some), Value::Int(5));
    assert_eq!(agree("o.orValue(0)", &some), Value::Int(4));
    assert_eq!(agree("optional.of(1).orValue(2)", &[]), Value::Int(1));
}

#[test]
fn time_goes_through_the_reference_operators() {
    let t = [
        ("t", Value::Timestamp(1_700_000_000_000_000_000)),
        ("d", Value::Duration(90_000_000_000)),
    ];
    assert_eq!(agree("t + d > t", &t), Value::Bool(true));
    assert_eq!(agree("d >= duration('1m')", &t), Value::Bool(true));
    assert_eq!(agree("t.getHours()", &t), Value::Int(22));
    assert_eq!(agree("int(t)", &t), Value::Int(1_700_000_000));
    assert!(agree("t + duration('87600000h') > t", &t).is_error());
}

#[test]
fn bytes_compare_and_measure_by_byte() {
    let b = [("b", Value::Bytes(b"\xffab"[..].into()))];
    assert_eq!(agree("size(b)", &b), Value::Int(3));
    assert_eq!(agree("b == b'\\xffab'", &b), Value::Bool(true));
    assert_eq!(agree("b != b'ab'", &b), Value::Bool(true));
    assert_eq!(agree("b > b'ab'", &b), Value::Bool(true));
    assert_eq!(agree("b in [b'x', b'\\xffab']", &b), Value::Bool(true));
    assert_eq!(agree("true ? b : b''", &b), b[0].1);
    assert_eq!(
        agree("b == b'a long constant, past sixteen bytes'", &b),
        Value::Bool(false)
    );
}

#[test]
fn money_goes_through_the_reference_operators() {
    use offer_compiler::value::{Currency, Money};
    let m = [(
        "m",
        Value::Money(Money {
            micros: 9_990_000,
            currency: Currency(*b"EUR"),
        }),
    )];
    assert_eq!(agree("m > 5.00 EUR", &m), Value::Bool(true));
    assert_eq!(agree("m * 3 == 29.97 EUR", &m), Value::Bool(true));
    assert!(agree("m > 5.00 USD", &m).is_error());
    assert_eq!(agree("m > 5.00 USD || true", &m), Value::Bool(true));
    assert_eq!(agree("true ? m : 1.00 EUR", &m), m[0].1);
    assert_eq!(agree("-m < 0.00 EUR", &m), Value::Bool(true));
}

#[test]
fn strings_read_out_of_constants_count_against_the_budget() {
    // 60 reads of a 160,000-byte string taken out of a constant optional: 600,000 steps of
    // reading each side, past the budget, which native code must not pretend to keep.
    let long = "a".repeat(160_000);
    let term = "o.value() != s";
    let text = format!(
        "cel.bind(o, optional.of('{long}'), {})",
        vec![term; 60].join(" && ")
    );
    let vars = [("s", Value::string("/x"))];
    let ir = check_with(&text, &vars, false);
    let (native, reference) = both_of(ir, &text, &vars);
    assert!(reference.is_error(), "{reference}");
    assert_eq!(native, None);
}

#[test]
fn strings_without_values_are_never_read() {
    let none = [("o", Value::Optional(None))];
    let some = [(
        "o",
        Value::Optional(Some(std::sync::Arc::new(Value::string("abc")))),
    )];
    for text in [
        "o.value().size() > 1",
        "o.value().contains('b')",
        "o.value().startsWith('')",
        "o.value().matches('b')",
        "o.value() < 'b' || false",
        "o.value() == 'abc'",
        "o.value() == 'a long string, past sixteen bytes'",
    ] {
        // The checker would type `o` by its value (an empty optional is `optional<dyn>`), so
        // both are checked as `optional<string>`.
        for vars in [&none[..], &some[..]] {
            let ir = check_typed(text, vars, &[("o", Ty::optional(Ty::String))]);
            let (native, reference) = both_of(ir, text, vars);
            match (&native, &reference) {
                (None, Value::Error(_)) => {}
                (Some(v), r) if same(v, r) => {}
                _ => panic!("`{text}` with {vars:?}: native {native:?}, interpreter {reference}"),
            }
        }
    }
}

#[test]
fn long_constant_lists_are_searched_not_unrolled() {
    let names: Vec<String> = (0..5_000).map(|i| format!("'s{i:07}'")).collect();
    let text = format!("s in [{}]", names.join(", "));
    for (s, want) in [("s0004999", true), ("s0005000", false)] {
        let vars = [("s", Value::string(s))];
        let ir = check_with(&text, &vars, false);
        let mut jit = Jit::new().unwrap();
        jit.compile(&ir).unwrap();
        let native = jit.finish().unwrap().exprs.pop().unwrap();
        assert_eq!(native.host_calls(), 1, "one search, not 5,000 comparisons");
        let schema = Schema::default();
        let env = Bindings(vec![Value::string(s)]);
        assert_eq!(
            native.run(&Evaluator::new(&schema), &env),
            Some(Value::Bool(want))
        );
    }
}

#[test]
fn a_string_result_outlives_the_inputs_it_came_from() {
    let vars = [("b", Value::Bool(true)), ("s", Value::string(""))];
    let ir = check("b ? s : 'other'", &vars);
    let mut jit = Jit::new().unwrap();
    jit.compile(&ir).unwrap();
    let native = jit.finish().unwrap().exprs.pop().unwrap();
    let schema = Schema::default();
    // Each read of `s` builds a new 1 MiB string, as a host's variable may be.
    let env = TestEnv::bindings(|i| match i {
        0 => Value::Bool(true),
        _ => Value::string("x".repeat(1 << 20)),
    });
    let got = native.run(&Evaluator::new(&schema), &env);
    assert_eq!(got, Some(Value::string("x".repeat(1 << 20))));
}

#[test]
fn bind_keeps_its_value_in_native_code() {
    let x = [("x", Value::Int(6))];
    assert_eq!(agree("cel.bind(y, x * 7, y + y)", &x), Value::Int(84));
}

#[test]
fn conversions_range_check() {
    assert!(agree("int(x)", &[("x", Value::Double(1e19))]).is_error());
    assert_eq!(
        agree("int(x)", &[("x", Value::Double(-2.7))]),
        Value::Int(-2)
    );
    assert!(agree("uint(x)", &[("x", Value::Int(-1))]).is_error());
    assert_eq!(
        agree("double(x)", &[("x", Value::Uint(3))]),
        Value::Double(3.0)
    );
}

/// A generated expression: its text, with `\0` where a variable goes, and the variables'
/// values in order.
#[derive(Clone, Debug)]
struct Gen {
    text: String,
    values: Vec<Value>,
}

impl Gen {
    fn var(value: Value) -> Gen {
        Gen {
            text: "\u{0}".into(),
            values: vec![value],
        }
    }

    fn literal(text: &str) -> Gen {
        Gen {
            text: text.into(),
            values: Vec::new(),
        }
    }

    fn join(template: &str, parts: Vec<Gen>) -> Gen {
        let mut text = String::new();
        let mut values = Vec::new();
        for (i, piece) in template.split("{}").enumerate() {
            text.push_str(piece);
            if let Some(p) = parts.get(i) {
                text.push('(');
                text.push_str(&p.text);
                text.push(')');
                values.extend(p.values.iter().cloned());
            }
        }
        Gen { text, values }
    }

    /// The text with its variables named `x0`, `x1`, ... in order, and their bindings.
    fn numbered(&self) -> (String, Vec<(String, Value)>) {
        let mut out = String::new();
        let mut n = 0;
        for c in self.text.chars() {
            if c == '\u{0}' {
                out.push_str(&format!("x{n}"));
                n += 1;
            } else {
                out.push(c);
            }
        }
        let vars = self
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("x{i}"), v.clone()))
            .collect();
        (out, vars)
    }
}

/// The types the generator builds expressions of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum T {
    Int,
    Uint,
    Double,
    Bool,
    Str,
    Time,
    Span,
    OptInt,
    Cash,
    Bin,
}

/// Variables and literals of type `t`.
fn leaf(t: T) -> BoxedStrategy<Gen> {
    let var = |values: Vec<Value>| proptest::sample::select(values).prop_map(Gen::var);
    let literal = |texts: Vec<&'static str>| proptest::sample::select(texts).prop_map(Gen::literal);
    let (vars, literals) = match t {
        T::Int => (
            var([0, 1, -1, 7, i64::MAX, i64::MIN].map(Value::Int).to_vec()),
            literal(vec!["1", "-3", "0", "9223372036854775807"]),
        ),
        T::Uint => (
            var([0, 3, u64::MAX].map(Value::Uint).to_vec()),
            literal(vec!["2u", "0u", "18446744073709551615u"]),
        ),
        T::Double => (
            var([
                0.5,
                -2.0,
                0.0,
                -0.0,
                f64::NAN,
                f64::INFINITY,
                9_223_372_036_854_775_808.0,
            ]
            .map(Value::Double)
            .to_vec()),
            literal(vec!["1.5", "0.0", "-1e308", "1e19"]),
        ),
        T::Bool => (
            var(vec![Value::Bool(true), Value::Bool(false)]),
            literal(vec!["true", "false"]),
        ),
        T::Str => (
            var(["", "ab", "é€", "abcdefghijklmnopq", "a\u{0}b"]
                .map(Value::string)
                .to_vec()),
            literal(vec!["''", "'ab'", "'é€'", "'abcdefghijklmnopq'", "'b'"]),
        ),
        T::Time => (
            var([
                0,
                1_700_000_000_123_456_789,
                -62_135_596_800_000_000_000,
                253_402_300_799_999_999_999,
            ]
            .map(Value::Timestamp)
            .to_vec()),
            literal(vec!["timestamp('2024-01-01T00:00:00Z')", "timestamp(0)"]),
        ),
        T::Span => (
            var([0, 90_000_000_000, -1, 315_576_000_000_999_999_999]
                .map(Value::Duration)
                .to_vec()),
            literal(vec!["duration('1s')", "duration('-90m')"]),
        ),
        T::Cash => {
            let eur = |micros| {
                Value::Money(offer_compiler::value::Money {
                    micros,
                    currency: offer_compiler::value::Currency(*b"EUR"),
                })
            };
            (
                var(vec![eur(0), eur(9_990_000), eur(i64::MAX), eur(-1)]),
                literal(vec!["1.50 EUR", "0.00 EUR", "2.00 USD"]),
            )
        }
        T::Bin => (
            var([&b""[..], b"ab", b"\xff\x00abcdefghijklmnopqrs"]
                .map(|b| Value::Bytes(b.into()))
                .to_vec()),
            literal(vec![
                "b''",
                "b'ab'",
                "b'\\xff'",
                "b'abcdefghijklmnopqrstuvwxyz'",
            ]),
        ),
        T::OptInt => (
            var(vec![
                Value::Optional(None),
                Value::Optional(Some(std::sync::Arc::new(Value::Int(3)))),
            ]),
            literal(vec!["optional.none()", "optional.of(5)"]),
        ),
    };
    prop_oneof![vars, literals].boxed()
}

/// Templates that build a `t` from parts of the given types.
fn templates(t: T) -> Vec<(&'static str, Vec<T>)> {
    use T::*;
    let mut out: Vec<(&'static str, Vec<T>)> = match t {
        Int => vec![
            ("{} + {}", vec![Int, Int]),
            ("{} - {}", vec![Int, Int]),
            ("{} * {}", vec![Int, Int]),
            ("{} / {}", vec![Int, Int]),
            ("{} % {}", vec![Int, Int]),
            ("{} % 7", vec![Int]),
            ("{} / -1", vec![Int]),
            ("-{}", vec![Int]),
            ("size({})", vec![Str]),
            ("int({})", vec![Double]),
            ("int({})", vec![Uint]),
            ("int({})", vec![Time]),
            ("{}.getHours()", vec![Time]),
            ("{}.getDayOfWeek('Europe/Paris')", vec![Time]),
            ("{}.orValue({})", vec![OptInt, Int]),
            ("{}.value()", vec![OptInt]),
            ("cel.bind(v, {}, v * {})", vec![Int, Int]),
            ("math.greatest({}, {})", vec![Int, Int]),
        ],
        Uint => vec![
            ("{} + {}", vec![Uint, Uint]),
            ("{} - {}", vec![Uint, Uint]),
            ("{} * {}", vec![Uint, Uint]),
            ("{} / {}", vec![Uint, Uint]),
            ("{} % {}", vec![Uint, Uint]),
            ("uint({})", vec![Int]),
            ("uint({})", vec![Double]),
        ],
        Double => vec![
            ("{} + {}", vec![Double, Double]),
            ("{} - {}", vec![Double, Double]),
            ("{} * {}", vec![Double, Double]),
            ("{} / {}", vec![Double, Double]),
            ("-{}", vec![Double]),
            ("double({})", vec![Int]),
            ("double({})", vec![Uint]),
        ],
        Bool => {
            let mut v = vec![
                ("{} && {}", vec![Bool, Bool]),
                ("{} || {}", vec![Bool, Bool]),
                ("{} && {} && {}", vec![Bool, Bool, Bool]),
                ("!{}", vec![Bool]),
                ("{}.startsWith({})", vec![Str, Str]),
                ("{}.endsWith({})", vec![Str, Str]),
                ("{}.contains({})", vec![Str, Str]),
                ("{}.matches('^a.$')", vec![Str]),
                ("{} in [{}, 1, 2]", vec![Int, Int]),
                ("{} in ['ab', {}]", vec![Str, Str]),
                ("{}.hasValue()", vec![OptInt]),
                ("{} < {}", vec![Int, Double]),
                ("{} == {}", vec![Int, Uint]),
                ("{} >= {}", vec![Uint, Double]),
            ];
            v.push(("{} in [b'ab', {}]", vec![Bin, Bin]));
            v.push(("size({}) > 1", vec![Bin]));
            for operand in [Int, Uint, Double, Bool, Str, Time, Span, Cash, Bin] {
                for op in [
                    "{} == {}", "{} != {}", "{} < {}", "{} <= {}", "{} > {}", "{} >= {}",
                ] {
                    v.push((op, vec![operand, operand]));
                }
            }
            v
        }
        Str => vec![("optional.of({}).value()", vec![Str])],
        Time => vec![
            ("{} + {}", vec![Time, Span]),
            ("{} - {}", vec![Time, Span]),
            ("timestamp({})", vec![Int]),
        ],
        Span => vec![
            ("{} + {}", vec![Span, Span]),
            ("{} - {}", vec![Time, Time]),
            ("-{}", vec![Span]),
        ],
        OptInt => vec![("optional.of({})", vec![Int])],
        Bin => vec![("optional.of({}).value()", vec![Bin])],
        Cash => vec![
            ("{} + {}", vec![Cash, Cash]),
            ("{} - {}", vec![Cash, Cash]),
            ("{} * {}", vec![Cash, Int]),
            ("{} * {}", vec![Cash, Double]),
            ("{} / {}", vec![Cash, Int]),
            ("-{}", vec![Cash]),
        ],
    };
    out.push(("{} ? {} : {}", vec![Bool, t, t]));
    out
}

/// Expressions of type `t`, `depth` levels deep at most.
fn typed(t: T, depth: u32) -> BoxedStrategy<Gen> {
    if depth == 0 {
        return leaf(t);
    }
    let built: Vec<BoxedStrategy<Gen>> = templates(t)
        .into_iter()
        .map(|(template, parts)| {
            let parts: Vec<BoxedStrategy<Gen>> =
                parts.into_iter().map(|p| typed(p, depth - 1)).collect();
            parts
                .prop_map(move |parts| Gen::join(template, parts))
                .boxed()
        })
        .collect();
    prop_oneof![
        1 => leaf(t),
        3 => proptest::strategy::Union::new(built),
    ]
    .boxed()
}

fn scalar_expr() -> impl Strategy<Value = Gen> {
    prop_oneof![
        3 => typed(T::Bool, 3),
        1 => typed(T::Int, 3),
        1 => typed(T::Uint, 2),
        1 => typed(T::Double, 2),
        1 => typed(T::Span, 2),
        1 => typed(T::Str, 2),
        1 => typed(T::Cash, 2),
    ]
}

/// Checks `text`; `None` when the checker rejects it (most random combinations do not type).
fn try_check(text: &str, vars: &[(String, Value)], no_fold: bool) -> Option<Expr> {
    let (parsed, diagnostics) = parse_expression("<gen>", text);
    assert!(
        diagnostics.is_empty(),
        "`{text}` did not parse: {diagnostics:?}"
    );
    let options = ExprOptions {
        bindings: vars.iter().map(|(n, v)| (n.clone(), type_of(v))).collect(),
        no_fold,
        ..ExprOptions::default()
    };
    let (ir, diagnostics) = Database::new().check_expression("<gen>", &parsed?, options);
    (!diagnostics.iter().any(|d| d.is_error())).then_some(ir)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn native_code_gives_the_interpreters_results(g in scalar_expr(), no_fold in any::<bool>()) {
        let (text, vars) = g.numbered();
        let Some(ir) = try_check(&text, &vars, no_fold) else { return Ok(()) };
        let mut jit = Jit::new().unwrap();
        if jit.compile(&ir).is_err() {
            return Ok(());
        }
        let fused = [Some(&ir)];
        if ir.ty == Ty::Bool {
            jit.compile_matcher(&fused).unwrap();
        }
        let compiled = jit.finish().unwrap();
        let schema = Schema::default();
        let evaluator = Evaluator::new(&schema);
        let env = Bindings(vars.iter().map(|(_, v)| v.clone()).collect());
        let reference = evaluator.eval(&ir, &env);
        let native = compiled.exprs[0].run(&evaluator, &env);
        match (&native, &reference) {
            (None, Value::Error(_)) => {}
            (Some(v), r) if same(v, r) => {}
            _ => prop_assert!(false, "`{text}` with {vars:?}: native {native:?}, interpreter {reference}"),
        }
        if let Some(matcher) = compiled.matchers.first() {
            let mut outcomes = Vec::new();
            matcher.run(&evaluator, &env, &mut outcomes);
            let want = match reference {
                Value::Bool(true) => offer_jit::TRUE,
                Value::Bool(false) => offer_jit::FALSE,
                _ => offer_jit::ASK_THE_INTERPRETER,
            };
            prop_assert_eq!(outcomes, vec![want], "the matcher on `{}` with {:?}", text, vars);
        }
    }
}

/// The schema type of a generated variable, by its value.
fn schema_type(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint",
        Value::Double(_) => "double",
        Value::String(_) => "string",
        Value::Bytes(_) => "bytes",
        Value::Timestamp(_) => "timestamp",
        Value::Duration(_) => "duration",
        Value::Money(_) => "money",
        _ => "optional<int>",
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// A matcher computes what its conditions share once: rules over one event whose
    /// conditions are built from one expression over its fields share all of it, and each must
    /// still give the interpreter's outcome.
    #[test]
    fn matchers_share_what_their_conditions_have_in_common(g in typed(T::Bool, 3)) {
        let (text, vars) = g.numbered();
        let fields: Vec<String> = vars
            .iter()
            .map(|(n, v)| format!("{n}: {}", schema_type(v)))
            .collect();
        let conditions = [
            text.clone(),
            format!("!({text})"),
            format!("({text}) && ({text})"),
            format!("({text}) == ({text}) || ({text})"),
        ];
        let mut program = format!(
            "schema {{\n  profile customer key id {{ id: string }}\n  event e {{ id: string, {} }}\n}}\noffer O {{ value: 1.0 }}\n",
            fields.join(", ")
        );
        for (i, c) in conditions.iter().enumerate() {
            program.push_str(&format!("rule r{i} {{ when e and {c} then recommend O }}\n"));
        }
        let mut db = Database::new();
        let input = db.program("gen.offer", &program, &mut |_| None);
        let Some(bundle) = offer_compiler::db::bundle(&db, input) else { return Ok(()) };
        let program = bundle.program;
        let exprs: Vec<Option<&Expr>> = program.rules.iter().map(|r| r.condition.as_ref()).collect();
        let mut jit = Jit::new().unwrap();
        jit.compile_matcher(&exprs).unwrap();
        let compiled = jit.finish().unwrap();
        let (ty, _) = program.schema.record_by_name("e").unwrap();
        // The record: `id`, then the variables, optional ones holding their value or nothing.
        let mut record = vec![Some(Value::string("c"))];
        record.extend(vars.iter().map(|(_, v)| match v {
            Value::Optional(inner) => inner.as_ref().map(|i| i.as_ref().clone()),
            other => Some(other.clone()),
        }));
        let env = TestEnv::event(Value::Record(std::sync::Arc::new(
            offer_compiler::value::RecordValue { ty, fields: record },
        )));
        let evaluator = Evaluator::new(&program.schema);
        let mut outcomes = Vec::new();
        compiled.matchers[0].run(&evaluator, &env, &mut outcomes);
        for ((c, e), got) in conditions.iter().zip(&exprs).zip(&outcomes) {
            let Some(e) = e else { continue };
            let want = match evaluator.eval(e, &env) {
                Value::Bool(true) => offer_jit::TRUE,
                Value::Bool(false) => offer_jit::FALSE,
                _ => offer_jit::ASK_THE_INTERPRETER,
            };
            // A condition left out (not compiled) always asks the interpreter.
            if *got != offer_jit::ASK_THE_INTERPRETER || want == offer_jit::ASK_THE_INTERPRETER {
                prop_assert_eq!(*got, want, "`{}` with {:?}", c, vars);
            }
        }
    }
}

#[test]
fn inputs_past_a_deciding_operand_are_never_read() {
    let vars = [("x", Value::Int(1)), ("y", Value::Int(2))];
    let text = "x > 10 && y + y > 0 && y < 100";
    let ir = check(text, &vars);
    let mut jit = Jit::new().unwrap();
    jit.compile(&ir).unwrap();
    jit.compile_matcher(&[Some(&ir), Some(&ir)]).unwrap();
    let compiled = jit.finish().unwrap();
    let schema = Schema::default();
    let evaluator = Evaluator::new(&schema);
    let values: Vec<Value> = vars.iter().map(|(_, v)| v.clone()).collect();
    let env = TestEnv::bindings(move |i| values.get(i as usize).cloned().unwrap_or(Value::Null));
    assert_eq!(
        compiled.exprs[0].run(&evaluator, &env),
        Some(Value::Bool(false))
    );
    assert_eq!(*env.read.borrow(), vec![0], "only `x` is read");
    env.read.borrow_mut().clear();
    let mut outcomes = Vec::new();
    compiled.matchers[0].run(&evaluator, &env, &mut outcomes);
    assert_eq!(outcomes, vec![offer_jit::FALSE, offer_jit::FALSE]);
    // Read once for both conditions, and `y` not at all.
    assert_eq!(*env.read.borrow(), vec![0]);
}

/// An environment for the tests: an event lent as a record, variables computed by a function
/// (afresh at each read, as a host's may be), and a record of which variables were read.
struct TestEnv {
    event: Value,
    binding: Box<dyn Fn(u32) -> Value>,
    read: std::cell::RefCell<Vec<u32>>,
}

impl TestEnv {
    fn event(event: Value) -> TestEnv {
        TestEnv {
            event,
            binding: Box::new(|_| Value::Null),
            read: Default::default(),
        }
    }

    fn bindings(f: impl Fn(u32) -> Value + 'static) -> TestEnv {
        TestEnv {
            event: Value::Null,
            binding: Box::new(f),
            read: Default::default(),
        }
    }
}

impl offer_compiler::eval::Env for TestEnv {
    fn event(&self) -> Value {
        self.event.clone()
    }
    fn profile(&self) -> Value {
        Value::Null
    }
    fn now(&self) -> Option<offer_compiler::value::Nanos> {
        None
    }
    fn binding(&self, index: u32) -> Value {
        self.read.borrow_mut().push(index);
        (self.binding)(index)
    }
    fn latest(&self, _: offer_compiler::types::RecordId) -> Value {
        Value::Null
    }
    fn previous(
        &self,
        _: offer_compiler::types::RecordId,
    ) -> Option<(offer_compiler::value::Nanos, Value)> {
        None
    }
    fn aggregate(
        &self,
        _: offer_compiler::ir::AggregateFn,
        _: offer_compiler::ir::SeriesId,
        _: Option<offer_compiler::value::Nanos>,
    ) -> Value {
        Value::Null
    }
    fn event_record(&self) -> Option<&offer_compiler::value::RecordValue> {
        match &self.event {
            Value::Record(r) => Some(r),
            _ => None,
        }
    }
}
