//! The Common Expression Language specification's conformance suite, read in place from
//! `../shared/conformance/cel/` (skipped, with a message, when this clone has no `../shared`).
//!
//! Every applicable case goes the way a user's expression goes, parse → check (unless the case
//! says `disable_check`) → evaluate, through the compiler's one stand-alone entry point
//! (`Database::check_expression`, which `offer eval` uses too), and its IR through the bundle
//! encoding the runtime reads, which must give it back unchanged. The table per file is written to
//! `docs/CONFORMANCE.md` with every remaining failure and its cause; the run fails when a file
//! passes fewer cases than its floor in `tests/conformance/floor.txt`, and raises the floor
//! when it passes more, so that progress ratchets.
//!
//! Every case that evaluates is also compiled to native code (`offer-jit`) from its unfolded IR;
//! where it compiles, native code must give the interpreter's value, or no value exactly where
//! the interpreter's result is an error. The report counts how many cases native code ran and
//! why the others stayed with the interpreter.
//!
//! Each case runs on its own thread with a time limit and its allocations counted: a case that
//! does not finish in time, or allocates past the limit, fails and the suite goes on.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails loudly"
)]

mod alloc;
mod decode;

use offer_compiler::check::ExprOptions;
use offer_compiler::db::Database;
use offer_compiler::diagnostic::Code;
use offer_compiler::eval::{Bindings, Evaluator};
use offer_compiler::schema::Schema;
use offer_compiler::syntax::parse::parse_expression;
use offer_compiler::types::Ty;
use offer_compiler::value::Value;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Files whose every case needs protobuf messages (the suite's README).
const PROTOBUF_FILES: [&str; 6] = [
    "proto2",
    "proto2_ext",
    "proto3",
    "wrappers",
    "dynamic",
    "enums",
];
/// Text that marks a case as needing protobuf messages.
const PROTOBUF_MARKS: [&str; 2] = ["cel.expr.conformance", "google.protobuf"];
/// The fields whose text decides applicability.
const MARKED_FIELDS: [&str; 6] = [
    "expr",
    "container",
    "type_env",
    "bindings",
    "value",
    "typed_result",
];

/// Failures whose cause is known and outside the expression core, shown beside the failure.
const BYTES_DATA: &str = "the expected bytes hold a backslash before `?` that the expression \
    does not (` ? \" ' ` ` in a triple-quoted bytes literal); the string twin of the case expects \
    none. In the protobuf text format the suite was converted from, `\\?` is an escape of `?`, \
    so the conversion to JSON likely kept its backslash: the data is wrong, not the literal";

/// Failures whose cause is known and outside the expression core, by exact case, shown beside
/// the failure: (file, section/case, cause).
const KNOWN_CAUSES: &[(&str, &str, &str)] = &[
    (
        "parse",
        "bytes_literals/triple_single_quoted_unescaped_punctuation",
        BYTES_DATA,
    ),
    (
        "parse",
        "bytes_literals/triple_double_quoted_unescaped_punctuation",
        BYTES_DATA,
    ),
];

fn known_cause(file: &str, case: &str) -> Option<&'static str> {
    KNOWN_CAUSES
        .iter()
        .find(|(f, name, _)| *f == file && case == *name)
        .map(|(_, _, cause)| *cause)
}

const TIME_LIMIT: Duration = Duration::from_secs(10);
const MEMORY_LIMIT: usize = 256 << 20;
/// Deeply nested expressions must be rejected by the parser's limits, not by the stack.
const CASE_STACK: usize = 8 << 20;

#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Passed(Native),
    Failed(String),
    NotApplicable,
}

/// What native code did with a passing case.
#[derive(Clone, Debug, PartialEq)]
enum Native {
    /// The case has nothing to run (check only, or a checker's rejection it expects).
    NothingToRun,
    /// It did not compile, for this reason.
    NotCompiled(String),
    /// Native code gave the interpreter's value.
    Value,
    /// Native code had no value, and the interpreter's result is an error.
    Error,
}

struct Case {
    file: String,
    section: String,
    json: Json,
}

impl Case {
    fn name(&self) -> String {
        format!(
            "{}/{}",
            self.section,
            self.json.get("name").and_then(Json::as_str).unwrap_or("?")
        )
    }

    fn applicable(&self) -> bool {
        if PROTOBUF_FILES.contains(&self.file.as_str()) {
            return false;
        }
        let marked: String = MARKED_FIELDS
            .iter()
            .filter_map(|f| self.json.get(*f))
            .map(Json::to_string)
            .collect();
        !PROTOBUF_MARKS.iter().any(|m| marked.contains(m))
    }

    fn flag(&self, name: &str) -> bool {
        self.json.get(name).and_then(Json::as_bool).unwrap_or(false)
    }
}

/// One case, start to end. Every way it can go wrong is a failure with its reason.
fn run(case: &Case) -> Outcome {
    match try_run(case) {
        Ok(native) => Outcome::Passed(native),
        Err(reason) => Outcome::Failed(reason),
    }
}

fn try_run(case: &Case) -> Result<Native, String> {
    let json = &case.json;
    let expr = json.get("expr").and_then(Json::as_str).ok_or("no expr")?;
    let dynamic = case.flag("disable_check");
    let mut declared: Vec<(String, Ty)> = Vec::new();
    let mut functions = Vec::new();
    for decl in json
        .get("type_env")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let name = decl
            .get("name")
            .and_then(Json::as_str)
            .ok_or("a declaration without a name")?;
        match (
            decl.get("ident").and_then(|i| i.get("type")),
            decl.get("function"),
        ) {
            (Some(t), _) => declared.push((name.to_string(), decode::ty(t)?)),
            (None, Some(f)) => functions.push(decode::function(name, f)?),
            _ => {
                return Err(format!(
                    "the declaration of `{name}` is neither a name nor a function"
                ));
            }
        }
    }
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    if let Some(Json::Object(bindings)) = json.get("bindings") {
        for (name, b) in bindings {
            let v = b.get("value").ok_or("a binding without a value")?;
            values.insert(name.clone(), decode::value(v)?);
        }
    }
    // A bound name the declarations leave out gets the type of its value.
    for (name, v) in &values {
        if !declared.iter().any(|(n, _)| n == name) {
            declared.push((name.clone(), offer_compiler::value::ops::runtime_type(v)));
        }
    }
    let bindings: Vec<(String, Ty)> = declared
        .iter()
        .map(|(n, t)| (n.clone(), if dynamic { Ty::Dyn } else { t.clone() }))
        .collect();
    let env = Bindings(
        declared
            .iter()
            .map(|(n, _)| {
                values.get(n).cloned().unwrap_or_else(|| {
                    Value::error(offer_compiler::value::EvalError::Unbound(n.clone()))
                })
            })
            .collect(),
    );

    let (parsed, diagnostics) = parse_expression("<case>", expr);
    if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
        return Err(format!("parse error: {}", d.message));
    }
    let parsed = parsed.ok_or("the parser gave no expression")?;
    let options = ExprOptions {
        bindings,
        container: json
            .get("container")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        dynamic,
        no_macros: case.flag("disable_macros"),
        functions,
        no_fold: false,
        records: host_records(),
    };
    let options_again = options.clone();
    let mut db = Database::new();
    let (ir, diagnostics) = db.check_expression("<case>", &parsed, options);
    if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
        // A few cases file a checker's rejection under `eval_error`: their expected message is
        // cel-go's checker wording ("found no matching overload ..."), not an evaluation's.
        if d.code == Code::NoOverload
            && expected_messages(json)
                .iter()
                .any(|m| m.starts_with("found no matching overload"))
        {
            return Ok(Native::NothingToRun);
        }
        return Err(format!("check error: {}", d.message));
    }
    let typed = json.get("typed_result");
    if let Some(t) = typed.and_then(|t| t.get("deduced_type")) {
        let want = decode::ty(t)?;
        if ir.ty != want {
            return Err(format!("deduced type {}, expected {want}", ir.ty));
        }
    }
    // What the runtime runs comes out of a bundle: the IR must survive its encoding whole.
    let encoded = postcard::to_allocvec(&ir).map_err(|e| format!("the IR does not encode: {e}"))?;
    let decoded: offer_compiler::ir::Expr =
        postcard::from_bytes(&encoded).map_err(|e| format!("the IR does not decode: {e}"))?;
    if decoded != ir {
        return Err("the IR changed through the bundle encoding".into());
    }
    if case.flag("check_only") {
        return Ok(Native::NothingToRun);
    }
    let schema = options_again.schema();
    let result = Evaluator::new(&schema).eval(&ir, &env);
    // The same case unfolded: the folder's results must be the interpreter's.
    let (unfolded, _) = db.check_expression(
        "<case>",
        &parsed,
        ExprOptions {
            no_fold: true,
            ..options_again
        },
    );
    let interpreted = Evaluator::new(&schema).eval(&unfolded, &env);
    if !same_outcome(&result, &interpreted) {
        return Err(format!(
            "folded it gives {result}, evaluated unfolded {interpreted}"
        ));
    }
    let native = native(&unfolded, &env, &interpreted, &schema)?;
    let expects_error = json.get("eval_error").is_some() || json.get("any_eval_errors").is_some();
    if expects_error {
        return match result {
            Value::Error(_) => Ok(native),
            other => Err(format!("gave {other}, expected an error")),
        };
    }
    let want = match json
        .get("value")
        .or_else(|| typed.and_then(|t| t.get("result")))
    {
        Some(v) => decode::value(v)?,
        None => Value::Bool(true),
    };
    if decode::same(&want, &result) {
        Ok(native)
    } else {
        Err(format!("gave {result}, expected {want}"))
    }
}

/// The case through native code, against what the interpreter gave on the same IR.
fn native(
    ir: &offer_compiler::ir::Expr,
    env: &Bindings,
    interpreted: &Value,
    schema: &Schema,
) -> Result<Native, String> {
    let mut jit = offer_jit::Jit::new().map_err(|e| e.to_string())?;
    if let Err(why) = jit.compile(ir) {
        return Ok(Native::NotCompiled(why.0));
    }
    let compiled = jit.finish().map_err(|e| e.to_string())?;
    let code = compiled.exprs.first().ok_or("the JIT gave nothing back")?;
    match (code.run(&Evaluator::new(schema), env), interpreted) {
        (Some(v), i) if decode::same(&v, i) => Ok(Native::Value),
        (None, Value::Error(_)) => Ok(Native::Error),
        (Some(v), i) => Err(format!("native code gives {v}, the interpreter {i}")),
        (None, i) => Err(format!("native code gives no value, the interpreter {i}")),
    }
}

/// The record types the runner declares, as a host embedding CEL declares its messages: the
/// suite's `TestAllTypes` with its scalar fields. Cases that need protobuf messages are still
/// not applicable (field defaults, nested messages, wrappers and `Any` are protobuf's); these
/// let the applicable cases that build one with blanks or comments inside its name run.
fn host_records() -> Vec<(String, Vec<(String, Ty)>)> {
    let fields = [
        ("single_int32", Ty::Int),
        ("single_int64", Ty::Int),
        ("single_sint32", Ty::Int),
        ("single_sint64", Ty::Int),
        ("single_sfixed32", Ty::Int),
        ("single_sfixed64", Ty::Int),
        ("single_uint32", Ty::Uint),
        ("single_uint64", Ty::Uint),
        ("single_fixed32", Ty::Uint),
        ("single_fixed64", Ty::Uint),
        ("single_float", Ty::Double),
        ("single_double", Ty::Double),
        ("single_bool", Ty::Bool),
        ("single_string", Ty::String),
        ("single_bytes", Ty::Bytes),
    ];
    vec![(
        "cel.expr.conformance.proto3.TestAllTypes".to_string(),
        fields
            .iter()
            .map(|(name, ty)| (name.to_string(), ty.clone()))
            .collect(),
    )]
}

/// Equal results, or both errors (whose messages may differ in what they name).
fn same_outcome(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Error(_), Value::Error(_)) => true,
        _ => decode::same(a, b),
    }
}

/// The messages of an `eval_error`, which are informative except where they say which stage
/// fails.
fn expected_messages(json: &Json) -> Vec<&str> {
    json.get("eval_error")
        .and_then(|e| e.get("errors"))
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("message").and_then(Json::as_str))
        .collect()
}

/// What one case cost: its allocation peak and its time.
#[derive(Clone, Copy, Default)]
struct Cost {
    peak: usize,
    elapsed: Duration,
}

/// Runs `case` on its own thread, within the time and memory limits.
fn run_bounded(case: Case) -> (Outcome, Option<Cost>) {
    let (send, receive) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .stack_size(CASE_STACK)
        .spawn(move || {
            let start = Instant::now();
            alloc::reset_peak();
            let outcome = run(&case);
            let cost = Cost {
                peak: alloc::peak(),
                elapsed: start.elapsed(),
            };
            let outcome = if cost.peak > MEMORY_LIMIT {
                Outcome::Failed(format!("allocated {} MiB, past the limit", cost.peak >> 20))
            } else {
                outcome
            };
            let _ = send.send((outcome, cost));
        })
        .expect("spawn a case thread");
    match receive.recv_timeout(TIME_LIMIT) {
        Ok((outcome, cost)) => {
            let _ = worker.join();
            (outcome, Some(cost))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => (Outcome::Failed("panicked".into()), None),
        // The thread is left to finish on its own; the suite goes on.
        Err(mpsc::RecvTimeoutError::Timeout) => (
            Outcome::Failed(format!("did not finish in {} s", TIME_LIMIT.as_secs())),
            None,
        ),
    }
}

#[derive(Default)]
struct Tally {
    passed: usize,
    /// Passing cases that native code ran: to a value, to an error.
    native_values: usize,
    native_errors: usize,
    /// Passing cases with something to run that did not compile.
    not_compiled: usize,
    failed: Vec<(String, String)>,
    not_applicable: usize,
}

fn main() {
    let Some(shared) = offer_tests::shared_dir() else {
        println!("conformance: ../shared is absent beside this clone; the CEL suite is skipped");
        return;
    };
    let dir = shared.join("conformance/cel");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("read the conformance folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();

    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut why_not_compiled: BTreeMap<String, usize> = BTreeMap::new();
    let mut heaviest = (String::new(), Cost::default());
    let mut slowest = (String::new(), Cost::default());
    for path in &paths {
        let file = path.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).expect("read a conformance file");
        let doc: Json = serde_json::from_str(&text).expect("a conformance file is JSON");
        let tally = tallies.entry(file.clone()).or_default();
        for section in doc
            .get("section")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let section_name = section.get("name").and_then(Json::as_str).unwrap_or("?");
            for test in section
                .get("test")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let case = Case {
                    file: file.clone(),
                    section: section_name.to_string(),
                    json: test.clone(),
                };
                let name = case.name();
                let outcome = if case.applicable() {
                    let (outcome, cost) = run_bounded(case);
                    let cost = cost.unwrap_or_default();
                    if cost.peak > heaviest.1.peak {
                        heaviest = (format!("{file}/{name}"), cost);
                    }
                    if cost.elapsed > slowest.1.elapsed {
                        slowest = (format!("{file}/{name}"), cost);
                    }
                    outcome
                } else {
                    Outcome::NotApplicable
                };
                match outcome {
                    Outcome::Passed(native) => {
                        tally.passed += 1;
                        match native {
                            Native::NothingToRun => {}
                            Native::Value => tally.native_values += 1,
                            Native::Error => tally.native_errors += 1,
                            Native::NotCompiled(why) => {
                                tally.not_compiled += 1;
                                *why_not_compiled.entry(why).or_insert(0usize) += 1;
                            }
                        }
                    }
                    Outcome::NotApplicable => tally.not_applicable += 1,
                    Outcome::Failed(reason) => {
                        let reason = match known_cause(&file, &name) {
                            Some(cause) => format!("{reason} (cause: {cause})"),
                            None => reason,
                        };
                        tally.failed.push((name, reason));
                    }
                }
            }
        }
    }

    let report = render(&tallies, &why_not_compiled);
    let summary = report.split("\n## ").next().unwrap_or_default();
    println!("{summary}\nEvery failure and its cause: docs/CONFORMANCE.md");
    println!(
        "largest allocation peak: {} KiB ({}); slowest case: {:.1} ms ({})",
        heaviest.1.peak >> 10,
        heaviest.0,
        slowest.1.elapsed.as_secs_f64() * 1e3,
        slowest.0
    );
    let floor_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/floor.txt");
    let floors = read_floors(&floor_path);
    let mut fell = Vec::new();
    // A file that has a floor must still be there: a suite that lost files is no better.
    for (file, floor) in &floors {
        if !tallies.contains_key(file) {
            fell.push(format!("{file}: the file is missing, the floor is {floor}"));
        }
    }
    for (file, tally) in &tallies {
        let floor = floors.get(file).copied().unwrap_or(0);
        if tally.passed < floor {
            fell.push(format!(
                "{file}: {} passed, the floor is {floor}",
                tally.passed
            ));
        }
    }
    if fell.is_empty() {
        let raised: String = tallies
            .iter()
            .map(|(f, t)| {
                format!(
                    "{f} {}\n",
                    t.passed.max(floors.get(f).copied().unwrap_or(0))
                )
            })
            .collect();
        write_if_changed(&floor_path, &raised);
        // The report is rewritten only by a run that holds its floors.
        write_if_changed(
            &offer_tests::repo_root().join("docs/CONFORMANCE.md"),
            &report,
        );
    } else {
        eprintln!("conformance fell below its floor:\n  {}", fell.join("\n  "));
        std::process::exit(1);
    }
}

fn read_floors(path: &Path) -> BTreeMap<String, usize> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (file, n) = l.split_once(' ')?;
            Some((file.to_string(), n.trim().parse().ok()?))
        })
        .collect()
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create the folder");
        }
        std::fs::write(path, text).expect("write the report");
    }
}

fn render(tallies: &BTreeMap<String, Tally>, why_not_compiled: &BTreeMap<String, usize>) -> String {
    let mut out = String::new();
    let total = |f: fn(&Tally) -> usize| tallies.values().map(f).sum::<usize>();
    let (passed, failed, na) = (
        total(|t| t.passed),
        total(|t| t.failed.len()),
        total(|t| t.not_applicable),
    );
    let _ = writeln!(out, "# CEL conformance\n");
    let _ = writeln!(
        out,
        "The cases of the CEL specification's `simple` suite (`../shared/conformance/cel/`), run \
         by `cargo test -p offer-tests --test conformance` through parse, check (unless a case \
         disables it) and evaluation. This file is written by that test; do not edit it.\n"
    );
    let _ = writeln!(
        out,
        "**{passed} of {} applicable cases pass** ({failed} fail); {na} cases need protobuf \
         messages and are not applicable.\n",
        passed + failed
    );
    let (values, errors, not_compiled) = (
        total(|t| t.native_values),
        total(|t| t.native_errors),
        total(|t| t.not_compiled),
    );
    let _ = writeln!(
        out,
        "Native code (the JIT, compiling each case's unfolded IR) ran **{}** of the passing cases \
         that evaluate, giving the interpreter's value in {values} and handing an error back to \
         it in {errors}; {not_compiled} did not compile and ran in the interpreter only.\n",
        values + errors
    );
    let _ = writeln!(
        out,
        "| file | passed | failed | not applicable | native: value | native: error | not compiled |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (file, t) in tallies {
        let _ = writeln!(
            out,
            "| {file} | {} | {} | {} | {} | {} | {} |",
            t.passed,
            t.failed.len(),
            t.not_applicable,
            t.native_values,
            t.native_errors,
            t.not_compiled
        );
    }
    let _ = writeln!(
        out,
        "| **total** | **{passed}** | **{failed}** | **{na}** | **{values}** | **{errors}** | **{not_compiled}** |"
    );
    let _ = writeln!(out, "\n## Why cases did not compile to native code\n");
    let mut reasons: Vec<_> = why_not_compiled.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (why, n) in reasons {
        let _ = writeln!(out, "- {n}: {why}");
    }
    if failed > 0 {
        let _ = writeln!(out, "\n## Remaining failures\n");
        for (file, t) in tallies.iter().filter(|(_, t)| !t.failed.is_empty()) {
            let _ = writeln!(out, "### {file}\n");
            for (name, reason) in &t.failed {
                let reason = reason.replace('\n', " ").replace('|', "\\|");
                let _ = writeln!(out, "- `{name}`: {reason}");
            }
            let _ = writeln!(out);
        }
    }
    out
}
