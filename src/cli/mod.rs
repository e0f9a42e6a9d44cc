//! The command line: clap types (their doc comments are the help text) and one function per
//! command. This is the edge of the program: it prints, it picks exit codes, and it turns
//! library errors into messages; nothing below it does either.

mod call;
mod ledger;
mod progress;
mod release;
mod repl;
mod run;
mod session;
mod sim;
mod whoami;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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
#[derive(Debug, Parser)]
#[command(name = "ecsh", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every command accepts.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Region to use (else ALIBABA_CLOUD_REGION_ID, the profile's region, then cn-hangzhou).
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Profile of ~/.aliyun/config.json to use (else ALIBABA_CLOUD_PROFILE).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send every request to this URL instead of the regional endpoints (else ALIBABA_CLOUD_ENDPOINT).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Which cloud to talk to; by default the simulator when no credentials are configured.
    #[arg(long, global = true, value_enum)]
    pub cloud: Option<Cloud>,
    /// Approve every charge without asking (otherwise each chargeable action shows its cost
    /// and asks on the terminal; with no terminal it is refused).
    #[arg(long, global = true)]
    pub yes: bool,
    /// Approve charges while the run's estimated total stays within AMOUNT (e.g. 5, "5 CNY");
    /// refuse past it, and refuse actions that cannot be priced.
    #[arg(long, global = true, value_name = "AMOUNT")]
    pub max_cost: Option<String>,
    /// Where run journals are kept (default: the XDG state directory, ~/.local/state/ecsh/runs).
    #[arg(long, global = true, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
    /// No progress display (spinners for long waits are drawn only on a terminal anyway).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Lease every pay-as-you-go instance a run creates with AutoReleaseTime this far ahead
    /// (renewed while the run lives, so the cloud releases a dead run's instances), or `off`.
    /// At least 30m; default 1h.
    #[arg(long, global = true, value_name = "DURATION|off")]
    pub auto_release: Option<String>,
    /// Output format; by default a table on a terminal and JSON when piped.
    #[arg(long, global = true, value_enum)]
    pub output: Option<Output>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Cloud {
    /// The embedded simulator (started in-process on a loopback port).
    Sim,
    /// Alibaba Cloud; missing credentials are an error.
    Aliyun,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Json,
    Table,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a Rhai script (ARGS after the file are the script's `ARGS`).
    Run(run::RunArgs),
    /// Parse a Rhai script and report its errors, without running anything.
    Check(run::CheckArgs),
    /// Release what crashed or killed runs left behind (all of them, or RUN).
    Cleanup(ledger::CleanupArgs),
    /// List the runs in the journal and what each still holds.
    Ledger,
    /// Release resources that runs kept (ID…, or everything of --run RUN), after asking.
    Release(release::ReleaseArgs),
    /// Make one raw API call and print the JSON response.
    Call(call::CallArgs),
    /// Run the simulator standalone, for the official SDKs and other tools.
    Sim(sim::SimArgs),
    /// Show every credential source in order (used, skipped and why), the region and endpoint,
    /// and where each came from; --check asks STS who the credentials are.
    Whoami(whoami::WhoamiArgs),
}

/// Parses the command line and runs the command; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    let result = match cli.command {
        Some(Command::Run(args)) => run::run(&cli.global, args),
        Some(Command::Check(args)) => run::check(args),
        Some(Command::Cleanup(args)) => ledger::cleanup(&cli.global, args),
        Some(Command::Ledger) => ledger::list(&cli.global),
        Some(Command::Release(args)) => release::run(&cli.global, args),
        Some(Command::Call(args)) => call::run(&cli.global, args),
        Some(Command::Sim(args)) => sim::run(args),
        Some(Command::Whoami(args)) => whoami::run(&cli.global, &args),
        None => repl::run(&cli.global),
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

/// Prints an API result on stdout: `--output table` as the REPL shows it (lists of objects as
/// aligned tables trimmed to the terminal, objects as indented key/value), `--output json` as
/// pretty JSON; by default a table on a terminal and JSON when piped.
fn print_value(global: &GlobalArgs, value: &serde_json::Value) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let table = match global.output {
        Some(Output::Table) => true,
        Some(Output::Json) => false,
        None => std::io::stdout().is_terminal(),
    };
    if table {
        let shown = rhai::serde::to_dynamic(value)
            .map_err(|e| anyhow::anyhow!("cannot show the result as a table: {e}"))?;
        let width = crate::repl::print::terminal_width();
        println!(
            "{}",
            crate::repl::print::render(&shown, width).unwrap_or_default()
        );
    } else {
        println!("{}", serde_json::to_string_pretty(value)?);
    }
    Ok(())
}
