//! Front-end speed: checking the examples from text (parse, resolve, type-check, fold, plan),
//! from a fresh database each time, and re-checking after a one-character edit.

use criterion::{Criterion, criterion_group, criterion_main};
use offer_compiler::db::{self, Database};
use std::hint::black_box;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    for example in ["winback/winback.offer", "telco-retention/retention.offer"] {
        let path = format!("{ROOT}/examples/{example}");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        group.bench_function(example, |b| {
            b.iter(|| {
                let mut db = Database::new();
                let program = db.program(&path, &text, &mut |_| None);
                black_box(db::checked(&db, program).diagnostics.len())
            })
        });
        let mut db = Database::new();
        let mut edited = false;
        group.bench_function(format!("{example} after an edit"), |b| {
            b.iter(|| {
                edited = !edited;
                let text = if edited {
                    text.replacen("value: ", "value:  ", 1)
                } else {
                    text.clone()
                };
                let program = db.program(&path, &text, &mut |_| None);
                black_box(db::checked(&db, program).diagnostics.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
