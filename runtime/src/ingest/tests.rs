//! Tests of the event reader: every field type, every error, and the real data sets.

use super::*;
use offer_compiler::schema::{EnumDef, FieldDef, RecordDef, RecordKind};
use offer_compiler::span::Span;
use offer_compiler::types::Ty;
use offer_compiler::value::{Currency, EnumValue, MapKey, Money, Value, time};
use std::io::{BufReader, Cursor, Read};

fn field(name: &str, ty: Ty) -> FieldDef {
    FieldDef {
        name: name.into(),
        ty,
        span: Span::default(),
    }
}

fn record(name: &str, kind: RecordKind, fields: Vec<FieldDef>, key: Option<u32>) -> RecordDef {
    RecordDef {
        name: name.into(),
        kind,
        fields,
        key,
        span: Span::default(),
    }
}

fn enum_def(name: &str, variants: &[&str]) -> EnumDef {
    EnumDef {
        name: name.into(),
        variants: variants.iter().map(|v| v.to_string()).collect(),
    }
}

const CUSTOMER: u32 = 0;
const PURCHASE: u32 = 1;
const ADDRESS: u32 = 2;
const CLICK: u32 = 3;

/// Slots of `purchase`, in declaration order.
const PURCHASE_FIELDS: [&str; 18] = [
    "amount", "count", "big", "ratio", "ok", "note", "blob", "when", "wait", "tz", "plan", "tags",
    "prices", "counts", "addr", "extra", "maybe", "flags",
];

fn schema() -> Arc<Schema> {
    Arc::new(Schema {
        records: vec![
            record(
                "customer",
                RecordKind::Profile,
                vec![
                    field("id", Ty::String),
                    field("plan", Ty::Enum(0)),
                    field("age", Ty::optional(Ty::Int)),
                ],
                Some(0),
            ),
            record(
                "purchase",
                RecordKind::Event,
                vec![
                    field("amount", Ty::Money),
                    field("count", Ty::Int),
                    field("big", Ty::Uint),
                    field("ratio", Ty::Double),
                    field("ok", Ty::Bool),
                    field("note", Ty::String),
                    field("blob", Ty::Bytes),
                    field("when", Ty::Timestamp),
                    field("wait", Ty::Duration),
                    field("tz", Ty::Timezone),
                    field("plan", Ty::Enum(0)),
                    field("tags", Ty::list(Ty::String)),
                    field("prices", Ty::map(Ty::String, Ty::Double)),
                    field("counts", Ty::map(Ty::Int, Ty::Int)),
                    field("addr", Ty::Record(ADDRESS)),
                    field("extra", Ty::Dyn),
                    field("maybe", Ty::optional(Ty::Int)),
                    field("flags", Ty::optional(Ty::list(Ty::optional(Ty::Bool)))),
                ],
                None,
            ),
            record(
                "address",
                RecordKind::Nested,
                vec![
                    field("city", Ty::String),
                    field("zip", Ty::optional(Ty::String)),
                ],
                None,
            ),
            record(
                "click",
                RecordKind::Event,
                vec![
                    field("page", Ty::String),
                    field("contract", Ty::optional(Ty::Enum(1))),
                ],
                None,
            ),
        ],
        enums: vec![
            enum_def("customer.plan", &["prepaid", "postpaid", "business"]),
            enum_def(
                "click.contract",
                &["month_to_month", "one_year", "two_year"],
            ),
        ],
        profile: Some(CUSTOMER),
    })
}

/// A profile keyed by an integer, to test filling and comparing numeric keys.
fn int_key_schema() -> Arc<Schema> {
    Arc::new(Schema {
        records: vec![record(
            "member",
            RecordKind::Profile,
            vec![field("name", Ty::String), field("number", Ty::Int)],
            Some(1),
        )],
        enums: vec![],
        profile: Some(0),
    })
}

fn read_all(
    text: &[u8],
    format: Format,
    mapping: Mapping,
    schema: Arc<Schema>,
) -> Vec<Result<Event, IngestError>> {
    EventReader::new(Cursor::new(text.to_vec()), format, mapping, schema)
        .unwrap()
        .collect()
}

fn ndjson_mapping() -> Mapping {
    Mapping {
        type_source: TypeSource::Fixed(String::new()),
        key: KeySource::Row,
        time: TimeSource::Fixed(0),
    }
}

fn ndjson(text: &str) -> Vec<Result<Event, IngestError>> {
    read_all(text.as_bytes(), Format::Ndjson, ndjson_mapping(), schema())
}

fn one(text: &str) -> Result<Event, IngestError> {
    let mut items = ndjson(text);
    assert_eq!(items.len(), 1, "{items:?}");
    items.remove(0)
}

fn err(result: Result<Event, IngestError>) -> IngestError {
    match result {
        Ok(e) => panic!("expected an error, got {e:?}"),
        Err(e) => e,
    }
}

fn slot(event: &Event, name: &str, schema: &Schema) -> Option<Value> {
    let (i, _) = schema.record(event.ty).unwrap().field(name).unwrap();
    event.record.fields[i as usize].clone()
}

const T0: &str = "2026-06-01T10:00:00Z";

fn ts(text: &str) -> i128 {
    time::parse_timestamp(text).unwrap()
}

fn eur(text: &str) -> Value {
    Value::Money(Money::parse_amount(text, Currency::parse("EUR").unwrap()).unwrap())
}

/// A purchase line with every required field, plus `extra` members spliced in (which may
/// override earlier ones: serde_json keeps the last).
fn purchase_line(extra: &str) -> String {
    let base = r#""type":"purchase","key":"c1","at":"2026-06-01T10:00:00Z","amount":"9.99 EUR","count":3,"big":18446744073709551615,"ratio":0.5,"ok":true,"note":"hi there","blob":"aGVsbG8=","when":"2026-01-02T03:04:05+02:00","wait":"1h30m","tz":"Europe/Helsinki","plan":"postpaid","tags":["a","b"],"prices":{"x":1.5,"y":2},"counts":{"1":10,"-2":20},"addr":{"city":"Oulu"},"extra":{"n":1}"#;
    // Members of `extra` replace the base's of the same name: a line may not give one twice.
    // `extra` stays text, since it may hold what JSON values cannot (`1e999`).
    let mut members: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&format!("{{{base}}}")).unwrap();
    members.retain(|k, _| !extra.contains(&format!("\"{k}\":")));
    let base = serde_json::Value::Object(members).to_string();
    let base = base.trim_start_matches('{').trim_end_matches('}');
    match (base.is_empty(), extra.is_empty()) {
        (_, true) => format!("{{{base}}}"),
        (true, false) => format!("{{{extra}}}"),
        (false, false) => format!("{{{base},{extra}}}"),
    }
}

fn purchase_error(extra: &str) -> IngestError {
    err(one(&purchase_line(extra)))
}

// ---------------------------------------------------------------- NDJSON: values

#[test]
fn ndjson_every_field_type() {
    let s = schema();
    let e = one(&purchase_line(r#""maybe":7,"flags":[true,null]"#)).unwrap();
    assert_eq!(e.ty, PURCHASE);
    assert_eq!(&*e.key, "c1");
    assert_eq!(e.at, ts(T0));
    assert_eq!(e.line, 1);
    assert_eq!(e.record.ty, PURCHASE);
    assert_eq!(e.record.fields.len(), PURCHASE_FIELDS.len());
    let get = |name| slot(&e, name, &s).unwrap();
    assert_eq!(get("amount"), eur("9.99"));
    assert_eq!(get("count"), Value::Int(3));
    assert_eq!(get("big"), Value::Uint(u64::MAX));
    assert_eq!(get("ratio"), Value::Double(0.5));
    assert_eq!(get("ok"), Value::Bool(true));
    assert_eq!(get("note"), Value::string("hi there"));
    assert_eq!(get("blob"), Value::Bytes(Arc::from(&b"hello"[..])));
    assert_eq!(get("when"), Value::Timestamp(ts("2026-01-02T01:04:05Z")));
    assert_eq!(
        get("wait"),
        Value::Duration(90 * 60 * time::NANOS_PER_SECOND)
    );
    assert_eq!(get("tz"), Value::Timezone(Arc::from("Europe/Helsinki")));
    assert_eq!(get("plan"), Value::Enum(EnumValue { ty: 0, index: 1 }));
    assert_eq!(
        get("tags"),
        Value::list(vec![Value::string("a"), Value::string("b")])
    );
    let Value::Map(prices) = get("prices") else {
        panic!("prices is not a map")
    };
    assert_eq!(
        prices.entries.get(&MapKey::String(Arc::from("y"))),
        Some(&Value::Double(2.0))
    );
    let Value::Map(counts) = get("counts") else {
        panic!("counts is not a map")
    };
    assert_eq!(counts.entries.get(&MapKey::Int(-2)), Some(&Value::Int(20)));
    assert_eq!(counts.entries.len(), 2);
    let Value::Record(addr) = get("addr") else {
        panic!("addr is not a record")
    };
    assert_eq!(addr.ty, ADDRESS);
    assert_eq!(addr.fields, vec![Some(Value::string("Oulu")), None]);
    let Value::Map(extra) = get("extra") else {
        panic!("extra is not a map")
    };
    assert_eq!(
        extra.entries.get(&MapKey::String(Arc::from("n"))),
        Some(&Value::Int(1))
    );
    // Optional at the slot is the slot's presence, not a wrapper.
    assert_eq!(get("maybe"), Value::Int(7));
    // Optional inside a container has no slot, so it stays a wrapper.
    assert_eq!(
        get("flags"),
        Value::list(vec![
            Value::Optional(Some(Arc::new(Value::Bool(true)))),
            Value::Optional(None)
        ])
    );
}

#[test]
fn ndjson_optional_absent_or_null_is_none() {
    let s = schema();
    let e = one(&purchase_line("")).unwrap();
    assert_eq!(slot(&e, "maybe", &s), None);
    let e = one(&purchase_line(r#""maybe":null"#)).unwrap();
    assert_eq!(slot(&e, "maybe", &s), None);
}

#[test]
fn ndjson_int_rules() {
    let s = schema();
    let e = one(&purchase_line(r#""count":3.0"#)).unwrap();
    assert_eq!(slot(&e, "count", &s), Some(Value::Int(3)));
    let e = one(&purchase_line(r#""count":-1e3"#)).unwrap();
    assert_eq!(slot(&e, "count", &s), Some(Value::Int(-1000)));
    let e = purchase_error(r#""count":2.5"#);
    assert_eq!(e.field.as_deref(), Some("count"));
    assert_eq!(e.message, "expected a whole number, found `2.5`");
    let e = purchase_error(r#""count":9223372036854775808"#);
    assert_eq!(
        e.message,
        "expected a whole number from -9223372036854775808 to 9223372036854775807, found `9223372036854775808`"
    );
    let e = purchase_error(r#""count":"3""#);
    assert_eq!(e.message, "expected a whole number, found `\"3\"`");
}

#[test]
fn ndjson_uint_and_double_rules() {
    let s = schema();
    let e = one(&purchase_line(r#""big":4.0"#)).unwrap();
    assert_eq!(slot(&e, "big", &s), Some(Value::Uint(4)));
    let e = purchase_error(r#""big":-1"#);
    assert_eq!(e.field.as_deref(), Some("big"));
    assert_eq!(
        e.message,
        "expected a non-negative whole number, found `-1`"
    );
    let e = purchase_error(r#""big":18446744073709551616"#);
    assert!(
        e.message.starts_with("expected a whole number from 0 to"),
        "{e}"
    );
    let e = one(&purchase_line(r#""ratio":2"#)).unwrap();
    assert_eq!(slot(&e, "ratio", &s), Some(Value::Double(2.0)));
    let e = purchase_error(r#""ratio":"2""#);
    assert_eq!(e.message, "expected a number, found `\"2\"`");
}

#[test]
fn ndjson_scalar_errors() {
    let cases = [
        (
            r#""ok":"yes""#,
            "ok",
            "expected `true` or `false`, found `\"yes\"`",
        ),
        (r#""note":5"#, "note", "expected a string, found `5`"),
        (
            r#""blob":"!!!""#,
            "blob",
            "expected a base64 string, found `!!!`",
        ),
        (
            r#""when":"yesterday""#,
            "when",
            "expected an RFC 3339 timestamp such as `2026-06-01T10:00:00Z`, found `yesterday`",
        ),
        (
            r#""wait":"an hour""#,
            "wait",
            "expected a duration such as `1h30m`, found `an hour`",
        ),
        (
            r#""amount":"9.99 eur""#,
            "amount",
            "expected an amount with a currency such as `9.99 EUR`, found `9.99 eur`",
        ),
        (
            r#""amount":9.99"#,
            "amount",
            "expected an amount with a currency such as `9.99 EUR`, found `9.99`",
        ),
        (
            r#""tz":"Mars/Olympus""#,
            "tz",
            "expected a time zone such as `Europe/Helsinki`, found `Mars/Olympus`",
        ),
        (
            r#""plan":"gold""#,
            "plan",
            "expected one of `prepaid`, `postpaid`, `business`, found `gold`",
        ),
        (r#""tags":"a""#, "tags", "expected an array, found `\"a\"`"),
        (
            r#""tags":["a",1]"#,
            "tags[1]",
            "expected a string, found `1`",
        ),
        (
            r#""prices":[1]"#,
            "prices",
            "expected an object, found `[1]`",
        ),
        (
            r#""prices":{"x":"cheap"}"#,
            "prices[\"x\"]",
            "expected a number, found `\"cheap\"`",
        ),
        (
            r#""counts":{"one":1}"#,
            "counts[\"one\"]",
            "expected a key that is a whole number, found `one`",
        ),
        (
            r#""addr":"Oulu""#,
            "addr",
            "expected an object, found `\"Oulu\"`",
        ),
        (
            r#""addr":{"city":1}"#,
            "addr.city",
            "expected a string, found `1`",
        ),
        (r#""addr":{}"#, "addr.city", "missing field `city`"),
        (
            r#""addr":{"city":"Oulu","cty":"x"}"#,
            "addr.cty",
            "unknown field `cty`; did you mean `city`?",
        ),
        (
            r#""maybe":"x""#,
            "maybe",
            "expected a whole number, found `\"x\"`",
        ),
        (
            r#""flags":[1]"#,
            "flags[0]",
            "expected `true` or `false`, found `1`",
        ),
    ];
    for (extra, field, message) in cases {
        let e = purchase_error(extra);
        assert_eq!(e.line, 1, "{extra}");
        assert_eq!(e.field.as_deref(), Some(field), "{extra}: {e}");
        assert_eq!(e.message, message, "{extra}");
    }
}

#[test]
fn ndjson_string_values_keep_their_spaces_and_money_takes_many_spaces() {
    let s = schema();
    let e = one(&purchase_line(r#""note":"  padded ","amount":"-12   USD""#)).unwrap();
    assert_eq!(slot(&e, "note", &s), Some(Value::string("  padded ")));
    assert_eq!(
        slot(&e, "amount", &s),
        Some(Value::Money(
            Money::parse_amount("-12", Currency::parse("USD").unwrap()).unwrap()
        ))
    );
}

#[test]
fn ndjson_enum_matching() {
    let s = schema();
    let line = |contract: &str| {
        format!(r#"{{"type":"click","key":"k","at":"{T0}","page":"p","contract":"{contract}"}}"#)
    };
    let get = |contract: &str| slot(&one(&line(contract)).unwrap(), "contract", &s);
    assert_eq!(
        get("one_year"),
        Some(Value::Enum(EnumValue { ty: 1, index: 1 }))
    );
    assert_eq!(
        get("Month-to-month"),
        Some(Value::Enum(EnumValue { ty: 1, index: 0 }))
    );
    assert_eq!(
        get("  TWO  year! "),
        Some(Value::Enum(EnumValue { ty: 1, index: 2 }))
    );
    let e = err(one(&line("three years")));
    assert_eq!(e.field.as_deref(), Some("contract"));
    assert_eq!(
        e.message,
        "expected one of `month_to_month`, `one_year`, `two_year`, found `three years`"
    );
    let e = err(one(&line("--")));
    assert!(e.message.starts_with("expected one of"), "{e}");
}

#[test]
fn ndjson_dyn_values() {
    let s = schema();
    let get = |json: &str| {
        let e = one(&purchase_line(&format!(r#""extra":{json}"#))).unwrap();
        slot(&e, "extra", &s).unwrap()
    };
    assert_eq!(get("-5"), Value::Int(-5));
    assert_eq!(get("18446744073709551615"), Value::Uint(u64::MAX));
    assert_eq!(get("1e300"), Value::Double(1e300));
    let line = purchase_line(r#""extra":1e400"#);
    let column = line.find("1e400").unwrap() + "1e400".len();
    let e = err(one(&line));
    assert_eq!(
        e.message,
        format!("invalid JSON at column {column}: number out of range")
    );
    assert_eq!(get("2.5"), Value::Double(2.5));
    assert_eq!(get(r#""s""#), Value::string("s"));
    assert_eq!(get("false"), Value::Bool(false));
    assert_eq!(
        get(r#"[1,null,"x"]"#),
        Value::list(vec![Value::Int(1), Value::Null, Value::string("x")])
    );
    // A required dyn field that is null is as missing as any other.
    let e = purchase_error(r#""extra":null"#);
    assert_eq!(e.field.as_deref(), Some("extra"));
    assert_eq!(e.message, "expected a value, found `null`");
}

// ---------------------------------------------------------------- NDJSON: errors

#[test]
fn ndjson_envelope_errors() {
    let cases = [
        ("not json", None, "invalid JSON at column 2: expected ident"),
        ("[1,2]", None, "expected a JSON object, found `[1,2]`"),
        (
            r#"{"key":"k","at":"2026-06-01T10:00:00Z"}"#,
            Some("type"),
            "missing field `type`",
        ),
        (
            r#"{"type":"click","at":"2026-06-01T10:00:00Z","page":"p"}"#,
            Some("key"),
            "missing field `key`",
        ),
        (
            r#"{"type":"click","key":"k","page":"p"}"#,
            Some("at"),
            "missing field `at`",
        ),
        (
            r#"{"type":"clik","key":"k","at":"2026-06-01T10:00:00Z"}"#,
            Some("type"),
            "unknown event type `clik`; did you mean `click`?",
        ),
        (
            r#"{"type":"zzz","key":"k","at":"2026-06-01T10:00:00Z"}"#,
            Some("type"),
            "unknown event type `zzz`; the event types are `customer`, `purchase`, `click`",
        ),
        (
            r#"{"type":"address","key":"k","at":"2026-06-01T10:00:00Z"}"#,
            Some("type"),
            "unknown event type `address`; the event types are `customer`, `purchase`, `click`",
        ),
        (
            r#"{"type":7,"key":"k","at":"2026-06-01T10:00:00Z"}"#,
            Some("type"),
            "expected the name of an event type, found `7`",
        ),
        (
            r#"{"type":"click","key":1.5,"at":"2026-06-01T10:00:00Z","page":"p"}"#,
            Some("key"),
            "expected a string or a whole number, found `1.5`",
        ),
        (
            r#"{"type":"click","key":"","at":"2026-06-01T10:00:00Z","page":"p"}"#,
            Some("key"),
            "the key is empty",
        ),
        (
            r#"{"type":"click","key":"k","at":"2026-06-01","page":"p"}"#,
            Some("at"),
            "expected an RFC 3339 timestamp such as `2026-06-01T10:00:00Z`, found `2026-06-01`",
        ),
        (
            r#"{"type":"click","key":"k","at":1700000000,"page":"p"}"#,
            Some("at"),
            "expected an RFC 3339 timestamp such as `2026-06-01T10:00:00Z`, found `1700000000`",
        ),
        (
            r#"{"type":"click","key":"k","at":"2026-06-01T10:00:00Z","pgae":"p"}"#,
            Some("pgae"),
            "unknown field `pgae`; did you mean `page`?",
        ),
        (
            r#"{"type":"click","key":"k","at":"2026-06-01T10:00:00Z","page":"p","zzz":1}"#,
            Some("zzz"),
            "unknown field `zzz`; the fields of `click` are `page`, `contract`",
        ),
        (
            r#"{"type":"click","key":"k","at":"2026-06-01T10:00:00Z"}"#,
            Some("page"),
            "missing field `page`",
        ),
        (
            r#"{"type":"click","key":"k","at":"2026-06-01T10:00:00Z","page":null}"#,
            Some("page"),
            "expected a string, found `null`",
        ),
    ];
    for (line, field, message) in cases {
        let e = err(one(line));
        assert_eq!(e.line, 1, "{line}");
        assert_eq!(e.field.as_deref(), field, "{line}: {e}");
        assert_eq!(e.message, message, "{line}");
    }
}

#[test]
fn ndjson_integer_key_becomes_text() {
    let e = one(&format!(
        r#"{{"type":"click","key":42,"at":"{T0}","page":"p"}}"#
    ))
    .unwrap();
    assert_eq!(&*e.key, "42");
}

#[test]
fn ndjson_profile_key_is_filled_and_checked() {
    let s = schema();
    let e = one(&format!(
        r#"{{"type":"customer","key":"c7","at":"{T0}","plan":"business"}}"#
    ))
    .unwrap();
    assert_eq!(e.ty, CUSTOMER);
    assert_eq!(slot(&e, "id", &s), Some(Value::string("c7")));
    assert_eq!(slot(&e, "age", &s), None);
    let e = one(&format!(
        r#"{{"type":"customer","key":"c7","at":"{T0}","plan":"business","id":"c7"}}"#
    ))
    .unwrap();
    assert_eq!(slot(&e, "id", &s), Some(Value::string("c7")));
    let e = err(one(&format!(
        r#"{{"type":"customer","key":"y","at":"{T0}","plan":"business","id":"x"}}"#
    )));
    assert_eq!(e.field.as_deref(), Some("id"));
    assert_eq!(
        e.message,
        "the key field `id` is `x` but the event's key is `y`"
    );
}

#[test]
fn ndjson_int_profile_key() {
    let s = int_key_schema();
    let read = |line: &str| {
        let mut items = read_all(line.as_bytes(), Format::Ndjson, ndjson_mapping(), s.clone());
        items.remove(0)
    };
    let e = read(&format!(
        r#"{{"type":"member","key":"0042","at":"{T0}","name":"n"}}"#
    ))
    .unwrap();
    assert_eq!(e.record.fields[1], Some(Value::Int(42)));
    let e = read(&format!(
        r#"{{"type":"member","key":42,"at":"{T0}","name":"n","number":42}}"#
    ))
    .unwrap();
    assert_eq!(e.record.fields[1], Some(Value::Int(42)));
    let e = err(read(&format!(
        r#"{{"type":"member","key":"abc","at":"{T0}","name":"n"}}"#
    )));
    assert_eq!(e.field.as_deref(), Some("number"));
    assert_eq!(
        e.message,
        "cannot fill the key field from the event's key: expected a whole number, found `abc`"
    );
    let e = err(read(&format!(
        r#"{{"type":"member","key":"41","at":"{T0}","name":"n","number":42}}"#
    )));
    assert_eq!(
        e.message,
        "the key field `number` is `42` but the event's key is `41`"
    );
}

// ---------------------------------------------------------------- NDJSON: lines

fn click(key: &str) -> String {
    format!(r#"{{"type":"click","key":"{key}","at":"{T0}","page":"p"}}"#)
}

#[test]
fn ndjson_bad_line_does_not_stop_the_rest_and_blank_lines_count() {
    let text = format!(
        "{}\n\n   \n{{oops\n{}\n\t\n{{\"type\":\"click\"}}\n{}",
        click("a"),
        click("b"),
        click("c")
    );
    let items = ndjson(&text);
    assert_eq!(items.len(), 5);
    assert_eq!(items[0].as_ref().unwrap().line, 1);
    let bad = items[1].as_ref().unwrap_err();
    assert_eq!(bad.line, 4);
    assert!(bad.message.starts_with("invalid JSON"), "{bad}");
    assert_eq!(items[2].as_ref().unwrap().line, 5);
    assert_eq!(&*items[2].as_ref().unwrap().key, "b");
    assert_eq!(items[3].as_ref().unwrap_err().line, 7);
    // The final line has no newline and still reads.
    let last = items[4].as_ref().unwrap();
    assert_eq!((last.line, &*last.key), (8, "c"));
}

#[test]
fn ndjson_truncated_final_line_is_an_error_of_that_line() {
    let text = format!(
        "{}\n{}",
        click("a"),
        r#"{"type":"click","key":"b","at":"20"#
    );
    let items = ndjson(&text);
    assert_eq!(items.len(), 2);
    let e = items[1].as_ref().unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.starts_with("invalid JSON"), "{e}");
}

#[test]
fn ndjson_invalid_utf8_is_an_error_of_that_line() {
    let mut text = click("a").into_bytes();
    text.extend_from_slice(b"\n{\"type\":\"click\",\"key\":\"\xff\xfe\"}\n");
    text.extend_from_slice(click("b").as_bytes());
    let items = read_all(&text, Format::Ndjson, ndjson_mapping(), schema());
    assert_eq!(items.len(), 3);
    let e = items[1].as_ref().unwrap_err();
    assert_eq!(e.line, 2);
    assert_eq!(e.field, None);
    assert_eq!(e.message, "the line is not valid UTF-8 (at byte 24)");
    assert!(items[2].is_ok());
}

#[test]
fn ndjson_crlf_and_bom() {
    let text = format!("\u{feff}{}\r\n\r\n{}\r\n", click("a"), click("b"));
    let items = ndjson(&text);
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].as_ref().unwrap().line, 3);
    assert!(items[0].is_ok(), "{items:?}");
}

#[test]
fn ndjson_bytes_read_counts_every_byte() {
    let text = format!("{}\n\n{}\n", click("a"), click("b"));
    let mut reader = EventReader::new(
        Cursor::new(text.clone().into_bytes()),
        Format::Ndjson,
        ndjson_mapping(),
        schema(),
    )
    .unwrap();
    assert_eq!(reader.bytes_read(), 0);
    reader.next().unwrap().unwrap();
    assert_eq!(reader.bytes_read(), click("a").len() as u64 + 1);
    assert!(reader.ignored_columns().is_empty());
    reader.next().unwrap().unwrap();
    assert!(reader.next().is_none());
    assert_eq!(reader.bytes_read(), text.len() as u64);
}

/// Yields `data`, then fails.
struct Failing {
    data: Cursor<Vec<u8>>,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.read(buf)?;
        if n == 0 {
            Err(std::io::Error::other("disk on fire"))
        } else {
            Ok(n)
        }
    }
}

#[test]
fn io_error_ends_iteration_with_one_error() {
    for format in [
        Format::Ndjson,
        Format::Whitespace,
        Format::Csv { delimiter: b',' },
    ] {
        let text = match format {
            Format::Ndjson => format!("{}\n{}\n", click("a"), click("b")),
            _ => "key page\na p\nb p\n".replace(
                ' ',
                if format == Format::Whitespace {
                    " "
                } else {
                    ","
                },
            ),
        };
        let source = BufReader::new(Failing {
            data: Cursor::new(text.into_bytes()),
        });
        let mapping = Mapping {
            type_source: TypeSource::Fixed("click".into()),
            key: KeySource::Column("key".into()),
            time: TimeSource::Fixed(0),
        };
        let items: Vec<_> = EventReader::new(source, format, mapping, schema())
            .unwrap()
            .collect();
        assert_eq!(items.len(), 3, "{format:?}: {items:?}");
        assert!(
            items[0].is_ok() && items[1].is_ok(),
            "{format:?}: {items:?}"
        );
        let e = items[2].as_ref().unwrap_err();
        assert_eq!(
            e.message, "cannot read the file: disk on fire",
            "{format:?}"
        );
        assert!(e.line >= 3, "{format:?}: {e}");
    }
}

#[test]
fn error_display() {
    let e = IngestError {
        line: 12,
        field: Some("amount".into()),
        message: "expected a number, found `abc`".into(),
        fatal: false,
    };
    assert_eq!(
        e.to_string(),
        "line 12, field `amount`: expected a number, found `abc`"
    );
    let e = IngestError {
        line: 12,
        field: None,
        message: "expected 20 cells, found 19".into(),
        fatal: false,
    };
    assert_eq!(e.to_string(), "line 12: expected 20 cells, found 19");
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().starts_with("line 12"));
}

#[test]
fn long_user_text_is_shortened() {
    let long = "x".repeat(200);
    let e = purchase_error(&format!(r#""plan":"{long}""#));
    assert!(e.message.ends_with("…`"), "{e}");
    assert!(e.message.len() < 200, "{e}");
}

// ---------------------------------------------------------------- CSV and whitespace

fn fixed(ty: &str, key: KeySource, time: TimeSource) -> Mapping {
    Mapping {
        type_source: TypeSource::Fixed(ty.into()),
        key,
        time,
    }
}

fn csv(text: &str, mapping: Mapping) -> Vec<Result<Event, IngestError>> {
    read_all(
        text.as_bytes(),
        Format::Csv { delimiter: b',' },
        mapping,
        schema(),
    )
}

fn header_error(text: &str, format: Format, mapping: Mapping) -> IngestError {
    match EventReader::new(
        Cursor::new(text.as_bytes().to_vec()),
        format,
        mapping,
        schema(),
    ) {
        Ok(_) => panic!("expected a header error"),
        Err(e) => e,
    }
}

fn purchase_mapping() -> Mapping {
    fixed(
        "purchase",
        KeySource::Column("key".into()),
        TimeSource::Column {
            name: "at".into(),
            format: None,
        },
    )
}

const PURCHASE_HEADER: &str = "key,at,amount,count,big,ratio,ok,note,blob,when,wait,tz,plan,tags,prices,counts,addr,extra,maybe,flags";

/// One CSV row with every purchase field; `over` replaces cells by column name.
fn purchase_row(over: &[(&str, &str)]) -> String {
    let mut cells: Vec<(&str, String)> = vec![
        ("key", "c1".into()),
        ("at", T0.into()),
        ("amount", " 9.99 EUR ".into()),
        ("count", "34.0".into()),
        ("big", "18446744073709551615".into()),
        ("ratio", " 1e-3".into()),
        ("ok", "Yes".into()),
        ("note", "  hello  world ".into()),
        ("blob", "aGVsbG8=".into()),
        ("when", "2026-01-02T03:04:05Z".into()),
        ("wait", "2d".into()),
        ("tz", "UTC".into()),
        ("plan", "Business".into()),
        ("tags", r#""[""a"",""b""]""#.into()),
        ("prices", r#""{""x"": 1}""#.into()),
        ("counts", r#""{""3"": 4}""#.into()),
        (
            "addr",
            r#""{""city"": ""Oulu"", ""zip"": ""90100""}""#.into(),
        ),
        ("extra", "1".into()),
        ("maybe", "".into()),
        ("flags", r#""[true, null]""#.into()),
    ];
    for (name, value) in over {
        let cell = cells.iter_mut().find(|(n, _)| n == name).unwrap();
        cell.1 = value.to_string();
    }
    cells
        .into_iter()
        .map(|(_, v)| v)
        .collect::<Vec<_>>()
        .join(",")
}

fn csv_purchase(rows: &[String]) -> Vec<Result<Event, IngestError>> {
    let text = format!("{PURCHASE_HEADER}\n{}\n", rows.join("\n"));
    csv(&text, purchase_mapping())
}

#[test]
fn csv_every_field_type() {
    let s = schema();
    let items = csv_purchase(&[purchase_row(&[("extra", r#""[1, 2.5]""#)])]);
    assert!(items.len() == 1, "{items:?}");
    let e = items[0].as_ref().unwrap();
    assert_eq!((e.ty, &*e.key, e.at, e.line), (PURCHASE, "c1", ts(T0), 2));
    assert_eq!(e.record.fields.len(), PURCHASE_FIELDS.len());
    let get = |name| slot(e, name, &s);
    assert_eq!(get("amount"), Some(eur("9.99")));
    assert_eq!(get("count"), Some(Value::Int(34)));
    assert_eq!(get("big"), Some(Value::Uint(u64::MAX)));
    assert_eq!(get("ratio"), Some(Value::Double(0.001)));
    assert_eq!(get("ok"), Some(Value::Bool(true)));
    assert_eq!(get("note"), Some(Value::string("hello  world")));
    assert_eq!(get("blob"), Some(Value::Bytes(Arc::from(&b"hello"[..]))));
    assert_eq!(
        get("when"),
        Some(Value::Timestamp(ts("2026-01-02T03:04:05Z")))
    );
    assert_eq!(
        get("wait"),
        Some(Value::Duration(2 * 86_400 * time::NANOS_PER_SECOND))
    );
    assert_eq!(get("tz"), Some(Value::Timezone(Arc::from("UTC"))));
    assert_eq!(
        get("plan"),
        Some(Value::Enum(EnumValue { ty: 0, index: 2 }))
    );
    assert_eq!(
        get("tags"),
        Some(Value::list(vec![Value::string("a"), Value::string("b")]))
    );
    let Some(Value::Map(counts)) = get("counts") else {
        panic!("counts is not a map")
    };
    assert_eq!(counts.entries.get(&MapKey::Int(3)), Some(&Value::Int(4)));
    let Some(Value::Record(addr)) = get("addr") else {
        panic!("addr is not a record")
    };
    assert_eq!(
        addr.fields,
        vec![Some(Value::string("Oulu")), Some(Value::string("90100"))]
    );
    assert_eq!(
        get("extra"),
        Some(Value::list(vec![Value::Int(1), Value::Double(2.5)]))
    );
    assert_eq!(get("maybe"), None);
    assert_eq!(
        get("flags"),
        Some(Value::list(vec![
            Value::Optional(Some(Arc::new(Value::Bool(true)))),
            Value::Optional(None)
        ]))
    );
}

#[test]
fn csv_number_and_bool_spellings() {
    let s = schema();
    let count = |text: &str| {
        let items = csv_purchase(&[purchase_row(&[("count", text), ("extra", "1")])]);
        items[0]
            .as_ref()
            .map(|e| slot(e, "count", &s))
            .map_err(|e| e.message.clone())
    };
    assert_eq!(count("34"), Ok(Some(Value::Int(34))));
    assert_eq!(count("-7.0"), Ok(Some(Value::Int(-7))));
    assert_eq!(count(" 1e2 "), Ok(Some(Value::Int(100))));
    assert_eq!(
        count("2.5"),
        Err("expected a whole number, found `2.5`".into())
    );
    assert_eq!(
        count("abc"),
        Err("expected a whole number, found `abc`".into())
    );
    assert_eq!(
        count("1e30"),
        Err(
            "expected a whole number from -9223372036854775808 to 9223372036854775807, found `1e30`"
                .into()
        )
    );
    let big = |text: &str| {
        let items = csv_purchase(&[purchase_row(&[("big", text), ("extra", "1")])]);
        items[0]
            .as_ref()
            .map(|e| slot(e, "big", &s))
            .map_err(|e| e.message.clone())
    };
    assert_eq!(big("5.0"), Ok(Some(Value::Uint(5))));
    assert_eq!(
        big("-1"),
        Err("expected a non-negative whole number, found `-1`".into())
    );
    let ok = |text: &str| {
        let items = csv_purchase(&[purchase_row(&[("ok", text), ("extra", "1")])]);
        items[0]
            .as_ref()
            .map(|e| slot(e, "ok", &s))
            .map_err(|e| e.message.clone())
    };
    for t in ["true", "TRUE", "yes", "Y", "t", "1", "1.0"] {
        assert_eq!(ok(t), Ok(Some(Value::Bool(true))), "{t}");
    }
    for f in ["False", "no", "N", "f", "0", "0.0"] {
        assert_eq!(ok(f), Ok(Some(Value::Bool(false))), "{f}");
    }
    assert_eq!(
        ok("maybe"),
        Err(
            "expected a boolean such as `true`, `false`, `yes`, `no`, `1`, `0`, found `maybe`"
                .into()
        )
    );
    let ratio = |text: &str| {
        let items = csv_purchase(&[purchase_row(&[("ratio", text), ("extra", "1")])]);
        items[0]
            .as_ref()
            .map(|e| slot(e, "ratio", &s))
            .map_err(|e| e.message.clone())
    };
    assert_eq!(ratio("3"), Ok(Some(Value::Double(3.0))));
    assert_eq!(ratio("x"), Err("expected a number, found `x`".into()));
}

#[test]
fn csv_cell_errors_name_line_and_field() {
    let cases: [(&str, &str, &str); 8] = [
        (
            "amount",
            "9.99",
            "expected an amount with a currency such as `9.99 EUR`, found `9.99`",
        ),
        (
            "plan",
            "gold",
            "expected one of `prepaid`, `postpaid`, `business`, found `gold`",
        ),
        ("tags", "a b", "expected JSON (an array), found `a b`"),
        ("tags", "[1]", "expected a string, found `1`"),
        ("extra", "nope", "expected JSON (a value), found `nope`"),
        (
            "addr",
            r#""{""town"": ""x""}""#,
            "unknown field `town`; the fields of `address` are `city`, `zip`",
        ),
        ("count", "", "missing value for required field `count`"),
        ("maybe", "x", "expected a whole number, found `x`"),
    ];
    for (column, cell, message) in cases {
        let items = csv_purchase(&[
            purchase_row(&[("extra", "1")]),
            purchase_row(&[(column, cell)]),
            purchase_row(&[("extra", "2")]),
        ]);
        assert!(items[0].is_ok() && items[2].is_ok(), "{column}: {items:?}");
        let e = items[1].as_ref().unwrap_err();
        assert_eq!(e.line, 3, "{column}");
        let expected_field = if column == "tags" && cell == "[1]" {
            "tags[0]"
        } else if column == "addr" {
            "addr.town"
        } else {
            column
        };
        assert_eq!(e.field.as_deref(), Some(expected_field), "{column}: {e}");
        assert_eq!(e.message, message, "{column}");
    }
}

#[test]
fn csv_wrong_cell_count_is_a_row_error() {
    let text = "key,page\na,p\nb\nc,p,extra\nd,p\n";
    let items = csv(
        text,
        fixed(
            "click",
            KeySource::Column("key".into()),
            TimeSource::Fixed(5),
        ),
    );
    assert_eq!(items.len(), 4);
    let e = items[1].as_ref().unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (3, None));
    assert_eq!(e.message, "expected 2 cells, found 1");
    assert_eq!(
        items[2].as_ref().unwrap_err().message,
        "expected 2 cells, found 3"
    );
    let last = items[3].as_ref().unwrap();
    assert_eq!((last.line, &*last.key, last.at), (5, "d", 5));
}

#[test]
fn csv_header_errors_are_fatal_and_on_line_1() {
    let time = || TimeSource::Column {
        name: "at".into(),
        format: None,
    };
    let csv_format = Format::Csv { delimiter: b',' };
    let e = header_error(
        "id,at,page\n",
        csv_format,
        fixed("click", KeySource::Column("key".into()), time()),
    );
    assert_eq!((e.line, e.field.as_deref()), (1, Some("key")));
    assert_eq!(e.message, "missing column `key` for the event key");
    let e = header_error(
        "key,time,page\n",
        csv_format,
        fixed("click", KeySource::Column("key".into()), time()),
    );
    assert_eq!(e.message, "missing column `at` for the event time");
    let e = header_error(
        "key,at,page\n",
        csv_format,
        fixed("click", KeySource::Column("keys".into()), time()),
    );
    assert_eq!(
        e.message,
        "missing column `keys` for the event key; did you mean `key`?"
    );
    let m = Mapping {
        type_source: TypeSource::Column("kind".into()),
        key: KeySource::Row,
        time: TimeSource::Fixed(0),
    };
    let e = header_error("type,page\n", csv_format, m);
    assert_eq!((e.line, e.field.as_deref()), (1, Some("kind")));
    assert_eq!(e.message, "missing column `kind` for the event type");
    let e = header_error(
        "key,contract\n",
        csv_format,
        fixed("click", KeySource::Row, TimeSource::Fixed(0)),
    );
    assert_eq!((e.line, e.field.as_deref()), (1, Some("page")));
    assert_eq!(e.message, "missing column for required field `page`");
    let e = header_error(
        "page\n",
        csv_format,
        fixed("clicks", KeySource::Row, TimeSource::Fixed(0)),
    );
    assert_eq!((e.line, e.field.as_deref()), (1, None));
    assert_eq!(
        e.message,
        "unknown event type `clicks`; did you mean `click`?"
    );
    let e = header_error(
        "page,page\n",
        csv_format,
        fixed("click", KeySource::Row, TimeSource::Fixed(0)),
    );
    assert_eq!(e.message, "duplicate column `page`");
    let e = header_error(
        "",
        csv_format,
        fixed("click", KeySource::Row, TimeSource::Fixed(0)),
    );
    assert_eq!(e.message, "the file is empty; expected a header line");
    let e = header_error(
        "\n  \n",
        Format::Whitespace,
        fixed("click", KeySource::Row, TimeSource::Fixed(0)),
    );
    assert_eq!(e.message, "the file is empty; expected a header line");
    let e = header_error(
        "when page\n",
        Format::Whitespace,
        fixed("click", KeySource::Row, time()),
    );
    assert_eq!(e.message, "missing column `at` for the event time");
}

#[test]
fn csv_type_column_checks_required_fields_per_row() {
    let m = Mapping {
        type_source: TypeSource::Column("type".into()),
        key: KeySource::Column("key".into()),
        time: TimeSource::Column {
            name: "at".into(),
            format: None,
        },
    };
    let text = format!(
        "type,key,at,page,plan,junk\nclick,a,{T0},home,,x\ncustomer,b,{T0},,prepaid,x\npurchase,c,{T0},,,x\nclik,d,{T0},p,,x\n,e,{T0},p,,x\nclick,,{T0},p,,x\nclick,f,,p,,x\nclick,g,noon,p,,x\n"
    );
    let mut reader = EventReader::new(
        Cursor::new(text.into_bytes()),
        Format::Csv { delimiter: b',' },
        m,
        schema(),
    )
    .unwrap();
    assert_eq!(reader.ignored_columns(), ["junk".to_string()]);
    let items: Vec<_> = reader.by_ref().collect();
    assert_eq!(items.len(), 8);
    let click = items[0].as_ref().unwrap();
    assert_eq!((click.ty, &*click.key), (CLICK, "a"));
    let customer = items[1].as_ref().unwrap();
    assert_eq!(customer.ty, CUSTOMER);
    assert_eq!(customer.record.fields[0], Some(Value::string("b")));
    let cases = [
        (
            4,
            Some("amount"),
            "missing column for required field `amount`",
        ),
        (
            5,
            Some("type"),
            "unknown event type `clik`; did you mean `click`?",
        ),
        (6, Some("type"), "missing event type"),
        (7, Some("key"), "missing event key"),
        (8, Some("at"), "missing event time"),
        (
            9,
            Some("at"),
            "expected an RFC 3339 timestamp such as `2026-06-01T10:00:00Z`, found `noon`",
        ),
    ];
    for ((line, field, message), item) in cases.into_iter().zip(&items[2..]) {
        let e = item.as_ref().unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref(), e.message.as_str()),
            (line, field, message)
        );
    }
}

#[test]
fn csv_ignored_columns_and_role_columns() {
    let text = "key,at,page,junk,page2\nk,2026-06-01T10:00:00Z,p,x,y\n";
    let reader = EventReader::new(
        Cursor::new(text.as_bytes().to_vec()),
        Format::Csv { delimiter: b',' },
        fixed(
            "click",
            KeySource::Column("key".into()),
            TimeSource::Column {
                name: "at".into(),
                format: None,
            },
        ),
        schema(),
    )
    .unwrap();
    assert_eq!(
        reader.ignored_columns(),
        ["junk".to_string(), "page2".to_string()]
    );
}

#[test]
fn csv_time_formats() {
    let read = |format: &str, cell: &str| {
        let text = format!("page,t\np,{cell}\n");
        let items = csv(
            &text,
            fixed(
                "click",
                KeySource::Row,
                TimeSource::Column {
                    name: "t".into(),
                    format: Some(format.into()),
                },
            ),
        );
        items.into_iter().next().unwrap().map(|e| e.at)
    };
    assert_eq!(
        read("%Y%m%d", "19970101").unwrap(),
        ts("1997-01-01T00:00:00Z")
    );
    assert_eq!(
        read("%Y-%m-%d %H:%M", "2024-07-14 21:14").unwrap(),
        ts("2024-07-14T21:14:00Z")
    );
    assert_eq!(
        read("%Y-%m-%d %H:%M %z", "2024-07-14 21:14 -0400").unwrap(),
        ts("2024-07-15T01:14:00Z")
    );
    assert_eq!(
        read("%Y-%m-%d %H:%M %Q", "2024-07-14 21:14 Europe/Helsinki").unwrap(),
        ts("2024-07-14T18:14:00Z")
    );
    assert_eq!(
        read("%s", "1000000000").unwrap(),
        ts("2001-09-09T01:46:40Z")
    );
    let e = read("%Y%m%d", "1997-01-01").unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (2, Some("t")));
    assert_eq!(
        e.message,
        "expected a time in the format `%Y%m%d`, found `1997-01-01`"
    );
    let e = read("%Y%m%d", "19971301").unwrap_err();
    assert!(
        e.message.starts_with("expected a time in the format"),
        "{e}"
    );
}

#[test]
fn csv_row_keys_count_data_rows_including_bad_ones() {
    let mut text = b"page,contract\n\na,\nb,nonsense\n".to_vec();
    text.extend_from_slice(b"\xff,\nd,one year\n");
    let items = read_all(
        &text,
        Format::Csv { delimiter: b',' },
        fixed("click", KeySource::Row, TimeSource::Fixed(0)),
        schema(),
    );
    assert_eq!(items.len(), 4);
    let first = items[0].as_ref().unwrap();
    assert_eq!((&*first.key, first.line), ("1", 3));
    let bad = items[1].as_ref().unwrap_err();
    assert_eq!((bad.line, bad.field.as_deref()), (4, Some("contract")));
    let utf8 = items[2].as_ref().unwrap_err();
    assert_eq!((utf8.line, utf8.field.as_deref()), (5, Some("page")));
    assert_eq!(utf8.message, "the cell is not valid UTF-8");
    let last = items[3].as_ref().unwrap();
    assert_eq!((&*last.key, last.line), ("4", 6));
    assert_eq!(
        last.record.fields[1],
        Some(Value::Enum(EnumValue { ty: 1, index: 1 }))
    );
}

#[test]
fn csv_crlf_blank_lines_quoted_newlines_and_other_delimiters() {
    let text = "\u{feff}key;page\r\n\r\na;\"two\r\nlines\"\r\n   \r\nb;\"semi;colon\"\r\nc;p";
    let items = read_all(
        text.as_bytes(),
        Format::Csv { delimiter: b';' },
        fixed(
            "click",
            KeySource::Column("key".into()),
            TimeSource::Fixed(0),
        ),
        schema(),
    );
    assert_eq!(items.len(), 3, "{items:?}");
    let s = schema();
    let a = items[0].as_ref().unwrap();
    assert_eq!((&*a.key, a.line), ("a", 3));
    assert_eq!(slot(a, "page", &s), Some(Value::string("two\r\nlines")));
    let b = items[1].as_ref().unwrap();
    assert_eq!((&*b.key, b.line), ("b", 6));
    assert_eq!(slot(b, "page", &s), Some(Value::string("semi;colon")));
    let c = items[2].as_ref().unwrap();
    assert_eq!((&*c.key, c.line), ("c", 7));
}

#[test]
fn csv_profile_key_filled_and_checked() {
    let s = schema();
    let text = "id,plan,age\nc1,prepaid,\n,postpaid,41\n";
    let items = csv(
        text,
        fixed("customer", KeySource::Row, TimeSource::Fixed(0)),
    );
    let e = err(items[0].clone());
    assert_eq!((e.line, e.field.as_deref()), (2, Some("id")));
    assert_eq!(
        e.message,
        "the key field `id` is `c1` but the event's key is `1`"
    );
    let filled = items[1].as_ref().unwrap();
    assert_eq!(slot(filled, "id", &s), Some(Value::string("2")));
    assert_eq!(slot(filled, "age", &s), Some(Value::Int(41)));
    // The key column feeds the key; the key field is then filled from it.
    let items = csv(
        "id,plan\nc9,business\n",
        fixed(
            "customer",
            KeySource::Column("id".into()),
            TimeSource::Fixed(0),
        ),
    );
    let e = items[0].as_ref().unwrap();
    assert_eq!(
        (&*e.key, slot(e, "id", &s)),
        ("c9", Some(Value::string("c9")))
    );
}

#[test]
fn whitespace_format() {
    let text = "\r\n  key \t page  contract\r\n a  home   one_year \r\n\r\n\tb\tx\r\nc p Two-Year\n  d p two_year";
    let mut reader = EventReader::new(
        Cursor::new(text.as_bytes().to_vec()),
        Format::Whitespace,
        fixed(
            "click",
            KeySource::Column("key".into()),
            TimeSource::Fixed(9),
        ),
        schema(),
    )
    .unwrap();
    assert!(reader.ignored_columns().is_empty());
    let items: Vec<_> = reader.by_ref().collect();
    assert_eq!(reader.bytes_read(), text.len() as u64);
    assert_eq!(items.len(), 4);
    let a = items[0].as_ref().unwrap();
    assert_eq!((&*a.key, a.line, a.at), ("a", 3, 9));
    assert_eq!(a.record.fields[0], Some(Value::string("home")));
    let e = items[1].as_ref().unwrap_err();
    assert_eq!(
        (e.line, e.message.as_str()),
        (5, "expected 3 cells, found 2")
    );
    let c = items[2].as_ref().unwrap();
    assert_eq!(
        c.record.fields[1],
        Some(Value::Enum(EnumValue { ty: 1, index: 2 }))
    );
    assert_eq!(items[3].as_ref().unwrap().line, 7);
}

#[test]
fn whitespace_invalid_utf8_line() {
    let text = b"key page\na \xc3\x28\nb p\n";
    let items = read_all(
        text,
        Format::Whitespace,
        fixed(
            "click",
            KeySource::Column("key".into()),
            TimeSource::Fixed(0),
        ),
        schema(),
    );
    assert_eq!(items.len(), 2);
    let e = items[0].as_ref().unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (2, None));
    assert_eq!(e.message, "the line is not valid UTF-8 (at byte 3)");
    assert!(items[1].is_ok());
}

/// Random bytes in every format: errors are fine, panics are not.
#[test]
fn no_input_panics() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b"{}[]\":,01.-e tfnul\n\r\xffabcEUR";
    for round in 0..300 {
        let len = (next() % 120) as usize;
        let mut text: Vec<u8> = if round % 2 == 0 {
            purchase_line("").into_bytes()
        } else {
            b"key,page,contract\n".to_vec()
        };
        for _ in 0..len {
            let pos = (next() as usize) % (text.len() + 1);
            let byte = alphabet[(next() as usize) % alphabet.len()];
            text.insert(pos, byte);
        }
        for format in [
            Format::Ndjson,
            Format::Csv { delimiter: b',' },
            Format::Whitespace,
        ] {
            let mapping = fixed(
                "click",
                KeySource::Column("key".into()),
                TimeSource::Fixed(0),
            );
            if let Ok(reader) =
                EventReader::new(Cursor::new(text.clone()), format, mapping, schema())
            {
                for item in reader {
                    let _ = item;
                }
            }
        }
    }
}

// ---------------------------------------------------------------- real data

#[test]
fn cdnow_master_reads_every_row() {
    let path = "/work/shared/data/cdnow/CDNOW_master.txt";
    let Ok(file) = std::fs::File::open(path) else {
        eprintln!("note: {path} is absent; skipping");
        return;
    };
    let schema = Arc::new(Schema {
        records: vec![record(
            "purchase",
            RecordKind::Event,
            vec![
                field("number_of_cds", Ty::Int),
                field("dollar_value", Ty::Double),
            ],
            None,
        )],
        enums: vec![],
        profile: None,
    });
    let mapping = fixed(
        "purchase",
        KeySource::Column("customer_id".into()),
        TimeSource::Column {
            name: "date".into(),
            format: Some("%Y%m%d".into()),
        },
    );
    let mut reader =
        EventReader::new(BufReader::new(file), Format::Whitespace, mapping, schema).unwrap();
    assert!(reader.ignored_columns().is_empty());
    let mut count = 0;
    let mut first = None;
    for item in reader.by_ref() {
        let event = item.unwrap();
        count += 1;
        if first.is_none() {
            first = Some(event);
        }
    }
    assert_eq!(count, 69_659);
    let first = first.unwrap();
    assert_eq!(&*first.key, "00001");
    assert_eq!(first.at, ts("1997-01-01T00:00:00Z"));
    assert_eq!(first.line, 2);
    assert_eq!(
        first.record.fields,
        vec![Some(Value::Int(1)), Some(Value::Double(11.77))]
    );
    assert_eq!(reader.bytes_read(), std::fs::metadata(path).unwrap().len());
}

#[test]
fn telco_churn_reads_every_row() {
    let path = "/work/shared/data/telco_churn/wa_churn.csv";
    let Ok(file) = std::fs::File::open(path) else {
        eprintln!("note: {path} is absent; skipping");
        return;
    };
    let yes_no_internet = ["yes", "no", "no_internet_service"];
    let enums = vec![
        enum_def(
            "subscriber.multiple_lines",
            &["yes", "no", "no_phone_service"],
        ),
        enum_def("subscriber.internet_service", &["dsl", "fiber_optic", "no"]),
        enum_def("subscriber.online_security", &yes_no_internet),
        enum_def("subscriber.online_backup", &yes_no_internet),
        enum_def("subscriber.device_protection", &yes_no_internet),
        enum_def("subscriber.tech_support", &yes_no_internet),
        enum_def("subscriber.streaming_tv", &yes_no_internet),
        enum_def("subscriber.streaming_movies", &yes_no_internet),
        enum_def(
            "subscriber.contract",
            &["month_to_month", "one_year", "two_year"],
        ),
        enum_def(
            "subscriber.payment_method",
            &[
                "electronic_check",
                "mailed_check",
                "bank_transfer_automatic",
                "credit_card_automatic",
            ],
        ),
    ];
    let fields = vec![
        field("id", Ty::String),
        field("churn", Ty::Bool),
        field("female", Ty::Bool),
        field("senior_citizen", Ty::Bool),
        field("partner", Ty::Bool),
        field("dependents", Ty::Bool),
        field("tenure", Ty::Int),
        field("phone_service", Ty::Bool),
        field("multiple_lines", Ty::Enum(0)),
        field("internet_service", Ty::Enum(1)),
        field("online_security", Ty::Enum(2)),
        field("online_backup", Ty::Enum(3)),
        field("device_protection", Ty::Enum(4)),
        field("tech_support", Ty::Enum(5)),
        field("streaming_tv", Ty::Enum(6)),
        field("streaming_movies", Ty::Enum(7)),
        field("contract", Ty::Enum(8)),
        field("paperless_billing", Ty::Bool),
        field("payment_method", Ty::Enum(9)),
        field("monthly_charges", Ty::Double),
        field("total_charges", Ty::optional(Ty::Double)),
    ];
    let total_slot = fields.len() - 1;
    let schema = Arc::new(Schema {
        records: vec![record("subscriber", RecordKind::Profile, fields, Some(0))],
        enums,
        profile: Some(0),
    });
    let at = ts("2026-01-01T00:00:00Z");
    let mapping = fixed("subscriber", KeySource::Row, TimeSource::Fixed(at));
    let mut reader = EventReader::new(
        BufReader::new(file),
        Format::Csv { delimiter: b',' },
        mapping,
        schema,
    )
    .unwrap();
    assert!(reader.ignored_columns().is_empty());
    let mut count = 0u64;
    let mut absent = 0;
    let mut first = None;
    for item in reader.by_ref() {
        let event = item.unwrap();
        count += 1;
        assert_eq!(&*event.key, count.to_string());
        assert_eq!(event.line, count + 1);
        if event.record.fields[total_slot].is_none() {
            absent += 1;
        }
        if first.is_none() {
            first = Some(event);
        }
    }
    assert_eq!(count, 7_043);
    assert_eq!(absent, 11);
    let first = first.unwrap();
    assert_eq!(first.at, at);
    let f = &first.record.fields;
    assert_eq!(f[0], Some(Value::string("1")));
    assert_eq!(f[1], Some(Value::Bool(false)));
    assert_eq!(f[2], Some(Value::Bool(true)));
    assert_eq!(f[6], Some(Value::Int(1)));
    assert_eq!(f[8], Some(Value::Enum(EnumValue { ty: 0, index: 2 })));
    assert_eq!(f[16], Some(Value::Enum(EnumValue { ty: 8, index: 0 })));
    assert_eq!(f[18], Some(Value::Enum(EnumValue { ty: 9, index: 0 })));
    assert_eq!(f[19], Some(Value::Double(29.85)));
    assert_eq!(reader.bytes_read(), std::fs::metadata(path).unwrap().len());
}
