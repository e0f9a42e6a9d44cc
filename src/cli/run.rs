//! `ecsh run FILE [ARGS…]` and `ecsh check FILE` (FILE `-`: the script comes from stdin).
//!
//! `run` connects to the target, runs the script on this (non-runtime) thread, prints its
//! output, and maps the outcome to an exit code: 0 success, 1 uncaught error, 2 a script that
//! cannot be read or parsed, 130 interrupted. Ctrl-C once asks the script to stop (calls and
//! waits are interrupted); twice exits at once.

use super::flags::{
    flag_set, GuardFlags, JournalFlags, LogFlags, OutputFlags, ProgressFlags, TargetFlags,
};
use super::{exit, GlobalArgs};
use crate::guard::decision;
use crate::host::{runner, Output};
use clap::{Args, CommandFactory};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

flag_set!(
    /// The shared flags `run` takes.
    RunFlags {
        target: TargetFlags,
        guard: GuardFlags,
        journal: JournalFlags,
        progress: ProgressFlags,
        output: OutputFlags,
        log: LogFlags,
    }
);

#[derive(Debug, Args)]
#[command(
    after_help = "Flags of ecsh go before FILE (here or before `run`); everything after \
                        FILE is the script's, as in `deno run` and `cargo run --`."
)]
pub struct RunArgs {
    /// The Rhai script (`-` reads it from stdin), then the script's arguments: it sees them as
    /// the `ARGS` array, all of them, even those spelled like ecsh's flags.
    #[arg(
        value_name = "FILE [ARGS]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_hint = clap::ValueHint::FilePath
    )]
    pub script: Vec<String>,
    #[command(flatten)]
    pub flags: RunFlags,
}

impl RunArgs {
    /// The script's path, `-` for stdin.
    pub fn file(&self) -> &str {
        self.script.first().map_or("-", String::as_str)
    }

    /// The script's `ARGS`.
    pub fn args(&self) -> &[String] {
        self.script.get(1..).unwrap_or_default()
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The Rhai script to check (parsed, never run; `-` reads it from stdin).
    #[arg(value_hint = clap::ValueHint::FilePath)]
    pub file: PathBuf,
}

/// Where the script comes from, read before anything connects.
struct Script {
    name: String,
    source: String,
}

impl Script {
    fn read(file: &str) -> Result<Script, String> {
        if file == "-" {
            let mut source = String::new();
            std::io::stdin()
                .read_to_string(&mut source)
                .map_err(|e| format!("cannot read the script from stdin: {e}"))?;
            return Ok(Script {
                name: "<stdin>".into(),
                source,
            });
        }
        if file.starts_with('-') {
            return Err(format!(
                "unknown flag '{file}' before the script; `ecsh run --help` lists the flags"
            ));
        }
        let source =
            std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
        Ok(Script {
            name: file.to_string(),
            source,
        })
    }
}

/// Script arguments spelled like one of `run`'s own flags went to the script, as the one rule
/// says; a warning says where the flag belongs, since that is rarely what was meant.
fn warn_flag_like_args(args: &RunArgs) {
    let run = super::Cli::command();
    let Some(run) = run.find_subcommand("run") else {
        return;
    };
    let script_args = args.args();
    for (i, arg) in script_args.iter().enumerate() {
        let name = arg.split('=').next().unwrap_or(arg);
        let ours = run.get_arguments().find(|a| {
            a.get_long().is_some_and(|l| name == format!("--{l}"))
                || a.get_short().is_some_and(|c| name == format!("-{c}"))
        });
        let Some(ours) = ours else {
            continue;
        };
        let takes_value = ours.get_action().takes_values() && !arg.contains('=');
        let flag = match script_args.get(i + 1) {
            Some(value) if takes_value => format!("{arg} {value}"),
            _ => arg.clone(),
        };
        eprintln!(
            "ecsh: warning: '{arg}' comes after the script, so it went to the script (in ARGS); \
             for ecsh to take it, put it before the file: ecsh run {flag} {} …",
            args.file()
        );
    }
}

pub fn run(global: &GlobalArgs, args: RunArgs) -> anyhow::Result<i32> {
    warn_flag_like_args(&args);
    if let Some(super::Output::Columns(_)) = global.output {
        eprintln!(
            "ecsh run: --output chooses how the run's summary is shown: json or table; \
             cols=… is for results (ecsh call)"
        );
        return Ok(exit::USAGE);
    }
    let script = match Script::read(args.file()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::USAGE);
        }
    };
    let label = format!("script {}", script.name);
    let prepared = match super::session::prepare(global, &label)? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    prepared
        .runtime
        .spawn(interrupt_watch(prepared.cancel.clone()));
    let outcome = runner::run_source(
        &script.name,
        &script.source,
        args.args().to_vec(),
        prepared.session.clone(),
    );
    // The run's scope ends here, however the script ended: release what it still holds.
    let finished = prepared.runtime.block_on(prepared.ledger.finish());
    // A --query selects from the JSON summary, so it asks for that form.
    let json_summary = global.output == Some(super::Output::Json) || global.query.is_some();
    let decisions = prepared.guard.decisions();
    if !json_summary {
        eprint!("{}", decision::summary(&decisions));
    }
    let mut code = match outcome {
        Ok(_) => exit::OK,
        Err(failure) => {
            eprintln!("{}", runner::render_error(&failure));
            if prepared.cancel.load(Ordering::SeqCst) {
                exit::INTERRUPTED
            } else {
                failure.exit_code()
            }
        }
    };
    match finished {
        Ok((_, summary)) if json_summary => {
            // One line of JSON on stderr: stdout belongs to the script's own output.
            let mut report = summary.to_json();
            report["decisions"] = serde_json::to_value(&decisions)?;
            match super::render::query(global.query.as_deref(), report) {
                Ok(report) => eprintln!("{report}"),
                Err(e) => {
                    eprintln!("ecsh: {e}");
                    code = code.max(exit::USAGE);
                }
            }
        }
        Ok((_, summary)) => eprint!("{summary}"),
        Err(e) => {
            eprintln!("ecsh: releasing what the run created failed: {e}");
            code = code.max(exit::FAILURE);
        }
    }
    prepared.close();
    Ok(code)
}

pub fn check(args: CheckArgs) -> anyhow::Result<i32> {
    let file = args.file.display().to_string();
    let script = match Script::read(&file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::USAGE);
        }
    };
    match runner::check_source(&script.name, &script.source) {
        Ok(()) => {
            eprintln!("{}: ok", script.name);
            Ok(exit::OK)
        }
        Err(diags) => {
            eprint!("{}", runner::render_diagnostics(&diags));
            Ok(exit::USAGE)
        }
    }
}

/// Script `print` to stdout, warnings and `debug` to stderr, one line per call.
pub(super) fn terminal_output(quiet: bool) -> Output {
    let mut output = Output::new(
        Arc::new(|line: &str| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }),
        Arc::new(|line: &str| eprintln!("{line}")),
    );
    output.progress = super::progress::sink(quiet);
    output
}

/// First Ctrl-C: ask the script to stop. Second: exit at once.
async fn interrupt_watch(cancel: Arc<AtomicBool>) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    eprintln!("ecsh: interrupted; stopping (Ctrl-C again to exit at once)");
    cancel.store(true, Ordering::SeqCst);
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(exit::INTERRUPTED);
    }
}
