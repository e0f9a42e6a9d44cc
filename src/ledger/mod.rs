//! The scope ledger: tracks every resource a run creates and releases it when its scope ends,
//! even after a crash.
//!
//! - [`journal`]: the append-only, fsynced JSON-lines file per run (format in `docs/journal.md`).
//! - [`store`]: the storage of journals as a trait: the files, or [`pg`], the team ledger in
//!   PostgreSQL (`--ledger URL`, `docs/ledger-postgres.md`).
//! - [`state`]: folds journal records into what a run holds (shared by live runs and recovery).
//! - [`scope`]: the live [`Ledger`]: intents before send, ids after, the scope stack, `keep`.
//! - [`release`]: the planner: reverse dependency levels, batches, parallel, retry, verify.
//! - [`lease`]: AutoReleaseTime as a lease on every pay-as-you-go instance, renewed while
//!   the run lives, so the cloud releases a dead run's instances by itself.
//! - [`orphans`]: `ecsh cleanup --orphans`: everything tagged `ecsh:run=*`, journal or not.
//! - [`recover`]: `ecsh cleanup` and `ecsh ledger` over the journals of past runs.
//! - [`retained`]: `ecsh release`: releasing what past runs kept, verified and journalled.
//! - [`summary`]: the seed's resource summary printed at the end of every run.
//! - [`cancel`]: the one signal path: SIGINT/SIGTERM/SIGHUP once releases, twice aborts.
//! - [`rhai`]: `keep(id)`, `ledger()` and `scope(|| ...)` for scripts.
//! - [`target`]: the endpoint and account a run's resources live in, so cleanup never acts
//!   on them through another.
//!
//! The ledger reaches the cloud only through the [`Cloud`] trait (implemented by the RPC client);
//! it never prints: callers print the reports through their `Display` impls.

pub mod cancel;
pub mod journal;
pub mod lease;
pub mod orphans;
pub mod pg;
pub mod recover;
pub mod release;
pub mod retained;
pub mod rhai;
pub mod scope;
pub mod state;
pub mod store;
pub mod summary;
pub mod target;

pub use cancel::{CancelState, Signal, SignalAction, Signals, EXIT_INTERRUPTED};
pub use recover::{cli_cleanup, cli_list, CleanupReport, RunListing};
pub use release::{ReleasePolicy, ReleaseReport};
pub use scope::{Intent, Ledger, LedgerOptions, Outcome, ScopeId};
pub use summary::Summary;

use crate::ops::Product;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

/// Request parameters as the wire sees them (already flattened: `InstanceId.1=i-...`).
pub type Params = Vec<(String, String)>;

/// What a cloud call can end in, as far as the ledger cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloudError {
    /// The API answered with an error: the request was definitely refused.
    Api { code: String, message: String },
    /// No answer (transport failure, timeout): the outcome is unknown.
    Transport(String),
    /// The client could not build the request (bad parameters, configuration): nothing was sent.
    NotSent(String),
}

impl CloudError {
    pub fn code(&self) -> &str {
        match self {
            CloudError::Api { code, .. } => code,
            CloudError::Transport(_) => "Transport",
            CloudError::NotSent(_) => "NotSent",
        }
    }
    pub fn message(&self) -> &str {
        match self {
            CloudError::Api { message, .. } => message,
            CloudError::Transport(m) | CloudError::NotSent(m) => m,
        }
    }
}

impl std::fmt::Display for CloudError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

/// A boxed future, so [`Cloud`] stays object-safe without an extra crate.
pub type CallFuture<'a> =
    Pin<Box<dyn Future<Output = Result<serde_json::Value, CloudError>> + Send + 'a>>;

/// The ledger's only way to the cloud: one signed RPC call. The RPC client implements it; the
/// ledger uses it to release, verify and find resources by tag.
pub trait Cloud: Send + Sync {
    fn call<'a>(&'a self, product: Product, action: &'a str, params: Params) -> CallFuture<'a>;

    /// Now on the service's clock, for wall-clock deadlines it enforces (AutoReleaseTime).
    fn server_now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }
}

impl CloudError {
    /// Sorts an RPC client error: an API answer is a definite refusal; no answer (transport,
    /// timeout, a reply that is not an API response) leaves the outcome unknown; a request the
    /// client could not build was never sent.
    pub fn from_call(e: &crate::rpc::CallError) -> CloudError {
        use crate::rpc::CallError as E;
        match e {
            E::Api(api) => CloudError::Api {
                code: api.code.clone(),
                message: api.message.clone(),
            },
            E::Transport { .. } | E::Timeout | E::InvalidResponse { .. } => {
                CloudError::Transport(e.to_string())
            }
            E::Config(_) | E::Params(_) | E::Credentials(_) => CloudError::NotSent(e.to_string()),
        }
    }
}

impl Cloud for crate::rpc::Client {
    fn call<'a>(&'a self, product: Product, action: &'a str, params: Params) -> CallFuture<'a> {
        Box::pin(async move {
            crate::rpc::Client::call(self, product, action, params)
                .await
                .map_err(|e| CloudError::from_call(&e))
        })
    }

    fn server_now(&self) -> time::OffsetDateTime {
        crate::rpc::Client::server_now(self)
    }
}

/// The hourly price of a resource as the guard quoted it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HourlyCost {
    pub amount: f64,
    pub currency: String,
}

/// A run's id: `r-YYYYMMDD-HHMMSS-xxxx` (UTC start time and 4 random hex digits), so ids sort
/// by start time and are unlikely to collide.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(String);

impl RunId {
    pub fn new() -> RunId {
        let now = time::OffsetDateTime::now_utc();
        let fmt = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
        let stamp = now
            .format(&fmt)
            .unwrap_or_else(|_| "00000000-000000".into());
        RunId(format!("r-{stamp}-{:04x}", rand::random::<u16>()))
    }

    /// Parses a run id given on the command line.
    pub fn parse(s: &str) -> Result<RunId, LedgerError> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        let ok = b.len() == 22
            && s.starts_with("r-")
            && digits(2..10)
            && b[10] == b'-'
            && digits(11..17)
            && b[17] == b'-'
            && b[18..].iter().all(|c| c.is_ascii_hexdigit());
        if ok {
            Ok(RunId(s.to_string()))
        } else {
            Err(LedgerError::BadRunId(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for RunId {
    fn default() -> Self {
        RunId::new()
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Errors of the ledger itself (not of the cloud calls it makes, which are reported per
/// resource in [`ReleaseReport`]).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
    #[error("journal {} is corrupt at line {line}: {why}; move it aside and run `ecsh cleanup` for the other runs", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        why: String,
    },
    #[error("run journal {} is locked: that run is still in progress; stop it (Ctrl-C releases what it created) or wait for it to end", path.display())]
    InProgress { path: PathBuf },
    #[error("no run `{0}` in the journal directory; `ecsh ledger` lists the runs")]
    NoSuchRun(String),
    #[error(
        "`{0}` is not a run id (expected r-YYYYMMDD-HHMMSS-xxxx, as `ecsh ledger` lists them)"
    )]
    BadRunId(String),
    #[error("no state directory on this platform for run journals; pass --journal-dir DIR")]
    NoJournalDir,
    #[error("`{0}` was not created by this run, so the run would never release it; keep() only applies to resources the run created")]
    NotTracked(String),
    #[error("run {run} was not made on this target: {why}")]
    OtherTarget { run: String, why: String },
    #[error("the ledger refused to send {action}: {why}")]
    Refused { action: String, why: String },
    #[error("--ledger: {0}")]
    BadLedger(String),
    #[error("the team ledger {ledger} cannot be reached ({why}); nothing that creates resources is sent while it is away (reads go on); check that the database is up, or run without --ledger/ECSH_LEDGER")]
    Unreachable { ledger: String, why: String },
    #[error("the team ledger {ledger} could not {what}: {why}")]
    Database {
        ledger: String,
        what: &'static str,
        why: String,
    },
    #[error("run {run} is held by {by}: left alone; wait for it to end (`ecsh cleanup {run} --force` takes it over)")]
    HeldElsewhere { run: String, by: String },
}

impl LedgerError {
    fn io(path: &Path, what: &'static str, source: std::io::Error) -> LedgerError {
        LedgerError::Io {
            path: path.to_path_buf(),
            what,
            source,
        }
    }
}

/// Starts the ledger of a run on `client`'s target: the CLI's and REPL's one call.
/// `journal_dir` is `--journal-dir` (the default directory when `None`); `label` names the
/// run (`script deploy.rhai`, `repl`); `target` is shown by `ecsh ledger` (`sim`, `aliyun`);
/// `store` is the team ledger (`--ledger`), which then takes the place of `journal_dir`.
pub fn start_run(
    client: &crate::rpc::Client,
    journal_dir: Option<&Path>,
    label: &str,
    target: &str,
    lease: lease::LeasePolicy,
    store: Option<store::Journals>,
) -> Result<Ledger, LedgerError> {
    start_run_with(
        client,
        journal_dir,
        label,
        target,
        lease,
        store,
        ReleasePolicy::default(),
    )
}

/// [`start_run`] with the release planner's `policy` (the host's expected durations per kind:
/// `host::pace::Pace::release_policy`).
pub fn start_run_with(
    client: &crate::rpc::Client,
    journal_dir: Option<&Path>,
    label: &str,
    target: &str,
    lease: lease::LeasePolicy,
    store: Option<store::Journals>,
    policy: ReleasePolicy,
) -> Result<Ledger, LedgerError> {
    let mut opts = LedgerOptions::for_run(
        journal_dir,
        client.region(),
        label,
        Some(target.to_string()),
    )?;
    opts.home = Some(target::RunTarget::of(client));
    opts.lease = lease;
    opts.store = store;
    opts.policy = policy;
    Ledger::start(std::sync::Arc::new(client.clone()), opts)
}

/// Now as an RFC 3339 UTC timestamp, for the journal.
/// Now, as RFC 3339 UTC to the second (`2026-12-01T09:53:17Z`): what people read in `ecsh
/// ledger` and the journal; sub-second digits only made the lines longer.
pub(crate) fn now_rfc3339() -> String {
    crate::rpc::format_timestamp(time::OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_parse_back_and_reject_junk() {
        let id = RunId::new();
        assert_eq!(RunId::parse(id.as_str()).unwrap(), id);
        assert!(RunId::parse("r-20261129-223501-ab12").is_ok());
        for bad in [
            "",
            "r-2026",
            "x-20261129-223501-ab12",
            "r-20261129-223501-zz12",
            "../etc",
        ] {
            assert!(RunId::parse(bad).is_err(), "{bad}");
        }
    }
}
