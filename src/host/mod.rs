//! The Rhai host: a user who knows the seed's Python writes the same automation in Rhai.
//!
//! - [`functions`]: THE table of seed functions (name, options, action, docs) and their handlers.
//! - [`options`]: option maps checked against the table (typos, types, required, defaults).
//! - [`gateway`]: the one door to the cloud; guard and ledger hook in there.
//! - [`wait`] / [`paging`]: adaptive polling and auto-paging, host primitives; [`pace`] and
//!   [`pace_file`]: how long transitions take, guessed, learned and remembered across runs.
//! - [`convert`] / [`errors`]: JSON ⇄ Rhai values; errors as catchable maps.
//! - [`engine`]: builds the locked-down engine with the functions and the Rhai stdlib.
//! - [`docs`]: the offline `doc_search` index.
//! - [`runner`]: run or check a script file, and render its errors with file:line:column.
//!
//! Nothing here prints to the terminal: script output goes to the session's [`Output`].

pub mod assistant;
pub mod bind;
pub mod cleanup;
pub mod convert;
pub mod docs;
pub mod engine;
pub mod errors;
pub mod functions;
pub mod gateway;
pub mod handlers;
pub mod host_fn;
pub mod keep;
pub mod keys;
pub mod lint;
pub mod options;
pub mod pace;
pub mod pace_file;
pub mod paging;
pub mod runner;
pub mod security_groups;
pub mod spot;
pub mod storage;
pub mod tags;
pub mod wait;

use crate::rpc::Client;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

pub use engine::EngineLimits;
pub use errors::HostError;
pub use gateway::Gateway;
pub use wait::WaitPolicy;

/// A text sink (the CLI passes stdout / stderr writers; tests capture).
pub type Sink = Arc<dyn Fn(&str) + Send + Sync>;

/// Reports long waits as they go: the CLI draws a spinner on a terminal from these events;
/// elsewhere it is `None` and nothing is drawn.
pub type ProgressSink = Arc<dyn Fn(&Progress) + Send + Sync>;

/// One step of a wait.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// Still waiting for `what`; `state` is what the last poll saw.
    Waiting {
        what: String,
        state: String,
        elapsed: std::time::Duration,
    },
    /// The wait for `what` ended (`ok` false: it failed, timed out or was interrupted).
    Finished {
        what: String,
        ok: bool,
        elapsed: std::time::Duration,
    },
}

/// Lines collected by [`Output::capture`].
pub type Captured = Arc<Mutex<Vec<String>>>;

/// Where a script's output goes: `print` to `print`; `debug` and host warnings (cleanup errors
/// that do not raise) to `warn`. Each call carries one line, without its newline.
#[derive(Clone)]
pub struct Output {
    pub print: Sink,
    pub warn: Sink,
    pub progress: Option<ProgressSink>,
}

impl Output {
    pub fn new(print: Sink, warn: Sink) -> Output {
        Output {
            print,
            warn,
            progress: None,
        }
    }

    /// Output collected in memory: (output, printed lines, warnings).
    pub fn capture() -> (Output, Captured, Captured) {
        let printed = Arc::new(Mutex::new(Vec::new()));
        let warned = Arc::new(Mutex::new(Vec::new()));
        let (p, w) = (printed.clone(), warned.clone());
        let out = Output::new(
            Arc::new(move |s| p.lock().map(|mut v| v.push(s.to_string())).unwrap_or(())),
            Arc::new(move |s| w.lock().map(|mut v| v.push(s.to_string())).unwrap_or(())),
        );
        (out, printed, warned)
    }
}

/// Everything a script run needs from the caller.
#[derive(Clone)]
pub struct Session {
    pub client: Client,
    /// The default region of every function (`region` option).
    pub region: String,
    /// A handle to a multi-thread runtime; the script runs on the calling (non-runtime) thread.
    pub runtime: tokio::runtime::Handle,
    pub output: Output,
    /// Set it (e.g. on Ctrl-C) to stop the script, its calls and its waits. The host never
    /// clears it: a REPL resets it before the next input.
    pub cancel: Arc<AtomicBool>,
    pub wait: WaitPolicy,
    pub limits: EngineLimits,
    /// Policies and cost approval for every call; chosen by the CLI/REPL, never by the script.
    pub guard: Arc<crate::guard::Guard>,
    /// The run's scope ledger; `None` tracks nothing (and `keep`/`ledger`/`scope` are absent).
    pub ledger: Option<crate::ledger::Ledger>,
    /// The commands a wait saw finish without having run (a simulator's `Simulated: true`),
    /// as `invoke id/instance id`, for the run's summary.
    pub simulated: SimulatedCommands,
    /// Told the line of the user's script as it steps (`ecsh plan` names the line that causes
    /// each entry); `None` (every real run) registers no debugger, so costs nothing.
    pub on_line: Option<LineSink>,
    /// The waits' guesses (remembered or from a table) and what they learn; shared by clones,
    /// so the caller can remember what the run learned (`pace_file`). Empty by default.
    pub pace: pace::Pace,
}

/// Receives the script's current line (see [`Session::on_line`]).
pub type LineSink = Arc<dyn Fn(usize) + Send + Sync>;

/// Shared set of `invoke id/instance id` of commands that were simulated, not executed.
pub type SimulatedCommands = Arc<Mutex<std::collections::BTreeSet<String>>>;

impl Session {
    /// A session with the default wait policy and engine limits.
    pub fn new(
        client: Client,
        region: impl Into<String>,
        runtime: tokio::runtime::Handle,
        output: Output,
        cancel: Arc<AtomicBool>,
        guard: Arc<crate::guard::Guard>,
    ) -> Session {
        Session {
            client,
            region: region.into(),
            runtime,
            output,
            cancel,
            wait: WaitPolicy::default(),
            limits: EngineLimits::default(),
            guard,
            ledger: None,
            simulated: SimulatedCommands::default(),
            on_line: None,
            pace: pace::Pace::default(),
        }
    }
}

/// What host functions share during one run.
pub struct Host {
    pub gateway: Gateway,
    pub region: String,
    pub wait: WaitPolicy,
    /// How long transitions take: the guess of the next wait, and what this run learns.
    pub pace: pace::Pace,
    pub output: Output,
}

impl Host {
    pub fn new(session: &Session) -> Host {
        Host {
            gateway: Gateway::new(
                session.client.clone(),
                session.runtime.clone(),
                session.cancel.clone(),
                session.guard.clone(),
            )
            .with_ledger(session.ledger.clone())
            .with_progress(session.output.progress.clone())
            .with_simulated(session.simulated.clone()),
            region: session.region.clone(),
            wait: session.wait,
            pace: session.pace.clone(),
            output: session.output.clone(),
        }
    }
}
