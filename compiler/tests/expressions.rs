//! Stand-alone CEL expressions through the one entry point `offer eval` and the conformance
//! runner share (`Database::check_expression`): the language features that the CEL suite tests,
//! pinned here too so that a clone without `../shared` still checks them.

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
use offer_compiler::value::Value;

/// Checks and evaluates `expr`: the value and the checked type, or the first diagnostic.
fn run(expr: &str, options: ExprOptions, values: Vec<Value>) -> Result<(String, Ty), String> {
    let (parsed, diagnostics) = parse_expression("<t>", expr);
    if let Some(d) = diagnostics.first() {
        return Err(d.message.clone());
    }
    let (ir, diagnostics) = Database::new().check_expression("<t>", &parsed.unwrap(), options);
    if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
        return Err(d.message.clone());
    }
    let schema = Schema::default();
    let value = Evaluator::new(&schema).eval(&ir, &Bindings(values));
    Ok((value.to_string(), ir.ty))
}

fn value(expr: &str) -> String {
    match run(expr, ExprOptions::default(), Vec::new()) {
        Ok((v, _)) => v,
        Err(e) => panic!("`{expr}` did not check: {e}"),
    }
}

fn ty(expr: &str) -> String {
    run(expr, ExprOptions::default(), Vec::new())
        .map(|(_, t)| t.to_string())
        .unwrap_or_else(|e| panic!("`{expr}` did not check: {e}"))
}

#[test]
fn optional_selection_indexing_and_elements() {
    let cases = [
        ("{'a': 1}.?a", "optional.of(1)"),
        ("{'a': 1}.?b", "optional.none()"),
        ("{'a': 1}.?b.orValue(7)", "7"),
        ("[1, 2][?5].hasValue()", "false"),
        ("{1: 'x'}[?1].value()", "\"x\""),
        // After an optional, a selection is an optional selection: absent stays empty.
        ("optional.of({'c': {}}).c.missing.orValue('d')", "\"d\""),
        ("[?optional.none(), ?optional.of(2), 3]", "[2, 3]"),
        ("{?'k': optional.none(), 'j': 1}", "{\"j\": 1}"),
        ("has({}.?x.y)", "false"),
        ("optional.none().or(optional.of(3)).value()", "3"),
        ("optional.ofNonZeroValue('').hasValue()", "false"),
        ("optional.of(2).optMap(x, x * 10).value()", "20"),
        (
            "optional.none().optFlatMap(x, optional.of(x)).hasValue()",
            "false",
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(value(expr), want, "{expr}");
    }
    // A field after a selection that is not there is still an error.
    assert!(value("{'k': dyn(null)}.?k.invalid.hasValue()").starts_with("error"));
}

#[test]
fn quoted_field_names_select_map_keys() {
    assert_eq!(value("{'content-type': 'text'}.`content-type`"), "\"text\"");
    assert_eq!(value("has({'a/b': 1}.`a/b`)"), "true");
}

#[test]
fn bind_and_block_are_local_bindings() {
    assert_eq!(value("cel.bind(x, 3, x * x)"), "9");
    assert_eq!(
        value("cel.bind(a, 1, cel.bind(b, a + 1, [a, b]))"),
        "[1, 2]"
    );
    assert_eq!(
        value("cel.block([1, cel.index(0) + 1, cel.index(1) * 10], cel.index(2))"),
        "20"
    );
    assert_eq!(
        value("cel.block([[1, 2]], cel.index(0).map(cel.iterVar(0, 0), cel.iterVar(0, 0) + 1))"),
        "[2, 3]"
    );
    let unbound = run("cel.index(0)", ExprOptions::default(), Vec::new()).unwrap_err();
    assert!(unbound.contains("not bound"), "{unbound}");
}

#[test]
fn two_variable_comprehensions() {
    let cases = [
        ("[10, 20].all(i, v, v == (i + 1) * 10)", "true"),
        ("{'a': 1, 'b': 2}.exists(k, v, k == 'b' && v == 2)", "true"),
        ("[5, 7, 8].existsOne(i, v, v % 5 == i)", "true"),
        ("[2, 4, 6].transformList(i, v, i != 1, v / 2 + i)", "[1, 5]"),
        ("{'a': 1}.transformMap(k, v, v + 1)", "{\"a\": 2}"),
        ("[7, 8].transformMap(i, v, v * i)", "{0: 0, 1: 8}"),
    ];
    for (expr, want) in cases {
        assert_eq!(value(expr), want, "{expr}");
    }
    assert!(value("[1, 2, 3].transformList(i, v, v / i)").contains("division by zero"));
}

#[test]
fn qualified_names_resolve_in_the_container_longest_prefix_first() {
    let options = |container: &str| ExprOptions {
        bindings: vec![
            ("a.b".into(), Ty::map(Ty::String, Ty::String)),
            ("a.b.c".into(), Ty::String),
            ("com.example.y".into(), Ty::Int),
            ("y".into(), Ty::Int),
        ],
        container: container.into(),
        ..ExprOptions::default()
    };
    let values = || {
        vec![
            Value::Map(Default::default()),
            Value::string("long"),
            Value::Int(1),
            Value::Int(2),
        ]
    };
    let got = |expr: &str, container: &str| run(expr, options(container), values()).unwrap().0;
    assert_eq!(got("a.b.c", ""), "\"long\"");
    assert_eq!(got("y", "com.example"), "1");
    assert_eq!(got(".y", "com.example"), "2");
    // A comprehension variable shadows the qualified name.
    assert_eq!(got("[{'c': 'x'}].map(a, a.c)", ""), "[\"x\"]");
}

#[test]
fn unchecked_evaluation_defers_type_errors_to_run_time() {
    let dynamic = ExprOptions {
        dynamic: true,
        ..ExprOptions::default()
    };
    let cases = [
        ("false && 32", Some("false")),
        ("32 || true", Some("true")),
        ("[1] < [2]", None),
        ("unknown_name", None),
        ("f_unknown(17)", None),
        ("a.b() || true", Some("true")),
        ("1 + 'a'", None),
    ];
    for (expr, want) in cases {
        let checked = run(expr, ExprOptions::default(), Vec::new());
        assert!(checked.is_err(), "`{expr}` should not check: {checked:?}");
        let (v, _) = run(expr, dynamic.clone(), Vec::new()).unwrap();
        match want {
            Some(want) => assert_eq!(v, want, "{expr}"),
            None => assert!(v.starts_with("error"), "`{expr}` gave {v}"),
        }
    }
}

#[test]
fn empty_literals_take_their_siblings_types() {
    assert_eq!(ty("[[], [[]], [[[]]]]"), "list<list<list<list<dyn>>>>");
    assert_eq!(ty("[[], [1]]"), "list<list<int>>");
    assert_eq!(
        ty("[optional.none(), optional.of(1)]"),
        "list<optional<int>>"
    );
    assert_eq!(
        ty("[optional.of(1), optional.of(dyn(1))]"),
        "list<optional<dyn>>"
    );
    assert_eq!(
        ty("true ? optional.of(dyn(1)) : optional.of(1)"),
        "optional<dyn>"
    );
    assert_eq!(ty("[]"), "list<dyn>");
    assert_eq!(ty("{}"), "map<dyn, dyn>");
}

#[test]
fn macros_can_be_turned_off() {
    let plain = ExprOptions {
        no_macros: true,
        ..ExprOptions::default()
    };
    let e = run("[1].all(x, x > 0)", plain, Vec::new()).unwrap_err();
    assert!(e.contains("unknown"), "{e}");
}

#[test]
fn evaluation_is_bounded_in_steps_and_in_what_it_builds() {
    let ten = "[0,1,2,3,4,5,6,7,8,9]";
    let mut nest = "a".to_string();
    for v in ["i", "h", "g", "f", "e", "d", "c", "b", "a"] {
        nest = format!("{ten}.map({v}, {nest})");
    }
    let v = value(&format!("{nest}.size()"));
    assert!(v.contains("budget"), "{v}");
    // Forty doublings of a string would be a terabyte.
    let mut doubling = "'ab'".to_string();
    for k in 0..40 {
        doubling = format!("cel.bind(x{k}, {doubling}, x{k} + x{k})");
    }
    let v = value(&doubling);
    assert!(v.contains("budget"), "{v}");
    // Reading a large value again and again costs nothing; constant-time functions of it,
    // and looking keys up in a map, cost a step.
    let big = format!("[{}]", vec!["1"; 5_000].join(", "));
    let keys: Vec<String> = (0..5_000).map(|i| format!("{i}: 1")).collect();
    let map = format!("{{{}}}", keys.join(", "));
    let reads = "l.all(x, x > 0 && size(l) > 0 && x in m && type(l) == list)";
    assert_eq!(
        value(&format!("cel.bind(l, {big}, cel.bind(m, {map}, {reads}))")),
        "true"
    );
    // Reading a large value through, again and again, costs as much as it is large.
    let v = value(&format!("cel.bind(l, {big}, l.all(x, x in l))"));
    assert!(v.contains("budget"), "{v}");
    // Equal values built apart are as costly to compare as they are large, however much of
    // them is shared.
    let mut nested = "[1, 2, 3, 4, 5, 6, 7, 8]".to_string();
    for k in 0..10 {
        let n = format!("n{k}");
        let eight = [n.as_str(); 8].join(", ");
        nested = format!("cel.bind({n}, {nested}, [{eight}])");
    }
    let v = value(&format!("{nested} == {nested}"));
    assert!(v.contains("budget"), "{v}");
}

#[test]
fn macros_reject_a_name_bound_twice_and_the_accumulator() {
    for expr in [
        "[1, 2].transformList(i, i, i)",
        "[1].all(i, i, true)",
        "[1].map(__result__, 1)",
    ] {
        let e = run(expr, ExprOptions::default(), Vec::new()).unwrap_err();
        assert!(
            e.contains("twice") || e.contains("accumulator"),
            "{expr}: {e}"
        );
    }
}

#[test]
fn or_joins_optionals_of_one_type() {
    assert_eq!(ty("optional.none().or(optional.of(2))"), "optional<int>");
    assert_eq!(ty("optional.none().orValue(2)"), "int");
    let e = run(
        "optional.of(1).or(optional.of('s'))",
        ExprOptions::default(),
        Vec::new(),
    );
    assert!(e.unwrap_err().contains("one type"));
}

#[test]
fn unknown_namespace_functions_are_named_in_full() {
    let e = run("math.greatst(1, 2)", ExprOptions::default(), Vec::new()).unwrap_err();
    assert_eq!(e, "unknown function `math.greatst`");
    let e = run("cel.bind(x, 1)", ExprOptions::default(), Vec::new()).unwrap_err();
    assert!(e.contains("takes a name, a value and an expression"), "{e}");
    let e = run(
        "cel.block([1], cel.index(1))",
        ExprOptions::default(),
        Vec::new(),
    )
    .unwrap_err();
    assert!(e.contains("`cel.index(1)` is not bound"), "{e}");
}

#[test]
fn doubles_convert_with_range_errors_and_print_compactly() {
    assert!(value("double('1e400')").contains("range"));
    assert_eq!(value("double('-Infinity')"), "-Infinity");
    assert_eq!(value("0.0 / 0.0"), "NaN");
    assert_eq!(value("1e100"), "1e100");
    assert_eq!(value("1.38e-23"), "1.38e-23");
    assert_eq!(value("2.5"), "2.5");
}

#[test]
fn strings_print_as_literals_that_read_back() {
    for literal in [
        r#""a\u2028b\x00""#,
        r#""tab\there \"q\" \\""#,
        r#""plain é""#,
    ] {
        let shown = value(literal);
        assert_eq!(shown, literal);
        assert_eq!(value(&shown), shown, "reading {shown} back");
    }
}

#[test]
fn string_functions_refuse_to_build_past_the_value_limit() {
    // Strings cheap to hold (8 KiB, 2 MiB); what each expression would build from them is not.
    let doubled = |times: usize| {
        let mut e = "'abcdefgh'".to_string();
        for k in 0..times {
            e = format!("cel.bind(d{k}, {e}, d{k} + d{k})");
        }
        e
    };
    let (small, large) = (doubled(10), doubled(18));
    let nine = "[s, s, s, s, s, s, s, s, s]";
    for (what, expr) in [
        ("replace", format!("cel.bind(s, {small}, s.replace('', s))")),
        ("join", format!("cel.bind(s, {large}, {nine}.join(''))")),
        (
            "format",
            format!("cel.bind(s, {large}, '%s'.format([{nine}]))"),
        ),
    ] {
        let v = value(&expr);
        assert!(
            v.starts_with("error"),
            "{what} gave {}",
            &v[..v.len().min(80)]
        );
    }
    assert_eq!(
        value(&format!("cel.bind(s, {large}, [s, s].join('').size())")),
        "4194304"
    );
    assert_eq!(value("['a', 'b'].join('-')"), "\"a-b\"");
}

#[test]
fn a_variable_does_not_hide_a_qualified_function() {
    let options = ExprOptions {
        bindings: vec![
            ("math".into(), Ty::Int),
            ("cel".into(), Ty::Int),
            ("strings".into(), Ty::Int),
        ],
        ..ExprOptions::default()
    };
    let values = vec![Value::Int(1), Value::Int(2), Value::Int(3)];
    for (expr, want) in [
        ("math.abs(-4)", "4"),
        ("cel.bind(a, 5, a)", "5"),
        ("strings.quote('q')", "\"\\\"q\\\"\""),
        ("math + cel + strings", "6"),
    ] {
        let (v, _) = run(expr, options.clone(), values.clone()).unwrap();
        assert_eq!(v, want, "{expr}");
    }
}

#[test]
fn invisible_and_reordering_characters_print_escaped() {
    assert_eq!(
        value("'\\u0085\\u009b\\u202e\\u2066'"),
        "\"\\u0085\\u009b\\u202e\\u2066\""
    );
}

#[test]
fn a_method_of_an_unknown_name_is_one_mistake() {
    let (parsed, _) = parse_expression("<t>", "foo.bar(1)");
    let (_, diagnostics) =
        Database::new().check_expression("<t>", &parsed.unwrap(), ExprOptions::default());
    let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages, ["unknown name `foo`"]);
}

#[test]
fn an_unknown_cel_function_is_marked_at_its_name() {
    let text = "cel.foo(1)";
    let (parsed, _) = parse_expression("<t>", text);
    let (_, diagnostics) =
        Database::new().check_expression("<t>", &parsed.unwrap(), ExprOptions::default());
    let span = diagnostics.first().unwrap().primary.span;
    assert_eq!(&text[span.start as usize..span.end as usize], "foo");
}

/// A host record type `acme.Plan { name: string, price: double, tag: optional<string> }`.
fn with_plan() -> ExprOptions {
    ExprOptions {
        container: "acme".into(),
        records: vec![(
            "acme.Plan".into(),
            vec![
                ("name".into(), Ty::String),
                ("price".into(), Ty::Double),
                ("tag".into(), Ty::optional(Ty::String)),
            ],
        )],
        ..ExprOptions::default()
    }
}

fn plan(expr: &str) -> Result<String, String> {
    let options = with_plan();
    let (parsed, diagnostics) = parse_expression("<t>", expr);
    if let Some(d) = diagnostics.first() {
        return Err(d.message.clone());
    }
    let schema = options.schema();
    let (ir, diagnostics) = Database::new().check_expression("<t>", &parsed.unwrap(), options);
    if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
        return Err(d.message.clone());
    }
    Ok(Evaluator::new(&schema)
        .eval(&ir, &Bindings(Vec::new()))
        .to_string())
}

#[test]
fn message_literals_build_host_records() {
    let ok = [
        ("Plan{name: 'basic', price: 9.5}.price", "9.5"),
        // Qualified from the root, with blanks and comments between the parts of the name.
        (".acme . Plan { name : 'x' }.name", "\"x\""),
        ("acme.// a comment\nPlan{name: 'x'}.name == 'x'", "true"),
        ("has(Plan{name: 'x'}.price)", "false"),
        ("Plan{name: 'x', tag: 'new'}.tag.value()", "\"new\""),
        ("Plan{?tag: optional.none()}.tag.hasValue()", "false"),
        ("Plan{?tag: optional.of('a')}.tag.orValue('-')", "\"a\""),
        ("Plan{name: 'x'} == Plan{name: 'x'}", "true"),
        ("Plan{name: 'x'} == Plan{name: 'y'}", "false"),
    ];
    for (expr, want) in ok {
        assert_eq!(plan(expr).as_deref(), Ok(want), "{expr}");
    }
    assert!(plan("Plan{name: 'x'}.price").unwrap().contains("not set"));
    let errors = [
        ("Plan{nam: 'x'}", "`acme.Plan` has no field `nam`"),
        (
            "Plan{name: 'x', name: 'y'}",
            "the field `name` is set twice",
        ),
        (
            "Plan{price: 'x'}",
            "`acme.Plan.price` is a double, not a string",
        ),
        ("Plan{?price: 1.0}", "`?` takes an optional value"),
        ("Plam{name: 'x'}", "there is no record type `Plam`"),
        // From the root, the container does not apply.
        (".Plan{name: 'x'}", "there is no record type `Plan`"),
    ];
    for (expr, want) in errors {
        let got = plan(expr).expect_err(expr);
        assert!(got.contains(want), "{expr}: {got}");
    }
}
