//! `offer run PROGRAM EVENTS...`: replays event files through a program, writes the decisions
//! (NDJSON) and prints a summary.

use super::{FAILURE, fail};
use crate::load::Loaded;
use offer_compiler::bundle::Bundle;
use offer_compiler::db;
use offer_compiler::ir::Program;
use offer_compiler::value::time;
use offer_runtime::engine::Engine;
use offer_runtime::ingest::{EventReader, Format, KeySource, Mapping, TimeSource, TypeSource};
use offer_runtime::replay::{Outcome, Replay};
use offer_runtime::tier::Tier;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Exit code for arguments that do not fit together.
const USAGE: u8 = 2;
/// How many error lines a replay prints before it only counts them.
const SHOWN_ERRORS: usize = 10;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// The program: an `.offer` file (checked first) or a `.bundle` from `offer compile`.
    pub program: PathBuf,
    /// Event files, replayed one after the other; `-` reads standard input (NDJSON unless
    /// `--format` says otherwise).
    #[arg(required = true)]
    pub events: Vec<PathBuf>,
    /// The files' format; by default from the extension (`.ndjson`/`.jsonl`, `.csv`, `.tsv`).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// The CSV delimiter (default `,`; `\t` for `.tsv`).
    #[arg(long)]
    pub delimiter: Option<String>,
    /// CSV/SSV: every row is an event of this type.
    #[arg(long = "type", conflicts_with = "type_column")]
    pub event_type: Option<String>,
    /// CSV/SSV: the column that names each row's event type.
    #[arg(long)]
    pub type_column: Option<String>,
    /// CSV/SSV: the column holding the customer key; `@row` numbers the rows instead.
    #[arg(long)]
    pub key_column: Option<String>,
    /// CSV/SSV: the column holding the event time.
    #[arg(long, conflicts_with = "at")]
    pub time_column: Option<String>,
    /// The time column's format, as strftime (`%Y%m%d`); RFC 3339 by default.
    #[arg(long, requires = "time_column")]
    pub time_format: Option<String>,
    /// CSV/SSV: one time for every row (RFC 3339), for files without a time column.
    #[arg(long)]
    pub at: Option<String>,
    /// Where to write the decisions (NDJSON); standard output by default.
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Stop at the first bad line instead of counting it and going on.
    #[arg(long)]
    pub strict: bool,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Run every expression in the reference interpreter, without native code (for comparing
    /// the two; results are the same).
    #[arg(long)]
    pub interpret: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatArg {
    Ndjson,
    Csv,
    /// Whitespace-separated columns with a header line.
    Ssv,
}

pub fn run(args: &RunArgs, color: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let program = match load_program(&args.program, color, err) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mut sources = Vec::new();
    for path in &args.events {
        match source_config(args, path) {
            Ok(config) => sources.push((path.clone(), config)),
            Err(message) => {
                let _ = writeln!(err, "error: {message}");
                return USAGE;
            }
        }
    }
    let total_bytes: u64 = args
        .events
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let progress = progress_bar(total_bytes, args.no_progress);

    let schema = Arc::new(program.schema.clone());
    let tier = if args.interpret {
        Tier::Interpreter
    } else {
        Tier::Native
    };
    let mut engine = Engine::with_tier(program, tier);
    let mut sink: Box<dyn Write> = match &args.out {
        Some(path) => match File::create(path) {
            Ok(f) => Box::new(BufWriter::new(f)),
            Err(e) => return fail(err, &format!("cannot write `{}`: {e}", path.display())),
        },
        None => Box::new(BufWriter::new(std::io::stdout())),
    };
    let mut first_decisions: Vec<String> = Vec::new();
    let mut shown_errors = 0usize;
    let started = Instant::now();
    let mut stopped = false;
    let mut done_bytes = 0u64;
    for (path, (format, mapping)) in sources {
        let input: Box<dyn std::io::BufRead> = if is_stdin(&path) {
            Box::new(std::io::stdin().lock())
        } else {
            match File::open(&path) {
                Ok(f) => Box::new(BufReader::new(f)),
                Err(e) => return fail(err, &format!("cannot read `{}`: {e}", path.display())),
            }
        };
        let reader = match mapping {
            None => EventReader::ndjson(input, schema.clone()),
            Some(mapping) => match EventReader::new(input, format, mapping, schema.clone()) {
                Ok(r) => r,
                Err(e) => return fail(err, &format!("`{}`, {e}", path.display())),
            },
        };
        if !reader.ignored_columns().is_empty() {
            let columns: Vec<String> = reader
                .ignored_columns()
                .iter()
                .map(|c| format!("`{c}`"))
                .collect();
            progress.suspend(|| {
                let _ = writeln!(
                    err,
                    "note: `{}`: columns not in the schema are ignored: {}",
                    path.display(),
                    columns.join(", ")
                );
            });
        }
        let program = engine.program().clone();
        let mut events = ProgressEvents {
            reader,
            progress: &progress,
            base: done_bytes,
            count: 0,
        };
        let mut on_decision = |d: &offer_runtime::decision::Decision| {
            let line = d.to_json(&program);
            if first_decisions.len() < 3 {
                first_decisions.push(line.clone());
            }
            writeln!(sink, "{line}")
        };
        let mut on_error = |message: &str| {
            shown_errors += 1;
            if shown_errors <= SHOWN_ERRORS {
                progress.suspend(|| {
                    let _ = writeln!(err, "error: `{}`, {message}", path.display());
                });
            }
        };
        let mut replay = Replay {
            engine: &mut engine,
            strict: args.strict,
            on_decision: &mut on_decision,
            on_error: &mut on_error,
        };
        let outcome = replay.run(&mut events);
        done_bytes += events.reader.bytes_read();
        match outcome {
            Ok(Outcome::Completed) => {}
            Ok(Outcome::Stopped(_)) => {
                stopped = true;
                break;
            }
            Ok(Outcome::Unreadable(message)) => {
                progress.finish_and_clear();
                return fail(err, &format!("cannot read `{}`, {message}", path.display()));
            }
            Err(e) => {
                progress.finish_and_clear();
                return fail(err, &format!("cannot write decisions: {e}"));
            }
        }
    }
    let elapsed = started.elapsed();
    progress.finish_and_clear();
    if let Err(e) = sink.flush() {
        return fail(err, &format!("cannot write decisions: {e}"));
    }
    drop(sink);
    if shown_errors > SHOWN_ERRORS {
        let _ = writeln!(err, "... and {} more errors", shown_errors - SHOWN_ERRORS);
    }
    let summary = engine.stats.render(engine.program(), Some(elapsed));
    // With decisions on standard output, the summary goes to standard error to keep the
    // output pure NDJSON.
    let report: &mut dyn Write = if args.out.is_some() { out } else { err };
    let _ = write!(report, "{summary}");
    let code = engine.native_code();
    let (native, expressions) = (code.native, code.expressions);
    let _ = match &code.unavailable {
        Some(why) if !args.interpret => writeln!(report, "\nexpressions: all interpreted; {why}"),
        _ if args.interpret => writeln!(
            report,
            "\nexpressions: all {expressions} interpreted (--interpret)"
        ),
        _ if expressions == 0 => writeln!(
            report,
            "\nexpressions: none to compile (every one is a constant)"
        ),
        _ if native == expressions => {
            writeln!(report, "\nexpressions: all {expressions} in native code")
        }
        _ => writeln!(
            report,
            "\nexpressions: {native} of {expressions} in native code, the rest interpreted:"
        ),
    };
    for (place, why) in &code.interpreted {
        let _ = writeln!(report, "  {place}: {why}");
    }
    if let Some(path) = &args.out {
        let _ = writeln!(
            report,
            "\ndecisions written to `{}`{}",
            path.display(),
            if first_decisions.is_empty() {
                ""
            } else {
                "; the first ones:"
            }
        );
        for line in &first_decisions {
            let _ = writeln!(report, "  {line}");
        }
    }
    let stats = &engine.stats;
    if stopped {
        let _ = writeln!(err, "error: stopped at the first bad line (--strict)");
        return FAILURE;
    }
    if stats.events == 0 && stats.rejected > 0 {
        let _ = writeln!(err, "error: no line of the input could be read as an event");
        return FAILURE;
    }
    0
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// A `.bundle`, or an `.offer` file checked now (its diagnostics printed).
fn load_program(path: &Path, color: bool, err: &mut dyn Write) -> Result<Program, u8> {
    let bytes = std::fs::read(path)
        .map_err(|e| fail(err, &format!("cannot read `{}`: {e}", path.display())))?;
    // A bundle by its content, whatever its name; a `.bundle` that is not one is damaged.
    if Bundle::looks_like(&bytes) || path.extension().is_some_and(|e| e == "bundle") {
        return Bundle::from_bytes(&bytes)
            .map(|b| b.program)
            .map_err(|e| fail(err, &format!("`{}`: {e}", path.display())));
    }
    // The file is read once: the bytes that were not a bundle are the source.
    let loaded = Loaded::reporting(Loaded::from_bytes(path, bytes), color, err)?;
    match db::bundle(&loaded.db, loaded.program) {
        Some(bundle) => Ok(bundle.program),
        None => {
            let (errors, warnings) = loaded.counts();
            let _ = writeln!(
                err,
                "error: {} in `{}`",
                crate::render::count(errors, warnings),
                path.display()
            );
            Err(FAILURE)
        }
    }
}

/// How to read one file: its format, and for a table, how its columns map to events.
fn source_config(args: &RunArgs, path: &Path) -> Result<(Format, Option<Mapping>), String> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let format = match (args.format, ext.as_str()) {
        (Some(f), _) => f,
        (None, _) if is_stdin(path) => FormatArg::Ndjson,
        (None, "ndjson" | "jsonl" | "json") => FormatArg::Ndjson,
        (None, "csv" | "tsv") => FormatArg::Csv,
        (None, _) => {
            return Err(format!(
                "cannot tell the format of `{}`: give --format ndjson, csv or ssv",
                path.display()
            ));
        }
    };
    let table_flags = [
        ("--type", args.event_type.is_some()),
        ("--type-column", args.type_column.is_some()),
        ("--key-column", args.key_column.is_some()),
        ("--time-column", args.time_column.is_some()),
        ("--at", args.at.is_some()),
        ("--delimiter", args.delimiter.is_some()),
    ];
    if format == FormatArg::Ndjson
        && let Some((flag, _)) = table_flags.iter().find(|(_, given)| *given)
    {
        return Err(format!(
            "{flag} maps the columns of a table (csv, ssv); NDJSON lines carry their own `type`, `key` and `at`"
        ));
    }
    let delimiter = match args.delimiter.as_deref() {
        Some("\\t" | "tab" | "\t") => b'\t',
        Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes().first().copied().unwrap_or(b','),
        Some(d) => {
            return Err(format!(
                "the delimiter `{d}` is not one ASCII character (or `\\t`)"
            ));
        }
        None if ext == "tsv" => b'\t',
        None => b',',
    };
    let format = match format {
        // NDJSON lines carry their own type, key and time.
        FormatArg::Ndjson => return Ok((Format::Ndjson, None)),
        FormatArg::Csv => Format::Csv { delimiter },
        FormatArg::Ssv => Format::Whitespace,
    };
    let type_source = match (&args.event_type, &args.type_column) {
        (Some(t), _) => TypeSource::Fixed(t.clone()),
        (None, Some(c)) => TypeSource::Column(c.clone()),
        (None, None) => return Err("tables need --type NAME or --type-column COLUMN".into()),
    };
    let key = match args.key_column.as_deref() {
        Some("@row") => KeySource::Row,
        Some(c) => KeySource::Column(c.to_string()),
        None => {
            return Err("tables need --key-column COLUMN (or `@row` to number the rows)".into());
        }
    };
    let time = match (&args.time_column, &args.at) {
        (Some(c), _) => TimeSource::Column {
            name: c.clone(),
            format: args.time_format.clone(),
        },
        (None, Some(at)) => TimeSource::Fixed(
            time::parse_timestamp(at)
                .map_err(|e| format!("--at `{at}` is not an RFC 3339 time: {e}"))?,
        ),
        (None, None) => return Err("tables need --time-column COLUMN or --at TIME".into()),
    };
    Ok((
        format,
        Some(Mapping {
            type_source,
            key,
            time,
        }),
    ))
}

fn progress_bar(total: u64, hidden: bool) -> indicatif::ProgressBar {
    if hidden {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {per_sec} {eta} left",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Events of one file, moving the progress bar every few thousand.
struct ProgressEvents<'a, R: std::io::BufRead> {
    reader: EventReader<R>,
    progress: &'a indicatif::ProgressBar,
    base: u64,
    count: u64,
}

impl<R: std::io::BufRead> Iterator for ProgressEvents<'_, R> {
    type Item = <EventReader<R> as Iterator>::Item;

    fn next(&mut self) -> Option<Self::Item> {
        self.count += 1;
        if self.count.is_multiple_of(4096) {
            self.progress
                .set_position(self.base + self.reader.bytes_read());
        }
        self.reader.next()
    }
}
