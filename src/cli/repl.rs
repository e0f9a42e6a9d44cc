//! `ecsh` alone: the REPL on the chosen target. The session is one ledger scope (label
//! `repl`). Signals come from the one listener in `ledger::cancel`: SIGINT cancels the entry
//! running (not the session); SIGTERM and SIGHUP end the session like the first signal ends a
//! run: stop, release what the session holds, print the summary, exit 143 / 129 (a second
//! signal meanwhile exits at once, leaving the journal for `ecsh cleanup`).

use super::run::say;
use super::GlobalArgs;
use crate::ledger::{CancelState, Ledger, Signal, SignalAction, Signals};
use std::sync::Arc;

super::flags::flag_set!(
    /// The shared flags the REPL takes.
    ReplFlags {
        target: super::flags::TargetFlags,
        guard: super::flags::GuardFlags,
        journal: super::flags::JournalFlags,
        lease: super::flags::LeaseFlags,
        progress: super::flags::ProgressFlags,
        log: super::flags::LogFlags,
    }
);

#[derive(Debug, clap::Args, Default)]
pub struct ReplArgs {
    #[command(flatten)]
    pub flags: ReplFlags,
}

pub fn run(global: &GlobalArgs) -> anyhow::Result<i32> {
    let prepared = match super::session::prepare(global, "repl")? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let cancel = CancelState::with_flag(prepared.cancel.clone());
    let signals = {
        let _inside = prepared.runtime.enter();
        Signals::listen()?
    };
    prepared
        .runtime
        .spawn(watch_session(signals, cancel, prepared.ledger.clone()));
    let code = crate::repl::run(prepared.session.clone());
    prepared.close();
    code
}

async fn watch_session(mut signals: Signals, cancel: Arc<CancelState>, ledger: Ledger) {
    while let Some(signal) = signals.next().await {
        if signal == Signal::Interrupt {
            // Ctrl-C while an entry runs (while a line is edited it is a key, not a signal).
            cancel
                .flag()
                .store(true, std::sync::atomic::Ordering::SeqCst);
            continue;
        }
        if cancel.signal(signal) == SignalAction::Abort {
            std::process::exit(signal.exit_code());
        }
        say(&format!(
            "ecsh: {}: ending the session and releasing what it holds (again to exit at once)",
            signal.name()
        ));
        // The release runs on a blocking thread: its future is not `Send` (the gateway's
        // calls borrow the ledger across awaits), so it cannot be a task of its own.
        let (l, handle) = (ledger.clone(), tokio::runtime::Handle::current());
        let release = tokio::task::spawn_blocking(move || handle.block_on(l.finish()));
        tokio::select! {
            finished = release => match finished {
                Ok(Ok((_, summary))) => say(summary.to_string().trim_end()),
                Ok(Err(e)) => say(&format!("ecsh: releasing what the session created failed: {e}")),
                Err(e) => say(&format!("ecsh: releasing what the session created failed: {e}")),
            },
            Some(again) = signals.next() => say(&format!(
                "ecsh: {}: exiting now; what the session still holds stays in its journal for `ecsh cleanup`",
                again.name()
            )),
        }
        std::process::exit(signal.exit_code());
    }
}
