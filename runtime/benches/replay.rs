//! Replay speed on the winback example (69,659 real purchases): reading the file, the engine
//! alone, and both, in events per second.

#![allow(
    clippy::panic,
    reason = "a benchmark without its example has nothing to measure"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use offer_compiler::db::{self, Database};
use offer_runtime::engine::Engine;
use offer_runtime::event::Event;
use offer_runtime::ingest::{EventReader, Format, KeySource, Mapping, TimeSource, TypeSource};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn program() -> offer_compiler::ir::Program {
    let path = format!("{ROOT}/examples/winback/winback.offer");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut db = Database::new();
    let input = db.program(&path, &text, &mut |_| None);
    match db::bundle(&db, input) {
        Some(b) => b.program,
        None => panic!("the winback example does not check"),
    }
}

fn mapping() -> Mapping {
    Mapping {
        type_source: TypeSource::Fixed("purchase".into()),
        key: KeySource::Column("customer_id".into()),
        time: TimeSource::Column {
            name: "date".into(),
            format: Some("%Y%m%d".into()),
        },
    }
}

fn read(data: &[u8], schema: &Arc<offer_compiler::schema::Schema>) -> Vec<Event> {
    match EventReader::new(data, Format::Whitespace, mapping(), schema.clone()) {
        Ok(reader) => reader.filter_map(Result::ok).collect(),
        Err(e) => panic!("{e}"),
    }
}

fn replay(c: &mut Criterion) {
    let data = std::fs::read(Path::new(ROOT).join("examples/winback/data/CDNOW_master.txt"))
        .unwrap_or_default();
    let program = program();
    let schema = Arc::new(program.schema.clone());
    let events = read(&data, &schema);
    assert_eq!(events.len(), 69_659);

    let mut group = c.benchmark_group("winback");
    group.sample_size(20);
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("read", |b| b.iter(|| black_box(read(&data, &schema).len())));
    group.bench_function("engine", |b| {
        b.iter(|| {
            let mut engine = Engine::new(program.clone());
            let mut out = Vec::new();
            for e in &events {
                let _ = engine.process(e, &mut out);
            }
            black_box(out.len())
        })
    });
    group.bench_function("read+engine", |b| {
        b.iter(|| {
            let mut engine = Engine::new(program.clone());
            let mut out = Vec::new();
            for e in read(&data, &schema) {
                let _ = engine.process(&e, &mut out);
            }
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
