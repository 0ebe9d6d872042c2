//! Matching speed: the conditions of N generated rules over synthetic usage events, in native
//! code, in the reference interpreter, and as hand-written Rust predicates over the same
//! records; then whole engine runs in both tiers. Prints a table of nanoseconds per event and
//! the ratios between the tiers (fastest of several rounds, all in one run).
//!
//! `cargo bench -p offer-runtime --bench matching`

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a benchmark that cannot set up has nothing to measure"
)]

use offer_compiler::db::{self, Database};
use offer_compiler::eval::{Env, Evaluator};
use offer_compiler::ir::{AggregateFn, Program, SeriesId};
use offer_compiler::types::RecordId;
use offer_compiler::value::{Nanos, RecordValue, Value};
use offer_jit::Jit;
use offer_runtime::engine::Engine;
use offer_runtime::event::Event;
use offer_runtime::tier::Tier;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const EVENTS: usize = 20_000;
const CUSTOMERS: u64 = 2_000;
const PLANS: usize = 10;
const ROUNDS: usize = 5;

/// Rule `i`: `amount > i mod 50 + 0.5 && plan == 'p{i mod 10}' and count % 7 == i mod 7`.
fn threshold(i: usize) -> f64 {
    (i % 50) as f64 + 0.5
}

fn program_text(rules: usize) -> String {
    let mut text = String::from(
        "schema {\n  profile customer key id { id: string }\n  event usage { amount: double, plan: string, count: int }\n}\n",
    );
    for o in 0..10 {
        text.push_str(&format!("offer O{o} {{ channels: [email] value: 1.0 }}\n"));
    }
    for i in 0..rules {
        text.push_str(&format!(
            "rule r{i} {{ when usage where amount > {:?} && plan == \"p{}\" and count % 7 == {} then recommend O{} }}\n",
            threshold(i),
            i % PLANS,
            i % 7,
            i % 10
        ));
    }
    text
}

fn program(rules: usize) -> Program {
    let mut db = Database::new();
    let input = db.program("matching.offer", &program_text(rules), &mut |_| None);
    db::bundle(&db, input)
        .unwrap_or_else(|| panic!("the generated program does not check"))
        .program
}

/// Deterministic events: a small linear congruential generator, so every run sees the same.
fn events(program: &Program) -> Vec<Event> {
    let ty = program
        .schema
        .records
        .iter()
        .position(|r| r.name == "usage")
        .unwrap() as RecordId;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        seed >> 33
    };
    (0..EVENTS)
        .map(|n| {
            let key: Arc<str> = format!("c{}", next() % CUSTOMERS).into();
            let fields = vec![
                Some(Value::Double((next() % 6_000) as f64 / 100.0)),
                Some(Value::string(format!("p{}", next() % PLANS as u64))),
                Some(Value::Int((next() % 100) as i64)),
            ];
            Event {
                ty,
                key,
                at: 1_700_000_000_000_000_000 + n as Nanos * 1_000_000_000,
                line: n as u64 + 1,
                record: Arc::new(RecordValue { ty, fields }),
            }
        })
        .collect()
}

/// The event alone, as a condition sees it in the matching rounds.
struct EventOnly<'a>(&'a Value);

impl Env for EventOnly<'_> {
    fn event(&self) -> Value {
        self.0.clone()
    }
    fn profile(&self) -> Value {
        Value::Null
    }
    fn now(&self) -> Option<Nanos> {
        None
    }
    fn binding(&self, _: u32) -> Value {
        Value::Null
    }
    fn latest(&self, _: RecordId) -> Value {
        Value::Null
    }
    fn previous(&self, _: RecordId) -> Option<(Nanos, Value)> {
        None
    }
    fn aggregate(&self, _: AggregateFn, _: SeriesId, _: Option<Nanos>) -> Value {
        Value::Null
    }
    fn event_record(&self) -> Option<&RecordValue> {
        match self.0 {
            Value::Record(r) => Some(r),
            _ => None,
        }
    }
}

/// The fastest of `ROUNDS` runs of `f`, and what it returned.
fn fastest(mut f: impl FnMut() -> u64) -> (Duration, u64) {
    let mut best = Duration::MAX;
    let mut result = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        result = black_box(f());
        best = best.min(start.elapsed());
    }
    (best, result)
}

fn per_event(d: Duration) -> f64 {
    d.as_secs_f64() * 1e9 / EVENTS as f64
}

fn main() {
    for rules in [1_000, 10_000] {
        loading(rules);
    }
    println!(
        "{:>6} | {:>12} {:>12} {:>12} {:>12} | {:>8} {:>8} {:>8} | {:>12} {:>12} {:>8}",
        "rules",
        "matcher",
        "per-expr",
        "interpreter",
        "rust",
        "int/mat",
        "mat/rust",
        "int/expr",
        "engine nat",
        "engine int",
        "int/nat"
    );
    println!(
        "nanoseconds per event. matcher: one native call per event for all rules; per-expr: a \
         native call per rule; interpreter: the reference interpreter; rust: hand-written \
         predicates.\nint/mat: interpreter over matcher; mat/rust: matcher over rust; int/expr: \
         interpreter over per-expr; engine nat, engine int: whole engine runs natively and \
         interpreted, and their ratio int/nat."
    );
    for rules in [10, 100, 1_000] {
        let program = program(rules);
        let events = events(&program);
        let records: Vec<Value> = events
            .iter()
            .map(|e| Value::Record(e.record.clone()))
            .collect();
        let conditions: Vec<_> = program
            .rules
            .iter()
            .map(|r| r.condition.clone().expect("every rule has a condition"))
            .collect();
        let mut jit = Jit::new().expect("the JIT runs here");
        for c in &conditions {
            jit.compile(c).expect("every condition compiles");
        }
        let fused: Vec<_> = conditions.iter().map(Some).collect();
        jit.compile_matcher(&fused).expect("the matcher compiles");
        let compiled = jit.finish().expect("the module links");
        let natives = compiled.exprs;
        let matcher = &compiled.matchers[0];
        assert_eq!(matcher.native(), (rules, rules));
        let schema = program.schema.clone();
        let evaluator = Evaluator::new(&schema);

        let (native, fired_native) = fastest(|| {
            let mut fired = 0;
            for record in &records {
                let env = EventOnly(record);
                for (c, n) in conditions.iter().zip(&natives) {
                    fired += u64::from(n.eval(c, &evaluator, &env) == Value::Bool(true));
                }
            }
            fired
        });
        let (fused, fired_fused) = fastest(|| {
            let mut fired = 0;
            let mut outcomes = Vec::new();
            for record in &records {
                let env = EventOnly(record);
                matcher.run(&evaluator, &env, &mut outcomes);
                fired += outcomes.iter().filter(|o| **o == offer_jit::TRUE).count() as u64;
            }
            fired
        });
        let (interpreted, fired_interpreted) = fastest(|| {
            let mut fired = 0;
            for record in &records {
                let env = EventOnly(record);
                for c in &conditions {
                    fired += u64::from(evaluator.eval(c, &env) == Value::Bool(true));
                }
            }
            fired
        });
        let (rust, fired_rust) = fastest(|| {
            let mut fired = 0;
            for e in &events {
                let (
                    Some(Some(Value::Double(amount))),
                    Some(Some(Value::String(plan))),
                    Some(Some(Value::Int(count))),
                ) = (
                    e.record.fields.first(),
                    e.record.fields.get(1),
                    e.record.fields.get(2),
                )
                else {
                    continue;
                };
                for i in 0..rules {
                    let holds = *amount > threshold(i)
                        && plan.as_bytes() == format_plan(i % PLANS).as_bytes()
                        && count % 7 == (i % 7) as i64;
                    fired += u64::from(holds);
                }
            }
            fired
        });
        assert_eq!(fired_native, fired_interpreted, "the tiers disagree");
        assert_eq!(fired_fused, fired_interpreted, "the matcher disagrees");
        assert_eq!(
            fired_native, fired_rust,
            "the hand-written predicates disagree"
        );

        let engine_run = |tier: Tier| {
            fastest(|| {
                let mut engine = Engine::with_tier(program.clone(), tier);
                let mut out = Vec::new();
                for e in &events {
                    let _ = engine.process(e, &mut out);
                }
                out.len() as u64
            })
        };
        let (engine_native, decisions_native) = engine_run(Tier::Native);
        let (engine_interpreted, decisions_interpreted) = engine_run(Tier::Interpreter);
        assert_eq!(
            decisions_native, decisions_interpreted,
            "the engines disagree"
        );

        println!(
            "{rules:>6} | {:>12.0} {:>12.0} {:>12.0} {:>12.0} | {:>8.2} {:>8.2} {:>8.2} | {:>12.0} {:>12.0} {:>8.2}",
            per_event(fused),
            per_event(native),
            per_event(interpreted),
            per_event(rust),
            interpreted.as_secs_f64() / fused.as_secs_f64(),
            fused.as_secs_f64() / rust.as_secs_f64(),
            interpreted.as_secs_f64() / native.as_secs_f64(),
            per_event(engine_native),
            per_event(engine_interpreted),
            engine_interpreted.as_secs_f64() / engine_native.as_secs_f64(),
        );
    }
}

/// How long an engine takes to set up for `rules` rules, in native code and interpreted only:
/// the difference is the JIT's compile time.
fn loading(rules: usize) {
    let program = program(rules);
    let load = |tier: Tier| {
        fastest(|| {
            let engine = Engine::with_tier(program.clone(), tier);
            engine.native_code().native as u64
        })
    };
    let (native, compiled) = load(Tier::Native);
    let (interpreted, _) = load(Tier::Interpreter);
    assert_eq!(compiled as usize, rules, "every condition compiles");
    let jit = native.saturating_sub(interpreted);
    println!(
        "{rules:>6} rules: engine set-up {:.1} ms in native code, {:.1} ms interpreted; the JIT takes {:.1} µs per rule",
        native.as_secs_f64() * 1e3,
        interpreted.as_secs_f64() * 1e3,
        jit.as_secs_f64() * 1e6 / rules as f64
    );
}

/// The plan names the rules compare with, precomputed as a hand-written matcher would.
fn format_plan(i: usize) -> &'static str {
    const NAMES: [&str; PLANS] = ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"];
    NAMES[i]
}
