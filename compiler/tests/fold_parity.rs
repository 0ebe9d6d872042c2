//! Properties of evaluation over generated CEL expressions: nothing panics, constant folding
//! gives what evaluation at run time gives, and the checker's typed lowering gives what
//! unchecked (dynamic) evaluation gives.
//!
//! Each expression is generated twice over the same values: with its leaves as literals, so
//! that the checker folds what it can, and with every leaf a bound variable of unknown type,
//! so that nothing folds and every operator runs on values.

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
use offer_compiler::schema::Schema;
use offer_compiler::syntax::parse::parse_expression;
use offer_compiler::types::Ty;
use offer_compiler::value::{MapKey, MapValue, Value};
use proptest::prelude::*;
use std::sync::Arc;

/// A generated expression: its text with literal leaves, its text with variable leaves, and
/// the leaves' values in variable order.
#[derive(Clone, Debug)]
struct Gen {
    literal: String,
    variable: String,
    values: Vec<Value>,
}

impl Gen {
    fn leaf(text: &str, value: Value) -> Gen {
        Gen {
            literal: text.to_string(),
            variable: "\u{0}".to_string(),
            values: vec![value],
        }
    }

    /// Joins parts with a template whose `{}`s take them in order.
    fn join(template: &str, parts: Vec<Gen>) -> Gen {
        let mut literal = String::new();
        let mut variable = String::new();
        let mut values = Vec::new();
        for (i, piece) in template.split("{}").enumerate() {
            literal.push_str(piece);
            variable.push_str(piece);
            if let Some(p) = parts.get(i) {
                literal.push('(');
                literal.push_str(&p.literal);
                literal.push(')');
                variable.push('(');
                variable.push_str(&p.variable);
                variable.push(')');
                values.extend(p.values.iter().cloned());
            }
        }
        Gen {
            literal,
            variable,
            values,
        }
    }

    /// The variable text with its placeholders numbered `x0`, `x1`, ... in order.
    fn numbered(&self) -> String {
        let mut out = String::new();
        let mut n = 0;
        for c in self.variable.chars() {
            if c == '\u{0}' {
                out.push_str(&format!("x{n}"));
                n += 1;
            } else {
                out.push(c);
            }
        }
        out
    }
}

fn leaf() -> impl Strategy<Value = Gen> {
    prop_oneof![
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(7),
            Just(i64::MAX),
            Just(i64::MIN + 1)
        ]
        .prop_map(|i| Gen::leaf(&i.to_string(), Value::Int(i))),
        prop_oneof![Just(0u64), Just(3), Just(u64::MAX)]
            .prop_map(|u| Gen::leaf(&format!("{u}u"), Value::Uint(u))),
        prop_oneof![Just(0.5f64), Just(-2.0), Just(0.0), Just(1e300)]
            .prop_map(|d| Gen::leaf(&format!("{d:?}"), Value::Double(d))),
        prop_oneof![Just(""), Just("ab"), Just("é€")]
            .prop_map(|s| Gen::leaf(&format!("'{s}'"), Value::string(s))),
        any::<bool>().prop_map(|b| Gen::leaf(&b.to_string(), Value::Bool(b))),
        Just(Gen::leaf("null", Value::Null)),
        Just(Gen::leaf("b'xy'", Value::Bytes(b"xy"[..].into()))),
        Just(Gen::leaf(
            "[1, 'a']",
            Value::list(vec![Value::Int(1), Value::string("a")])
        )),
        Just(Gen::leaf("{'k': 2}", {
            let mut m = MapValue::default();
            m.entries.insert(MapKey::String("k".into()), Value::Int(2));
            Value::Map(Arc::new(m))
        })),
    ]
}

fn expr() -> impl Strategy<Value = Gen> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        let two = (inner.clone(), inner.clone());
        prop_oneof![
            (
                prop_oneof![
                    Just("{} + {}"),
                    Just("{} - {}"),
                    Just("{} * {}"),
                    Just("{} / {}"),
                    Just("{} % {}"),
                    Just("{} == {}"),
                    Just("{} != {}"),
                    Just("{} < {}"),
                    Just("{} >= {}"),
                    Just("{} in {}"),
                    Just("{} && {}"),
                    Just("{} || {}"),
                    Just("[{}, {}]"),
                    Just("{'a': {}, 'b': {}}"),
                    Just("math.greatest({}, {})"),
                    Just("optional.of({}).orValue({})"),
                    Just("{}[{}]"),
                    Just("[{}][?0].orValue({})"),
                    Just("cel.bind(v, {}, [v, {}])"),
                    Just("'%s %s'.format([{}, {}])"),
                    Just("{}.indexOf({})"),
                    Just("{}.startsWith({})"),
                    Just("[{}, {}].transformMap(i, v, v)"),
                    Just("[{}, {}].exists(i, v, i == 0 && v == v)"),
                    Just("{}.?k.orValue({})"),
                    Just("optional.of({}).or(optional.of({}))"),
                    Just("timestamp(0) + duration(string({}) + 's') < timestamp({})"),
                    Just("{} == {} ? 1 : 2"),
                ],
                two
            )
                .prop_map(|(t, (a, b))| Gen::join(t, vec![a, b])),
            (
                prop_oneof![
                    Just("-{}"),
                    Just("!{}"),
                    Just("size({})"),
                    Just("string({})"),
                    Just("int({})"),
                    Just("uint({})"),
                    Just("double({})"),
                    Just("type({}) == int"),
                    Just("dyn({})"),
                    Just("[{}].all(e, e == e)"),
                    Just("[{}, 1].map(e, e)"),
                    Just("{}.?k"),
                    Just("has({}.k)"),
                    Just("optional.ofNonZeroValue({}).hasValue()"),
                    Just("{}.substring(1)"),
                    Just("{}.size()"),
                    Just("math.abs({})"),
                    Just("math.round({})"),
                    Just("strings.quote({})"),
                    Just("base64.encode({})"),
                    Just("bytes({})"),
                    Just("[{}].filter(e, e != null)"),
                    Just("{}.transformList(i, v, v)"),
                    Just("{'k': {}}.?k.value()"),
                    Just("duration({})"),
                    Just("timestamp({})"),
                    Just("[?optional.of({})]"),
                ],
                inner.clone()
            )
                .prop_map(|(t, a)| Gen::join(t, vec![a])),
            (inner.clone(), inner.clone(), inner)
                .prop_map(|(c, a, b)| Gen::join("{} ? {} : {}", vec![c, a, b])),
        ]
    })
}

/// Checks and evaluates; the first error's message when the checker rejects the expression.
fn evaluate(text: &str, options: ExprOptions, values: Vec<Value>) -> Result<Value, String> {
    let (parsed, diagnostics) = parse_expression("<gen>", text);
    assert!(
        diagnostics.is_empty(),
        "`{text}` did not parse: {diagnostics:?}"
    );
    let (ir, diagnostics) = Database::new().check_expression("<gen>", &parsed.unwrap(), options);
    if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
        return Err(d.message.clone());
    }
    let schema = Schema::default();
    Ok(Evaluator::new(&schema).eval(&ir, &Bindings(values)))
}

/// Equal as results: the same value (doubles by bits, so NaN matches NaN), or both errors.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Error(_), Value::Error(_)) => true,
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn folding_and_typing_do_not_change_results(g in expr()) {
        let dynamic = ExprOptions { dynamic: true, ..ExprOptions::default() };
        let folded = evaluate(&g.literal, dynamic.clone(), Vec::new())
            .unwrap_or_else(|e| panic!("dynamic mode rejected `{}`: {e}", g.literal));
        let bindings = (0..g.values.len()).map(|i| (format!("x{i}"), Ty::Dyn)).collect();
        let at_run_time = evaluate(
            &g.numbered(),
            ExprOptions { bindings, dynamic: true, ..ExprOptions::default() },
            g.values.clone(),
        )
        .unwrap_or_else(|e| panic!("dynamic mode rejected `{}`: {e}", g.numbered()));
        prop_assert!(
            same(&folded, &at_run_time),
            "`{}` folds to {folded} but evaluates to {at_run_time}", g.literal
        );
        if let Ok(checked) = evaluate(&g.literal, ExprOptions::default(), Vec::new()) {
            prop_assert!(
                same(&checked, &folded),
                "`{}` gives {checked} checked but {folded} unchecked", g.literal
            );
        }
    }
}
