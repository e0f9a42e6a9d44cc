//! `ecsh run FILE [ARGS…]` and `ecsh check FILE` (FILE `-`: the script comes from stdin).
//!
//! `run` connects to the target, runs the script on this (non-runtime) thread, prints its
//! output, and maps the outcome to an exit code: 0 success, 1 uncaught error, 2 a script that
//! cannot be read or parsed, 130/143/129 stopped by SIGINT/SIGTERM/SIGHUP. The first such
//! signal asks the script to stop (calls and waits are interrupted), then what the run created
//! is released and the summary printed; a second exits at once, leaving the journal for
//! `ecsh cleanup`. Signals come from the one listener in `ledger::cancel`.

use super::flags::{
    flag_set, GuardFlags, JournalFlags, LeaseFlags, LogFlags, OutputFlags, ProgressFlags,
    TargetFlags,
};
use super::{exit, GlobalArgs};
use crate::guard::decision;
use crate::host::{runner, Output};
use crate::ledger::{CancelState, SignalAction, Signals};
use clap::{Args, CommandFactory};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

flag_set!(
    /// The shared flags `run` takes.
    RunFlags {
        target: TargetFlags,
        guard: GuardFlags,
        journal: JournalFlags,
        lease: LeaseFlags,
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
    #[command(flatten)]
    pub script: ScriptArgs,
    /// How the embedded simulator runs Cloud Assistant commands: simulated (never executed;
    /// results say `Simulated: true`) or local (/bin/sh in a scratch folder per instance).
    #[arg(long, value_enum, value_name = "MODE")]
    pub sim_exec: Option<super::sim::SimExec>,
    /// Plan first (as `ecsh plan` does, against a shadow of the target), show one cost block
    /// for the whole run and ask once (or apply --yes / --max-cost to its total), then run
    /// held to the plan: what goes beyond it is asked again, or refused (Refused.BeyondPlan)
    /// without a terminal.
    #[arg(long)]
    pub plan: bool,
    #[command(flatten)]
    pub flags: RunFlags,
}

impl RunArgs {
    /// The script's path, `-` for stdin.
    pub fn file(&self) -> &str {
        self.script.file()
    }

    /// The script's `ARGS`.
    pub fn args(&self) -> &[String] {
        self.script.args()
    }
}

/// `FILE [ARGS]…`, the one positional of `run` and `plan`.
#[derive(Debug, Args)]
pub struct ScriptArgs {
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
}

impl ScriptArgs {
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

/// The script at `file` (`-`: stdin), as (name, source), for `ecsh plan`.
pub(super) fn read_script(file: &str) -> Result<(String, String), String> {
    Script::read(file).map(|s| (s.name, s.source))
}

/// Script arguments spelled like one of `run`'s own flags went to the script, as the one rule
/// says; a warning says where the flag belongs, since that is rarely what was meant.
fn warn_flag_like_args(args: &RunArgs) {
    if args.args().is_empty() {
        // Nothing to look at; building the command tree is most of what parsing costs.
        return;
    }
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
    let exec = args.sim_exec;
    let adjust = |o: &mut crate::connect::TargetOptions| {
        if exec == Some(super::sim::SimExec::Local) {
            o.sim_world.exec = crate::sim::model::ExecMode::Local;
        }
    };
    let approved = crate::plan::bound::Approved::default();
    let prepared = if args.plan {
        // The flags are checked now; they apply to the plan's total (below).
        if let Err(e) = global.guard() {
            eprintln!("ecsh: {e}");
            return Ok(exit::USAGE);
        }
        let bound = crate::plan::bound::Bound::new(approved.clone());
        let guard = Arc::new(crate::guard::Guard::new(Box::new(bound)));
        super::session::prepare_guarded(global, &label, adjust, guard)?
    } else {
        super::session::prepare_with(global, &label, adjust)?
    };
    let prepared = match prepared {
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
    if args.plan {
        let script = super::plan::Script {
            name: &script.name,
            source: &script.source,
            args: args.args(),
        };
        if let Err(code) = approve_plan(global, &prepared, &script, &approved) {
            prepared.close();
            return Ok(code);
        }
    }
    let cancel = CancelState::with_flag(prepared.cancel.clone());
    let signals = {
        let _inside = prepared.runtime.enter();
        Signals::listen()?
    };
    prepared.runtime.spawn(watch_run(signals, cancel.clone()));
    let outcome = runner::run_source(
        &script.name,
        &script.source,
        args.args().to_vec(),
        prepared.session.clone(),
    );
    let simulated = prepared
        .session
        .simulated
        .lock()
        .map(|s| s.len())
        .unwrap_or(0);
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
            match super::render::query(global.query.as_deref(), report) {
                Ok(report) => eprintln!("{report}"),
                Err(e) => {
                    eprintln!("ecsh: {e}");
                    code = code.max(exit::USAGE);
                }
            }
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

/// `run --plan`: plans, prints the plan on stderr (stdout is the script's), asks once with the
/// whole run's cost block, and binds the run to the plan. `Err` is the exit code when the plan
/// failed or was not approved; nothing was created then.
fn approve_plan(
    global: &GlobalArgs,
    prepared: &super::session::Prepared,
    script: &super::plan::Script,
    approved: &crate::plan::bound::Approved,
) -> Result<(), i32> {
    let plan = match super::plan::shadow(&prepared.runtime, &prepared.target, script) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("ecsh: the plan failed, nothing was run: {e:#}");
            return Err(exit::FAILURE);
        }
    };
    eprint!(
        "{}",
        crate::guard::block::escape_terminal(&super::plan::render(&plan))
    );
    if plan.error.is_some() {
        eprintln!("ecsh run --plan: the script fails in the plan, so it was not run");
        return Err(exit::FAILURE);
    }
    if !plan.charges.is_empty() {
        let mut prompter =
            match crate::guard::prompt::from_flags(global.yes, global.max_cost.as_deref()) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("ecsh: {e}");
                    return Err(exit::USAGE);
                }
            };
        let verdict = prompter.confirm(&super::plan::block(&plan));
        if !verdict.approved {
            eprintln!(
                "ecsh run --plan: the plan was not approved, nothing was created: {}",
                verdict.reason
            );
            return Err(if verdict.interrupted {
                exit::INTERRUPTED
            } else {
                exit::FAILURE
            });
        }
        eprintln!("ecsh run --plan: plan approved ({})", verdict.reason);
    }
    approved.bind(&plan);
    Ok(())
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
