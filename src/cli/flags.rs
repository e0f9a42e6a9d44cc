//! The shared flags, in groups by what they affect, and the rule that lets each appear both
//! before the command and after it — but only on the commands it affects.
//!
//! Each group is a clap `Args` struct. A command's Args struct flattens the groups that affect
//! it (so its `--help` offers exactly those), and [`AllFlags`] flattens every group at the top
//! level, where `ecsh --endpoint URL run f.rhai` puts them. After parsing, the top-level values
//! are applied first and the command's own over them ([`Group::apply`]), giving the one
//! [`GlobalArgs`] every command reads. A top-level flag that the command does not take is
//! ignored with a warning naming the commands that do ([`misplaced`]); clap's own introspection
//! (`Command::get_arguments`) answers which those are, so nothing is parsed by hand.
//!
//! To add a shared flag: add the field to its group (and to `GlobalArgs` and the group's
//! `apply`); to give a command a group, flatten the group into that command's flags struct.

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Args, CommandFactory, ValueEnum};
use std::path::PathBuf;

/// The effective shared settings of one invocation: the top-level flags with the command's own
/// applied over them. Commands read this, never the groups.
#[derive(Debug, Clone, Default)]
pub struct GlobalArgs {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint: Option<String>,
    pub cloud: Option<Cloud>,
    pub yes: bool,
    pub max_cost: Option<String>,
    pub journal_dir: Option<PathBuf>,
    /// `--ledger URL` / `ECSH_LEDGER`: the team ledger in PostgreSQL (its password inside).
    pub ledger: Option<crate::secret::Secret>,
    /// `--ledger-lease DURATION`: how long a run of the team ledger lives without a heartbeat.
    pub ledger_lease: Option<String>,
    pub quiet: bool,
    /// `--auto-release DURATION|off`: the AutoReleaseTime lease of the instances a run creates.
    pub auto_release: Option<String>,
    pub output: Option<Output>,
    /// A JMESPath expression applied to a result before it is printed.
    pub query: Option<String>,
    /// `-v` once: one line per API call on stderr; twice: the client's debug events too.
    pub verbose: u8,
}

/// One group of shared flags: it writes what was given into the effective settings.
pub trait Group {
    fn apply(&self, into: &mut GlobalArgs);
}

/// Which account and endpoint the command talks to.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Target")]
pub struct TargetFlags {
    /// Region to use (else ALIBABA_CLOUD_REGION_ID, the profile's region, then cn-hangzhou).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Profile of ~/.aliyun/config.json to use (else ALIBABA_CLOUD_PROFILE).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send every request to this URL instead of the regional endpoints (else ALIBABA_CLOUD_ENDPOINT).
    #[arg(long, value_name = "URL", value_hint = clap::ValueHint::Url)]
    pub endpoint: Option<String>,
    /// Which cloud to talk to; by default the simulator when no credentials are configured.
    #[arg(long, value_enum)]
    pub cloud: Option<Cloud>,
}

impl Group for TargetFlags {
    fn apply(&self, into: &mut GlobalArgs) {
        set(&mut into.region, &self.region);
        set(&mut into.profile, &self.profile);
        set(&mut into.endpoint, &self.endpoint);
        set(&mut into.cloud, &self.cloud);
    }
}

/// How charges are approved.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Cost guard")]
pub struct GuardFlags {
    /// Approve every charge without asking (otherwise each chargeable action shows its cost
    /// and asks on the terminal; with no terminal it is refused).
    #[arg(long)]
    pub yes: bool,
    /// Approve charges while the run's estimated total stays within AMOUNT (e.g. 5, "5 CNY");
    /// refuse past it, and refuse actions that cannot be priced.
    #[arg(long, value_name = "AMOUNT")]
    pub max_cost: Option<String>,
}

impl Group for GuardFlags {
    fn apply(&self, into: &mut GlobalArgs) {
        into.yes |= self.yes;
        set(&mut into.max_cost, &self.max_cost);
    }
}

/// Where run journals live.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Journal")]
pub struct JournalFlags {
    /// Where run journals are kept (default: the XDG state directory, ~/.local/state/ecsh/runs).
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub journal_dir: Option<PathBuf>,
    /// Keep run journals in this team ledger, a PostgreSQL database, instead of files: every
    /// machine then sees (and can clean up) every run, e.g.
    /// postgres://USER:PASSWORD@HOST:5432/DB?sslmode=require (else ECSH_LEDGER). The password
    /// is never shown.
    #[arg(
        long,
        value_name = "URL",
        env = "ECSH_LEDGER",
        hide_env_values = true,
        value_parser = secret_url,
        conflicts_with = "journal_dir"
    )]
    pub ledger: Option<crate::secret::Secret>,
    /// With --ledger: a run whose heartbeat is older than this is crashed on every machine
    /// (e.g. 30s, 2m; default 60s; else ECSH_LEDGER_LEASE).
    #[arg(long, value_name = "DURATION", env = "ECSH_LEDGER_LEASE")]
    pub ledger_lease: Option<String>,
}

/// `--ledger URL`: read straight into a [`crate::secret::Secret`], so no `{:?}` of the flags
/// can show its password.
fn secret_url(text: &str) -> Result<crate::secret::Secret, String> {
    Ok(crate::secret::Secret::new(text))
}

impl Group for JournalFlags {
    fn apply(&self, into: &mut GlobalArgs) {
        set(&mut into.journal_dir, &self.journal_dir);
        set(&mut into.ledger, &self.ledger);
        set(&mut into.ledger_lease, &self.ledger_lease);
    }
}

/// The server-side safety net: the lease on the instances a run creates.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Journal")]
pub struct LeaseFlags {
    /// Lease every pay-as-you-go instance a run creates with AutoReleaseTime this far ahead
    /// (renewed while the run lives, so the cloud releases a dead run's instances), or `off`.
    /// At least 30m; default 1h.
    #[arg(long, value_name = "DURATION|off")]
    pub auto_release: Option<String>,
}

impl Group for LeaseFlags {
    fn apply(&self, into: &mut GlobalArgs) {
        set(&mut into.auto_release, &self.auto_release);
    }
}

/// The progress display of long waits.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Display")]
pub struct ProgressFlags {
    /// No progress display (spinners for long waits are drawn only on a terminal anyway).
    #[arg(long, short)]
    pub quiet: bool,
}

impl Group for ProgressFlags {
    fn apply(&self, into: &mut GlobalArgs) {
        into.quiet |= self.quiet;
    }
}

/// How a result is printed.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Display")]
pub struct OutputFlags {
    /// Output format: json, table, or aliyun-cli's `cols=A,B [rows=PATH]` table of chosen
    /// columns (rows: where the list is, e.g. Instances.Instance[]). By default a table on a
    /// terminal and JSON when piped.
    #[arg(long, value_name = "FORMAT", value_parser = Output::parse)]
    pub output: Option<Output>,
    /// Keep only what this JMESPath expression selects, e.g. 'Regions.Region[].RegionId'.
    #[arg(long, value_name = "EXPR")]
    pub query: Option<String>,
}

impl Group for OutputFlags {
    fn apply(&self, into: &mut GlobalArgs) {
        set(&mut into.output, &self.output);
        set(&mut into.query, &self.query);
    }
}

/// The API call log.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Display")]
pub struct LogFlags {
    /// One line per API call on stderr (product, action, region, HTTP status, duration, request
    /// id, retries); -vv adds the client's debug events. ECSH_LOG=info does the same.
    #[arg(long, short, action = ArgAction::Count)]
    pub verbose: u8,
}

impl Group for LogFlags {
    fn apply(&self, into: &mut GlobalArgs) {
        into.verbose = into.verbose.max(self.verbose);
    }
}

/// Every group: the flags accepted before the command.
#[derive(Debug, Args, Clone, Default)]
pub struct AllFlags {
    #[command(flatten)]
    pub target: TargetFlags,
    #[command(flatten)]
    pub guard: GuardFlags,
    #[command(flatten)]
    pub journal: JournalFlags,
    #[command(flatten)]
    pub lease: LeaseFlags,
    #[command(flatten)]
    pub progress: ProgressFlags,
    #[command(flatten)]
    pub output: OutputFlags,
    #[command(flatten)]
    pub log: LogFlags,
}

impl AllFlags {
    pub fn apply(&self, into: &mut GlobalArgs) {
        let groups: [&dyn Group; 7] = [
            &self.target,
            &self.guard,
            &self.journal,
            &self.lease,
            &self.progress,
            &self.output,
            &self.log,
        ];
        for g in groups {
            g.apply(into);
        }
    }
}

/// Declares the flags struct of a command from the groups that affect it:
/// `flag_set!(RunFlags { target: TargetFlags, guard: GuardFlags })`. Flatten the struct into
/// the command's Args as `#[command(flatten)] pub flags: RunFlags`.
macro_rules! flag_set {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $group:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, clap::Args, Clone, Default)]
        pub struct $name {
            $(
                #[command(flatten)]
                pub $field: $group,
            )*
        }

        impl $name {
            /// The groups, to apply over the top-level flags.
            pub fn groups(&self) -> Vec<&dyn $crate::cli::flags::Group> {
                vec![$(&self.$field),*]
            }
        }
    };
}
pub(crate) use flag_set;

fn set<T: Clone>(into: &mut Option<T>, given: &Option<T>) {
    if given.is_some() {
        into.clone_from(given);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Cloud {
    /// The embedded simulator (started in-process on a loopback port).
    Sim,
    /// Alibaba Cloud; missing credentials are an error.
    Aliyun,
}

/// `--output`: JSON, the readable table, or a table of chosen columns (aliyun-cli's form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Json,
    Table,
    Columns(Columns),
}

/// `cols=A,B rows=PATH`: the columns to show, and where the list of rows is in the result
/// (a JMESPath expression; by default the first list found).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Columns {
    pub cols: Vec<String>,
    pub rows: Option<String>,
}

impl Output {
    /// Parses `json`, `table`, `cols=A,B`, `rows=PATH` or both (`cols=A,B rows=PATH`).
    pub fn parse(text: &str) -> Result<Output, String> {
        match text.trim() {
            "json" => return Ok(Output::Json),
            "table" => return Ok(Output::Table),
            _ => {}
        }
        let mut columns = Columns::default();
        for word in text.split_whitespace() {
            columns.add(word)?;
        }
        if columns.cols.is_empty() {
            return Err(format!(
                "'{text}' is not an output format: use json, table, or cols=A,B [rows=PATH] \
                 (e.g. --output 'cols=InstanceId,Status rows=Instances.Instance[]')"
            ));
        }
        Ok(Output::Columns(columns))
    }
}

impl Columns {
    /// Takes one `cols=…` or `rows=…` word.
    pub fn add(&mut self, word: &str) -> Result<(), String> {
        match word.split_once('=') {
            Some(("cols", list)) => {
                self.cols = list
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect();
                if self.cols.is_empty() {
                    return Err("cols= names no column; write e.g. cols=InstanceId,Status".into());
                }
                Ok(())
            }
            Some(("rows", path)) if !path.is_empty() => {
                self.rows = Some(path.to_string());
                Ok(())
            }
            _ => Err(format!(
                "'{word}' is not part of an output format: use json, table, or cols=A,B \
                 [rows=PATH]"
            )),
        }
    }
}

/// The top-level flags that the command does not take, each as a warning naming the commands
/// that do: `ecsh --yes sim` must not look as if `--yes` did something. Warned about and
/// ignored rather than refused, so one prefix of shared flags (an alias, a CI variable) still
/// serves every command. `command` is the subcommand's name (`repl` for none).
pub fn misplaced(matches: &ArgMatches, command: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    // Building the whole command tree again costs more than the rest of parsing: only when
    // a top-level flag was typed at all (`ecsh run f.rhai` has none).
    let typed = |id: &clap::Id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine);
    if !matches.ids().any(typed) {
        return warnings;
    }
    let cli = super::Cli::command();
    let Some(sub) = cli.find_subcommand(command) else {
        return warnings;
    };
    for arg in cli.get_arguments() {
        let id = arg.get_id();
        if matches.value_source(id.as_str()) != Some(ValueSource::CommandLine) {
            continue;
        }
        if sub.get_arguments().any(|a| a.get_id() == id) {
            continue;
        }
        let takers: Vec<String> = cli
            .get_subcommands()
            .filter(|c| c.get_arguments().any(|a| a.get_id() == id))
            .map(|c| format!("ecsh {}", c.get_name()))
            .collect();
        let flag = arg
            .get_long()
            .map_or_else(|| id.to_string(), |l| format!("--{l}"));
        let shown = if command == "repl" {
            "the REPL (ecsh with no command)".to_string()
        } else {
            format!("`ecsh {command}`")
        };
        warnings.push(format!(
            "{flag} does not apply to {shown} and is ignored; it is a flag of {}",
            takers.join(", ")
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_formats_parse_and_bad_ones_teach() {
        assert_eq!(Output::parse("json"), Ok(Output::Json));
        assert_eq!(
            Output::parse("cols=InstanceId,Status rows=Instances.Instance[]"),
            Ok(Output::Columns(Columns {
                cols: vec!["InstanceId".into(), "Status".into()],
                rows: Some("Instances.Instance[]".into()),
            }))
        );
        let e = Output::parse("yaml").unwrap_err();
        assert!(e.contains("json, table, or cols=A,B"), "{e}");
        assert!(
            Output::parse("rows=X").is_err(),
            "rows alone names no column"
        );
    }
}
