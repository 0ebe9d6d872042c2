//! Drives the real `offer` binary like a user: check, compile, run and eval, their exit codes,
//! what goes to standard output and what to standard error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A program whose one rule misspells `data_left_mb`. The line with the mistake has characters
/// of several bytes before it, so that a column counted in bytes would differ from one counted
/// in characters.
const MISSPELT: &str = r#"// A subscriber's data: où est la faute ? ☕
schema {
  profile subscriber key id {
    id: string
    plan: enum { prepaid, postpaid, business }
    data_left_mb: int
  }
  event topup { amount: money, channel: string }
}
offer Boost { title: "1 GB", channels: [sms] }
rule low_data {
  when topup
  and /* déjà vu ☕ */ subscriber.data_left_md < 500
  then recommend Boost
}
"#;

/// A program that checks, with history, another event type and profile-based eligibility.
const GOOD: &str = r#"schema {
  profile customer key id { id: string, tier: enum { basic, premium }, nickname: optional<string> }
  event purchase { amount: double }
  event visit { page: string }
}
offer WelcomeBack { title: "welcome back", channels: [email], eligible: customer.tier == basic }
offer Upsell { title: "upsell", channels: [app], eligible: has(customer.nickname) }
rule comeback {
  when purchase
  and seen(purchase) && since(purchase) >= 30d
  and last(purchase).amount < amount
  then recommend WelcomeBack
}
rule browsing_after_big_purchase {
  when visit where page.startsWith("/shop")
  and purchase.amount > 100.0
  then recommend Upsell
}
"#;

/// Events for [`GOOD`] that make two decisions.
const EVENTS: &str = r#"{"type": "customer", "key": "a", "at": "2026-01-01T00:00:00Z", "tier": "basic"}
{"type": "customer", "key": "b", "at": "2026-01-01T00:00:00Z", "tier": "premium", "nickname": "bee"}
{"type": "purchase", "key": "a", "at": "2026-01-02T00:00:00Z", "amount": 20.0}
{"type": "purchase", "key": "a", "at": "2026-02-15T00:00:00Z", "amount": 50.0}
{"type": "purchase", "key": "b", "at": "2026-01-02T00:00:00Z", "amount": 200.0}
{"type": "purchase", "key": "b", "at": "2026-03-15T00:00:00Z", "amount": 300.0}
{"type": "visit", "key": "b", "at": "2026-03-16T00:00:00Z", "page": "/shop/tv"}
{"type": "visit", "key": "a", "at": "2026-03-16T00:00:00Z", "page": "/shop/tv"}
"#;

/// Where the bundle's payload starts: magic, version, length, hash.
const HEADER_LEN: usize = 8 + 4 + 8 + 32;

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn offer<I, S>(dir: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_offer"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// `offer ARGS` in `dir` with `input` on its standard input.
fn offer_with_stdin(dir: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_offer"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("the process exited")
}

/// Asserts the exit code, showing both streams when it is not the expected one.
fn assert_code(o: &Output, expected: i32) {
    assert_eq!(
        code(o),
        expected,
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// 1-based line and column (in characters) of the first `needle` in `text`.
fn line_col(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).unwrap();
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

/// The NDJSON lines of a decision stream, each checked to be a JSON object.
fn decisions(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not an NDJSON decision: {line:?}: {e}"));
            assert!(v.is_object(), "{line}");
            line.to_string()
        })
        .collect()
}

/// The count on the summary line that starts with `label` (`events`, `decisions`, `errors`).
fn summary_count(summary: &str, label: &str) -> u64 {
    let line = summary
        .lines()
        .find(|l| l.split_whitespace().next() == Some(label))
        .unwrap_or_else(|| panic!("no `{label}` line in the summary:\n{summary}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

// ------------------------------------------------------------------------------------ check

#[test]
fn check_reports_a_misspelt_field_with_its_position_and_a_suggestion() {
    let dir = scratch("check_misspelt");
    write(&dir, "misspelt.offer", MISSPELT);
    let o = offer(&dir, ["check", "misspelt.offer"]);
    assert_code(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("offer::check::unknown_field"), "{err}");
    let (line, column) = line_col(MISSPELT, "data_left_md");
    let header = format!("[misspelt.offer:{line}:{column}]");
    assert!(err.contains(&header), "expected `{header}` in:\n{err}");
    assert!(err.contains("did you mean `data_left_mb`?"), "{err}");
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
}

#[test]
fn check_accepts_a_good_program() {
    let dir = scratch("check_good");
    write(&dir, "good.offer", GOOD);
    let o = offer(&dir, ["check", "good.offer"]);
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(out.starts_with("ok:"), "{out}");
    assert!(out.contains("good.offer"), "{out}");
    assert!(out.contains("2 rules"), "{out}");
}

#[test]
fn check_and_compile_refuse_a_syntax_error() {
    let dir = scratch("check_syntax");
    let text = GOOD.replace(
        "offer Upsell { title: \"upsell\",",
        "offer Upsell { title: ,",
    );
    assert_ne!(text, GOOD);
    write(&dir, "broken.offer", &text);
    let o = offer(&dir, ["check", "broken.offer"]);
    assert_code(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("offer::parse::syntax"), "{err}");
    let (line, column) = line_col(&text, ", channels: [app]");
    assert!(
        err.contains(&format!("[broken.offer:{line}:{column}]")),
        "{err}"
    );
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));

    let o = offer(&dir, ["compile", "broken.offer"]);
    assert_code(&o, 1);
    assert!(!dir.join("broken.bundle").exists());
}

#[test]
fn check_of_a_missing_file_names_the_file() {
    let dir = scratch("check_missing");
    let o = offer(&dir, ["check", "no_such_program.offer"]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("no_such_program.offer"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = scratch("usage");
    write(&dir, "good.offer", GOOD);
    for args in [
        vec!["frobnicate"],
        vec![],
        vec!["check"],
        vec!["compile"],
        vec!["eval"],
        vec!["run"],
        vec!["run", "good.offer"],
        vec!["check", "good.offer", "--no-such-flag"],
    ] {
        let o = offer(&dir, &args);
        assert_eq!(code(&o), 2, "offer {args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "offer {args:?} says why");
    }
}

// ---------------------------------------------------------------------------------- compile

/// The hex of the bundle's payload hash, as `compile` prints its start.
fn header_hash(bytes: &[u8]) -> String {
    bytes[20..HEADER_LEN]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn compile_writes_a_bundle_beside_the_file_and_prints_its_hash() {
    let dir = scratch("compile_default");
    write(&dir, "good.offer", GOOD);
    let o = offer(&dir, ["compile", "good.offer"]);
    assert_code(&o, 0);
    let bytes = std::fs::read(dir.join("good.bundle")).unwrap();
    assert_eq!(&bytes[..8], b"OFFERBND");
    let out = stdout(&o);
    let hash = header_hash(&bytes);
    assert!(out.contains("good.bundle"), "{out}");
    assert!(
        out.contains(&format!("content hash {}", &hash[..16])),
        "{out}"
    );
    assert!(out.contains(&format!("{} bytes", bytes.len())), "{out}");
    assert!(!dir.join("good.bundle.partial").exists());

    // The same program compiles to the same bytes.
    let o = offer(&dir, ["compile", "good.offer", "-o", "again.bundle"]);
    assert_code(&o, 0);
    assert_eq!(std::fs::read(dir.join("again.bundle")).unwrap(), bytes);
}

#[test]
fn compile_writes_where_o_says() {
    let dir = scratch("compile_output");
    write(&dir, "good.offer", GOOD);
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let o = offer(&dir, ["compile", "good.offer", "-o", "out/program.bundle"]);
    assert_code(&o, 0);
    assert!(dir.join("out/program.bundle").is_file());
    assert!(!dir.join("good.bundle").exists());
    assert!(stdout(&o).contains("program.bundle"), "{}", stdout(&o));

    let o = offer(&dir, ["compile", "good.offer", "--output", "long.bundle"]);
    assert_code(&o, 0);
    assert!(dir.join("long.bundle").is_file());
}

#[test]
fn compile_with_errors_writes_no_bundle() {
    let dir = scratch("compile_errors");
    write(&dir, "misspelt.offer", MISSPELT);
    let o = offer(&dir, ["compile", "misspelt.offer"]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("offer::check::unknown_field"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("no bundle written"), "{}", stderr(&o));
    let o = offer(&dir, ["compile", "misspelt.offer", "-o", "x.bundle"]);
    assert_code(&o, 1);
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        left,
        vec!["misspelt.offer".to_string()],
        "nothing else written"
    );
}

#[test]
fn compile_of_a_missing_file_names_the_file() {
    let dir = scratch("compile_missing");
    let o = offer(&dir, ["compile", "absent.offer"]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("absent.offer"), "{}", stderr(&o));
    assert!(!dir.join("absent.bundle").exists());
}

// -------------------------------------------------------------------------------------- run

/// A directory holding `good.offer`, its bundle `good.bundle` and `events.ndjson`.
fn run_setup(name: &str) -> PathBuf {
    let dir = scratch(name);
    write(&dir, "good.offer", GOOD);
    write(&dir, "events.ndjson", EVENTS);
    assert_code(&offer(&dir, ["compile", "good.offer"]), 0);
    dir
}

#[test]
fn run_gives_the_same_decisions_from_the_bundle_and_the_source() {
    let dir = run_setup("run_same");
    let from_source = offer(
        &dir,
        ["run", "good.offer", "events.ndjson", "--no-progress"],
    );
    assert_code(&from_source, 0);
    let from_bundle = offer(
        &dir,
        ["run", "good.bundle", "events.ndjson", "--no-progress"],
    );
    assert_code(&from_bundle, 0);
    let a = decisions(&stdout(&from_source));
    let b = decisions(&stdout(&from_bundle));
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!(a, b);
    let first: serde_json::Value = serde_json::from_str(&a[0]).unwrap();
    assert_eq!(first["offer"], "WelcomeBack");
    assert_eq!(first["key"], "a");
    assert_eq!(first["channel"], "email");
}

#[test]
fn run_without_out_sends_decisions_to_stdout_and_the_summary_to_stderr() {
    let dir = run_setup("run_streams");
    // Without `--no-progress` too: a progress bar must not reach standard output.
    for extra in [&["--no-progress"][..], &[][..]] {
        let mut args = vec!["run", "good.bundle", "events.ndjson"];
        args.extend_from_slice(extra);
        let o = offer(&dir, &args);
        assert_code(&o, 0);
        let out = stdout(&o);
        assert_eq!(decisions(&out).len(), 2, "stdout is pure NDJSON: {out}");
        let err = stderr(&o);
        assert_eq!(summary_count(&err, "events"), 8, "{err}");
        assert_eq!(summary_count(&err, "decisions"), 2, "{err}");
        assert_eq!(summary_count(&err, "errors"), 0, "{err}");
    }
}

#[test]
fn run_with_out_writes_decisions_to_the_file_and_the_summary_to_stdout() {
    let dir = run_setup("run_out");
    let plain = offer(
        &dir,
        ["run", "good.bundle", "events.ndjson", "--no-progress"],
    );
    assert_code(&plain, 0);
    let o = offer(
        &dir,
        [
            "run",
            "good.bundle",
            "events.ndjson",
            "--no-progress",
            "--out",
            "decisions.ndjson",
        ],
    );
    assert_code(&o, 0);
    let file = std::fs::read_to_string(dir.join("decisions.ndjson")).unwrap();
    assert_eq!(decisions(&file), decisions(&stdout(&plain)));
    let out = stdout(&o);
    assert_eq!(summary_count(&out, "events"), 8, "{out}");
    assert_eq!(summary_count(&out, "decisions"), 2, "{out}");
    assert!(out.contains("decisions.ndjson"), "{out}");
    assert!(!stderr(&o).contains("decisions  "), "{}", stderr(&o));
}

/// Runs `good.bundle` after `damage` rewrote it; returns standard error.
fn run_damaged(dir: &Path, damage: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut bytes = std::fs::read(dir.join("good.bundle")).unwrap();
    damage(&mut bytes);
    std::fs::write(dir.join("damaged.bundle"), &bytes).unwrap();
    let o = offer(
        dir,
        ["run", "damaged.bundle", "events.ndjson", "--no-progress"],
    );
    assert_code(&o, 1);
    assert!(stdout(&o).is_empty(), "no decision from a refused bundle");
    stderr(&o)
}

#[test]
fn run_refuses_a_damaged_bundle() {
    let dir = run_setup("run_damaged");
    let len = std::fs::read(dir.join("good.bundle")).unwrap().len();
    assert!(len > HEADER_LEN + 16);

    for at in [HEADER_LEN, HEADER_LEN + 7, (HEADER_LEN + len) / 2, len - 1] {
        let err = run_damaged(&dir, |b| b[at] ^= 0x01);
        assert!(err.contains("damaged"), "flip at {at}: {err}");
        assert!(err.contains("damaged.bundle"), "{err}");
    }
    for keep in [len - 1, HEADER_LEN + 1, HEADER_LEN, 30, 10] {
        let err = run_damaged(&dir, |b| b.truncate(keep));
        assert!(err.contains("damaged"), "truncated to {keep}: {err}");
    }
    let err = run_damaged(&dir, |b| b[8..12].copy_from_slice(&7u32.to_le_bytes()));
    assert!(err.contains("version"), "{err}");
    assert!(err.contains('7'), "{err}");
    let err = run_damaged(&dir, |b| b[0] = b'X');
    assert!(err.contains("not an Offer bundle"), "{err}");
}

/// Events with two bad lines (2: not JSON, 4: a field of the wrong type) among good ones.
const MIXED: &str = r#"{"type": "customer", "key": "a", "at": "2026-01-01T00:00:00Z", "tier": "basic"}
{"type": "purchase", "key": "a", "at": "2026-01-02T00:00:00Z", "amount": 20.0
{"type": "purchase", "key": "a", "at": "2026-01-02T00:00:00Z", "amount": 20.0}
{"type": "purchase", "key": "a", "at": "2026-02-15T00:00:00Z", "amount": "fifty"}
{"type": "purchase", "key": "a", "at": "2026-02-16T00:00:00Z", "amount": 50.0}
"#;

#[test]
fn run_reports_bad_lines_and_goes_on() {
    let dir = run_setup("run_bad_lines");
    write(&dir, "mixed.ndjson", MIXED);
    let o = offer(
        &dir,
        ["run", "good.bundle", "mixed.ndjson", "--no-progress"],
    );
    assert_code(&o, 0);
    let err = stderr(&o);
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("amount"), "the bad field is named: {err}");
    assert!(err.contains("mixed.ndjson"), "{err}");
    assert!(err.contains("rejected lines 2"), "{err}");
    assert_eq!(summary_count(&err, "events"), 3, "{err}");
    assert!(summary_count(&err, "errors") >= 2, "{err}");
    // The good lines after the bad ones still count: a comeback after 30 days.
    let out = decisions(&stdout(&o));
    assert_eq!(out.len(), 1, "{out:?}");
}

#[test]
fn run_strict_stops_at_the_first_bad_line() {
    let dir = run_setup("run_strict");
    write(&dir, "mixed.ndjson", MIXED);
    let o = offer(
        &dir,
        [
            "run",
            "good.bundle",
            "mixed.ndjson",
            "--no-progress",
            "--strict",
        ],
    );
    assert_code(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("--strict"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert!(
        !err.contains("line 4"),
        "nothing after the first bad line: {err}"
    );
    assert_eq!(summary_count(&err, "events"), 1, "{err}");
    assert!(decisions(&stdout(&o)).is_empty());
}

#[test]
fn run_of_a_csv_without_a_key_column_is_a_usage_error() {
    let dir = run_setup("run_csv");
    write(
        &dir,
        "purchases.csv",
        "customer,at,amount\na,2026-01-02T00:00:00Z,20.0\n",
    );
    let o = offer(
        &dir,
        [
            "run",
            "good.bundle",
            "purchases.csv",
            "--type",
            "purchase",
            "--time-column",
            "at",
            "--no-progress",
        ],
    );
    assert_code(&o, 2);
    assert!(stderr(&o).contains("--key-column"), "{}", stderr(&o));

    // With the flag the same file runs.
    let o = offer(
        &dir,
        [
            "run",
            "good.bundle",
            "purchases.csv",
            "--type",
            "purchase",
            "--time-column",
            "at",
            "--key-column",
            "customer",
            "--no-progress",
        ],
    );
    assert_code(&o, 0);
    assert_eq!(summary_count(&stderr(&o), "events"), 1, "{}", stderr(&o));
}

#[test]
fn run_of_a_program_with_errors_fails_before_reading_events() {
    let dir = run_setup("run_program_errors");
    write(&dir, "misspelt.offer", MISSPELT);
    let o = offer(
        &dir,
        ["run", "misspelt.offer", "events.ndjson", "--no-progress"],
    );
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("offer::check::unknown_field"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());
    let o = offer(
        &dir,
        ["run", "good.bundle", "absent.ndjson", "--no-progress"],
    );
    assert_code(&o, 1);
    assert!(stderr(&o).contains("absent.ndjson"), "{}", stderr(&o));
}

// ------------------------------------------------------------------------------------- eval

fn eval(args: &[&str]) -> Output {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let mut all = vec!["eval"];
    all.extend_from_slice(args);
    offer(dir, &all)
}

#[test]
fn eval_prints_value_and_type() {
    let o = eval(&["1 + 2"]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "3 (int)\n");

    let o = eval(&["x * 2", "--bindings", r#"{"x": 21}"#]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "42 (int)\n");
}

#[test]
fn eval_takes_deep_but_allowed_expressions() {
    // Each `?` of the expression once counted as a level of nesting.
    let list = format!("[{}].size()", vec!["true ? 1 : 0"; 120].join(", "));
    let o = eval(&[&list]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "120 (int)\n");
    let parens = format!("{}1 + 2{}", "(".repeat(90), ")".repeat(90));
    let o = eval(&[&parens]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "3 (int)\n");
    let too_deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
    let o = eval(&[&too_deep]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("offer::parse::too_deep"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn eval_reports_overflow() {
    let o = eval(&["9223372036854775807 + 1"]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("integer overflow"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

#[test]
fn eval_renders_a_type_error() {
    let o = eval(&[r#"1 + "a""#]);
    assert_code(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("offer::check::no_overload"), "{err}");
    assert!(err.contains("<expression>:1:1"), "{err}");
    assert!(
        err.contains(r#"1 + "a""#),
        "the source line is shown: {err}"
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn eval_refuses_bad_bindings() {
    for bindings in [r#"{"x": "#, "[1, 2]", "42", ""] {
        let o = eval(&["x", "--bindings", bindings]);
        assert_code(&o, 1);
        assert!(
            stderr(&o).contains("--bindings"),
            "{bindings}: {}",
            stderr(&o)
        );
    }
}

// ------------------------------------------------------------------ found by a fresh-clone review

#[test]
fn run_of_a_directory_fails_instead_of_counting_a_bad_line() {
    let dir = run_setup("run_directory");
    std::fs::create_dir_all(dir.join("not_a_file")).unwrap();
    let o = offer(
        &dir,
        ["run", "good.offer", "not_a_file", "--format", "ndjson"],
    );
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("cannot read `not_a_file`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn run_fails_when_no_line_is_an_event() {
    let dir = run_setup("run_nothing_read");
    write(&dir, "junk.ndjson", "not json\n{\"type\": \"nope\"}\n");
    let o = offer(&dir, ["run", "good.offer", "junk.ndjson"]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("no line of the input could be read as an event"));
}

#[test]
fn run_reads_standard_input() {
    let dir = run_setup("run_stdin");
    let o = offer_with_stdin(&dir, &["run", "good.offer", "-"], EVENTS);
    assert_code(&o, 0);
    assert_eq!(decisions(&stdout(&o)).len(), 2);
}

#[test]
fn table_flags_on_ndjson_are_a_usage_error() {
    let dir = run_setup("run_ndjson_flags");
    let o = offer(
        &dir,
        ["run", "good.offer", "events.ndjson", "--type", "visit"],
    );
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("--type maps the columns of a table"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_tab_delimiter_may_be_written_as_backslash_t() {
    let dir = run_setup("run_tab");
    write(
        &dir,
        "visits.txt",
        "key\tpage\tat\nb\t/shop\t2026-03-16T00:00:00Z\n",
    );
    let args = [
        "run",
        "good.offer",
        "visits.txt",
        "--format",
        "csv",
        "--delimiter",
        "\\t",
    ];
    let o = offer(
        &dir,
        args.iter().copied().chain([
            "--type",
            "visit",
            "--key-column",
            "key",
            "--time-column",
            "at",
        ]),
    );
    assert_code(&o, 0);
    assert!(summary_count(&stderr(&o), "events") == 1, "{}", stderr(&o));
}

#[test]
fn a_bundle_is_known_by_its_content() {
    let dir = run_setup("bundle_by_content");
    std::fs::copy(dir.join("good.bundle"), dir.join("compiled.bin")).unwrap();
    let o = offer(&dir, ["run", "compiled.bin", "events.ndjson"]);
    assert_code(&o, 0);
    assert_eq!(decisions(&stdout(&o)).len(), 2);
    let o = offer(&dir, ["check", "good.bundle"]);
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("is a compiled bundle"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn strict_says_its_error_once_and_then_stops() {
    let dir = run_setup("strict_once");
    write(
        &dir,
        "bad.ndjson",
        "{\"type\": \"visit\", \"key\": \"a\", \"at\": \"2026-01-01T00:00:00Z\", \"page\": 7}\n",
    );
    let o = offer(&dir, ["run", "good.offer", "bad.ndjson", "--strict"]);
    assert_code(&o, 1);
    let err = stderr(&o);
    // Once as it happens, once among the summary's first errors; not a third time at the end.
    assert_eq!(err.matches("expected a string").count(), 2, "{err}");
}

#[test]
fn eval_reads_the_expression_from_standard_input() {
    // An expression too long for a command line still evaluates.
    let long = format!("[{}].size()", vec!["1"; 100_000].join(", "));
    let o = offer_with_stdin(&std::env::temp_dir(), &["eval", "-"], &long);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "100000 (int)\n");

    let o = Command::new(env!("CARGO_BIN_EXE_offer"))
        .args(["eval", "-"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_code(&o, 1);
    assert!(stderr(&o).contains("held no expression"), "{}", stderr(&o));
}

#[test]
fn eval_refuses_bindings_no_expression_can_name() {
    for (name, says) in [("true", "reserved"), ("in", "reserved")] {
        let bindings = format!(r#"{{"{name}": 1}}"#);
        let o = eval(&["1", "--bindings", &bindings]);
        assert_code(&o, 1);
        assert!(stderr(&o).contains(says), "{name}: {}", stderr(&o));
    }
    let o = eval(&["x", "--bindings", r#"{"x": 1, "x": 2}"#]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("given twice"), "{}", stderr(&o));
    for name in ["é", "", "1x", "a..b"] {
        let bindings = format!(r#"{{"{name}": 1}}"#);
        let o = eval(&["1", "--bindings", &bindings]);
        assert_code(&o, 1);
        assert!(
            stderr(&o).contains("is not a name"),
            "{name}: {}",
            stderr(&o)
        );
    }
    let o = eval(&["com.example.x + 1", "--bindings", r#"{"com.example.x": 1}"#]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "2 (int)\n");
}

#[test]
fn eval_binds_values_of_any_type_from_expressions() {
    let o = eval(&["x + 1u", "--bind", "x=2u"]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "3u (uint)\n");
    let o = eval(&[
        "t + d",
        "--bind",
        "t=timestamp('2026-01-01T00:00:00Z')",
        "--bind",
        "d=duration('90m')",
    ]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "2026-01-01T01:30:00Z (timestamp)\n");
    // Each sees the ones before it.
    let o = eval(&["b", "--bind", "a=1", "--bind", "b=a * 10"]);
    assert_eq!(stdout(&o), "10 (int)\n");
    // A bad bound expression is reported as such, and nothing is evaluated.
    let o = eval(&["x", "--bind", "x=1 / 0"]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("division by zero"), "{}", stderr(&o));
    let o = eval(&["x", "--bind", "x=1 +"]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("<--bind x>"), "{}", stderr(&o));
    let o = eval(&["x", "--bindings", r#"{"x": 1}"#, "--bind", "x=2"]);
    assert_code(&o, 1);
    assert!(stderr(&o).contains("bound twice"), "{}", stderr(&o));
}
