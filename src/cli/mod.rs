//! The command line: clap types (their doc comments are the help text) and one function per
//! command. This is the edge of the program: it prints, it picks exit codes, and it turns
//! library errors into messages; nothing below it does either.

mod call;
mod call_params;
mod completions;
mod flags;
mod help;
mod ledger;
mod log;
mod plan;
mod progress;
mod release;
mod render;
mod repl;
mod run;
mod session;
mod sim;
mod whoami;

pub use flags::{Cloud, GlobalArgs, Output};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Exit codes, documented in the README.
pub mod exit {
    /// The command or script finished successfully.
    pub const OK: i32 = 0;
    /// A script raised an uncaught error, or an API call failed.
    pub const FAILURE: i32 = 1;
    /// Bad usage: unknown flag, malformed argument, a script that does not parse.
    pub const USAGE: i32 = 2;
    /// Interrupted by Ctrl-C (128 + SIGINT), after releasing what the run created.
    pub const INTERRUPTED: i32 = 130;
}

/// Drive Alibaba Cloud ECS from Rhai scripts and a REPL, safely.
///
/// With no credentials configured, ecsh runs against an embedded simulator of the ECS and VPC
/// APIs, so everything works on a machine with no account and no internet.
///
/// The options below may also be given after the command they apply to
/// (`ecsh --endpoint URL run f.rhai` = `ecsh run --endpoint URL f.rhai`); `ecsh COMMAND --help`
/// shows which ones a command takes.
#[derive(Debug, Parser)]
#[command(
    name = "ecsh",
    version,
    about,
    long_about,
    max_term_width = 100,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Every shared flag, before the command (with no command: the REPL's flags).
    #[command(flatten)]
    pub top: flags::AllFlags,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands. Each one's Args struct flattens exactly the flag groups of [`flags`] that
/// affect it, so its `--help` offers only those.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a Rhai script: everything after FILE goes to the script as `ARGS` (FILE `-` reads the
    /// script from stdin).
    Run(run::RunArgs),
    /// Show what a script would create and what it would cost, creating nothing: it runs
    /// against a shadow of the target that reads the target's catalogue, prices and account.
    Plan(plan::PlanArgs),
    /// Check a Rhai script without running it: syntax, unknown functions and options, wrong
    /// argument counts and types.
    Check(run::CheckArgs),
    /// Release what crashed or killed runs left behind (all of them, or RUN).
    Cleanup(ledger::CleanupArgs),
    /// List the runs in the journal and what each still holds.
    Ledger(ledger::LedgerArgs),
    /// Make one raw API call and print the response.
    Call(call::CallArgs),
    /// Run the simulator standalone, for the official SDKs and other tools.
    Sim(sim::SimArgs),
    /// Release resources that runs kept (ID…, or everything of --run RUN), after asking.
    Release(release::ReleaseArgs),
    /// Show every credential source in order (used, skipped and why), the region and endpoint,
    /// and where each came from; --check asks STS who the credentials are.
    Whoami(whoami::WhoamiArgs),
    /// Open the REPL (what `ecsh` alone does).
    Repl(repl::ReplArgs),
    /// Print a script function's help, as `help("NAME")` does in the REPL (no NAME: all of them).
    Help(help::HelpArgs),
    /// Print a shell completion script: `source <(ecsh completions bash)`.
    Completions(completions::CompletionsArgs),
}

/// Parses the command line and runs the command; returns the process exit code.
pub fn main() -> i32 {
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let (mut matches, mut cli) = match parse(&argv) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    // `ecsh call … --RegionId x --output json`: clap took `--output json` as parameters (they
    // follow the first one); put call's own flags before the parameters and parse again.
    if let Some(Command::Call(args)) = &cli.command {
        if let Some(reordered) = call_params::flags_first(&argv, &args.params) {
            argv = reordered;
            match parse(&argv) {
                Ok(parsed) => (matches, cli) = parsed,
                Err(code) => return code,
            }
        }
    }
    let name = matches.subcommand_name().unwrap_or("repl");
    for warning in flags::misplaced(&matches, name) {
        eprintln!("ecsh: warning: {warning}");
    }
    let mut global = GlobalArgs::default();
    cli.top.apply(&mut global);
    let mut command = cli
        .command
        .unwrap_or(Command::Repl(repl::ReplArgs::default()));
    command
        .flags()
        .into_iter()
        .for_each(|g| g.apply(&mut global));
    if let Command::Call(args) = &mut command {
        call_params::adopt_output_rows(&mut args.params, &mut global);
    }
    log::init(global.verbose);
    let result = match command {
        Command::Run(args) => run::run(&global, args),
        Command::Plan(args) => plan::run(&global, args),
        Command::Check(args) => run::check(args),
        Command::Cleanup(args) => ledger::cleanup(&global, args),
        Command::Ledger(args) => ledger::list(&global, &args),
        Command::Call(args) => call::run(&global, args),
        Command::Sim(args) => sim::run(args),
        Command::Release(args) => release::run(&global, args),
        Command::Whoami(args) => whoami::run(&global, &args),
        Command::Repl(_) => repl::run(&global),
        Command::Help(args) => help::run(args),
        Command::Completions(args) => completions::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // The cause may quote the cloud or a config file: escaped for the terminal.
            let text = crate::guard::block::escape_terminal(&format!("{e:#}"));
            eprintln!("ecsh: {text}");
            exit::FAILURE
        }
    }
}

impl Command {
    /// The flag groups given after this command, to apply over those given before it.
    fn flags(&self) -> Vec<&dyn flags::Group> {
        match self {
            Command::Run(a) => a.flags.groups(),
            Command::Plan(a) => a.flags.groups(),
            Command::Cleanup(a) => a.flags.groups(),
            Command::Ledger(a) => a.flags.groups(),
            Command::Call(a) => a.flags.groups(),
            Command::Whoami(a) => a.flags.groups(),
            Command::Release(a) => a.flags.groups(),
            Command::Repl(a) => a.flags.groups(),
            Command::Check(_) | Command::Sim(_) | Command::Help(_) | Command::Completions(_) => {
                Vec::new()
            }
        }
    }
}

/// Parses `argv` with clap; `Err` is the exit code, the error (or help) already printed.
fn parse(argv: &[std::ffi::OsString]) -> Result<(clap::ArgMatches, Cli), i32> {
    let matches = Cli::command()
        .try_get_matches_from(argv)
        .map_err(clap_exit)?;
    let cli =
        Cli::from_arg_matches(&matches).map_err(|e| clap_exit(e.format(&mut Cli::command())))?;
    Ok((matches, cli))
}

/// Prints a clap error (or `--help`/`--version`) and picks the exit code.
fn clap_exit(e: clap::Error) -> i32 {
    let _ = e.print();
    if e.use_stderr() {
        exit::USAGE
    } else {
        exit::OK
    }
}

/// A usage error: printed by the caller with exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl GlobalArgs {
    pub fn overrides(&self) -> crate::rpc::Overrides {
        crate::rpc::Overrides {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint: self.endpoint.clone(),
        }
    }

    /// The cost guard the flags ask for: a terminal prompt by default, `--yes`, or a
    /// `--max-cost` budget. An error is a usage error.
    pub fn guard(&self) -> Result<crate::guard::Guard, String> {
        crate::guard::Guard::from_flags(self.yes, self.max_cost.as_deref())
    }

    pub fn target_options(&self) -> anyhow::Result<crate::connect::TargetOptions> {
        Ok(crate::connect::TargetOptions {
            overrides: self.overrides(),
            cloud: self.cloud.map(|c| match c {
                Cloud::Sim => crate::connect::CloudChoice::Sim,
                Cloud::Aliyun => crate::connect::CloudChoice::Aliyun,
            }),
            sim_world: embedded_world_options()?,
            method: crate::rpc::Method::Post,
        })
    }
}

/// The embedded simulator runs 20x faster than the real service: an instance boots in a
/// second or two, so scripts finish quickly yet still show every state transition.
/// `ECSH_SIM_TIME_SCALE` changes the factor (0 = instant).
fn embedded_world_options() -> anyhow::Result<crate::sim::model::WorldOptions> {
    let scale = match std::env::var("ECSH_SIM_TIME_SCALE") {
        Err(_) => EMBEDDED_TIME_SCALE,
        Ok(text) => match text.trim().parse::<f64>() {
            Ok(f) if f.is_finite() && f >= 0.0 => f,
            _ => anyhow::bail!(
                "ECSH_SIM_TIME_SCALE is '{text}', not a number >= 0 (1 = real speed, 0.05 = the \
                 default, 0 = instant); fix or unset it"
            ),
        },
    };
    Ok(world_options(scale, None, sim::SimExec::Simulated))
}

const EMBEDDED_TIME_SCALE: f64 = 0.05;

fn world_options(
    scale: f64,
    steps: Option<u32>,
    exec: sim::SimExec,
) -> crate::sim::model::WorldOptions {
    use crate::sim::clock::TimeMode;
    use crate::sim::model::ExecMode;
    crate::sim::model::WorldOptions {
        time: match steps {
            Some(n) => TimeMode::Steps(n),
            None => TimeMode::Scaled(scale),
        },
        exec: match exec {
            sim::SimExec::Simulated => ExecMode::Simulated,
            sim::SimExec::Local => ExecMode::Local,
        },
    }
}

/// The process's one tokio runtime. Multi-threaded, so that the embedded simulator keeps
/// serving while the script engine blocks the main thread on a call.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))
}

/// Prints an API result on stdout as the flags ask (`--query`, then `--output json|table|
/// cols=…`; by default a table on a terminal and JSON when piped); see [`render`].
fn print_value(global: &GlobalArgs, value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", render::show(global, value.clone())?);
    Ok(())
}
