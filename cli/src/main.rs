//! The `offer` command.

use clap::{Parser, Subcommand};
use offer_cli::commands;
use offer_cli::render::color_stderr;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "offer",
    version,
    about = "Check, compile and run Offer programs: real-time, context-aware offers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Type-check a program and print its diagnostics.
    Check {
        file: PathBuf,
        /// Fail on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Check a program and write its bundle.
    Compile {
        file: PathBuf,
        /// Where to write the bundle (default: beside the file, with `.bundle`).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Replay event files through a program (`.offer` or `.bundle`) and print decisions and a summary.
    Run(commands::run::RunArgs),
    /// Evaluate one expression and print its value and type.
    Eval {
        /// The expression; it may start with `-`, as in `-1 + 2`. A lone `-` reads it from
        /// standard input.
        #[arg(allow_hyphen_values = true)]
        expr: String,
        /// Variables as a JSON object, as in '{"x": 1, "name": "Ada"}'.
        #[arg(long)]
        bindings: Option<String>,
        /// A variable whose value is a CEL expression, of any type, as in --bind 'x=2u' or
        /// --bind "t=timestamp('2026-01-01T00:00:00Z')"; repeatable, each seeing the ones
        /// before it.
        #[arg(long = "bind", value_name = "NAME=EXPR")]
        binds: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = color_stderr();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut err = io::stderr();
    let code = match cli.command {
        Command::Check {
            file,
            deny_warnings,
        } => commands::check::check(&file, deny_warnings, color, &mut out, &mut err),
        Command::Compile { file, output } => {
            commands::compile::compile(&file, output.as_deref(), color, &mut out, &mut err)
        }
        Command::Run(args) => commands::run::run(&args, color, &mut out, &mut err),
        Command::Eval {
            expr,
            bindings,
            binds,
        } => {
            let mut text = expr;
            if text == "-" {
                text.clear();
                if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
                    let _ = writeln!(err, "error: cannot read the expression from stdin: {e}");
                    return ExitCode::from(1);
                }
                if text.trim().is_empty() {
                    let _ = writeln!(err, "error: standard input held no expression");
                    return ExitCode::from(1);
                }
            }
            commands::eval::eval(
                &text,
                bindings.as_deref(),
                &binds,
                color,
                &mut out,
                &mut err,
            )
        }
    };
    let _ = out.flush();
    ExitCode::from(code)
}
