//! `ecsh run FILE [ARGS…]` and `ecsh check FILE`.
//!
//! `run` connects to the target, runs the script on this (non-runtime) thread, prints its
//! output, and maps the outcome to an exit code: 0 success, 1 uncaught error, 2 a script that
//! cannot be read or parsed, 130/143/129 stopped by SIGINT/SIGTERM/SIGHUP. The first such
//! signal asks the script to stop (calls and waits are interrupted), then what the run created
//! is released and the summary printed; a second exits at once, leaving the journal for
//! `ecsh cleanup`. Signals come from the one listener in `ledger::cancel`.

use super::{exit, GlobalArgs};
use crate::guard::decision;
use crate::host::{runner, Output};
use crate::ledger::{CancelState, SignalAction, Signals};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The Rhai script to run.
    pub file: PathBuf,
    /// Arguments for the script, which sees them as the `ARGS` array.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
    /// How the embedded simulator runs Cloud Assistant commands: simulated (never executed;
    /// results say `Simulated: true`) or local (/bin/sh in a scratch folder per instance).
    #[arg(long, value_enum, value_name = "MODE")]
    pub sim_exec: Option<super::sim::SimExec>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The Rhai script to check (parsed, never run).
    pub file: PathBuf,
}

pub fn run(global: &GlobalArgs, args: RunArgs) -> anyhow::Result<i32> {
    let label = format!("script {}", args.file.display());
    let exec = args.sim_exec;
    let prepared = match super::session::prepare_with(global, &label, |o| {
        if exec == Some(super::sim::SimExec::Local) {
            o.sim_world.exec = crate::sim::model::ExecMode::Local;
        }
    })? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    if exec.is_some() && !prepared.target.is_simulator() {
        eprintln!(
            "ecsh run: --sim-exec applies to the embedded simulator only; this run talks to {} \
             (a standalone simulator takes `ecsh sim --sim-exec local`)",
            prepared.target.label()
        );
        prepared.close();
        return Ok(exit::USAGE);
    }
    let cancel = CancelState::with_flag(prepared.cancel.clone());
    let signals = {
        let _inside = prepared.runtime.enter();
        Signals::listen()?
    };
    prepared.runtime.spawn(watch_run(signals, cancel.clone()));
    let outcome = runner::run_file(&args.file, args.args, prepared.session.clone());
    let simulated = prepared
        .session
        .simulated
        .lock()
        .map(|s| s.len())
        .unwrap_or(0);
    // The run's scope ends here, however the script ended: release what it still holds.
    let finished = prepared.runtime.block_on(prepared.ledger.finish());
    let json_summary = global.output == Some(super::Output::Json);
    let decisions = prepared.guard.decisions();
    if !json_summary {
        eprint!("{}", decision::summary(&decisions));
    }
    let mut code = match outcome {
        Ok(_) => exit::OK,
        Err(failure) => {
            eprintln!("{}", runner::render_error(&failure));
            failure.exit_code()
        }
    };
    // A run a signal stopped exits with that signal's code, however the script ended.
    if let Some(signal) = cancel.first_signal() {
        code = signal.exit_code();
    }
    match finished {
        Ok((_, summary)) if json_summary => {
            // One line of JSON on stderr: stdout belongs to the script's own output.
            let mut report = summary.to_json();
            report["decisions"] = serde_json::to_value(&decisions)?;
            report["commands_not_executed"] = simulated.into();
            eprintln!("{report}");
        }
        Ok((_, summary)) => {
            eprint!("{summary}");
            if simulated > 0 {
                eprintln!(
                    "Commands not executed (simulated): {simulated}; their output and exit code \
                     are made up (ecsh run --sim-exec local runs RunShellScript with /bin/sh)"
                );
            }
        }
        Err(e) => {
            eprintln!("ecsh: releasing what the run created failed: {e}");
            code = code.max(exit::FAILURE);
        }
    }
    prepared.close();
    Ok(code)
}

pub fn check(args: CheckArgs) -> anyhow::Result<i32> {
    match runner::check_file(&args.file) {
        Ok(()) => {
            eprintln!("{}: ok", args.file.display());
            Ok(exit::OK)
        }
        Err(diags) => {
            eprintln!("{}", runner::render_diagnostics(&diags));
            Ok(exit::USAGE)
        }
    }
}

/// Script `print` to stdout, warnings and `debug` to stderr, one line per call.
/// Script output on a terminal has its control characters escaped (`ESC[8m` would hide what
/// follows, the cost prompt included); piped, it is passed through byte for byte.
pub(super) fn terminal_output(quiet: bool) -> Output {
    use crate::guard::block::escape_terminal;
    use std::io::IsTerminal;
    let raw_out = !std::io::stdout().is_terminal();
    let raw_err = !std::io::stderr().is_terminal();
    let mut output = Output::new(
        Arc::new(move |line: &str| {
            let mut out = std::io::stdout().lock();
            let _ = if raw_out {
                writeln!(out, "{line}")
            } else {
                writeln!(out, "{}", escape_terminal(line))
            };
            let _ = out.flush();
        }),
        Arc::new(move |line: &str| {
            if raw_err {
                eprintln!("{line}")
            } else {
                eprintln!("{}", escape_terminal(line))
            }
        }),
    );
    output.progress = super::progress::sink(quiet);
    output
}

/// First signal: ask the script to stop (the run then releases and exits with the signal's
/// code). Second: exit at once, leaving the journal for `ecsh cleanup`.
async fn watch_run(mut signals: Signals, cancel: Arc<CancelState>) {
    while let Some(signal) = signals.next().await {
        match cancel.signal(signal) {
            SignalAction::Cancel => say(&format!(
                "ecsh: {}: stopping the script and releasing what it created (again to exit at once)",
                signal.name()
            )),
            SignalAction::Abort => {
                let first = cancel.first_signal().unwrap_or(signal);
                say(&format!(
                    "ecsh: {}: exiting now; what the run still holds stays in its journal for `ecsh cleanup`",
                    signal.name()
                ));
                std::process::exit(first.exit_code());
            }
        }
    }
}

/// A line on stderr that never panics: after SIGHUP the terminal may be gone.
pub(super) fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
