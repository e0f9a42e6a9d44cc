//! Ctrl-C and SIGTERM during a run: the first signal asks the run to stop, release what it
//! created and exit with [`EXIT_INTERRUPTED`]; a second exits at once, leaving the journal for
//! `ecsh cleanup`.
//!
//! This module only keeps the flag and counts signals. The host honours the flag (its
//! `on_progress` callback and its blocking calls), the runner releases and exits.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// The exit status of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

/// What a signal should do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalAction {
    /// First signal: stop the script, release, then exit 130.
    Cancel,
    /// Second signal: exit now.
    Abort,
}

/// The cancel state of one run (or one REPL line).
#[derive(Debug, Default)]
pub struct CancelState {
    flag: Arc<AtomicBool>,
    signals: AtomicU32,
    notify: Notify,
}

impl CancelState {
    pub fn new() -> Arc<CancelState> {
        Arc::new(CancelState::default())
    }

    /// True once a stop was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// The flag itself, for `Engine::on_progress`.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }

    /// Records a signal and says what to do about it.
    pub fn signal(&self) -> SignalAction {
        let n = self.signals.fetch_add(1, Ordering::SeqCst) + 1;
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
        if n >= 2 {
            SignalAction::Abort
        } else {
            SignalAction::Cancel
        }
    }

    /// Resolves once a stop is asked for: `select!` long calls against it.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }

    /// Forgets past signals (the REPL, after an interrupted line was dealt with).
    pub fn reset(&self) {
        self.signals.store(0, Ordering::SeqCst);
        self.flag.store(false, Ordering::SeqCst);
    }

    /// Listens for Ctrl-C and SIGTERM on `rt`: the first cancels, the second exits the process
    /// at once with [`EXIT_INTERRUPTED`] (the journal stays for `ecsh cleanup`).
    pub fn install(self: &Arc<Self>, rt: &tokio::runtime::Handle) -> std::io::Result<()> {
        let me = self.clone();
        let _guard = rt.enter();
        #[cfg(unix)]
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        rt.spawn(async move {
            loop {
                #[cfg(unix)]
                let got = tokio::select! {
                    r = tokio::signal::ctrl_c() => r.is_ok(),
                    r = term.recv() => r.is_some(),
                };
                #[cfg(not(unix))]
                let got = tokio::signal::ctrl_c().await.is_ok();
                if !got {
                    return;
                }
                if me.signal() == SignalAction::Abort {
                    std::process::exit(EXIT_INTERRUPTED);
                }
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_signal_cancels_second_aborts() {
        let c = CancelState::new();
        assert!(!c.is_cancelled());
        assert_eq!(c.signal(), SignalAction::Cancel);
        assert!(c.is_cancelled() && c.flag().load(Ordering::SeqCst));
        assert_eq!(c.signal(), SignalAction::Abort);
        c.reset();
        assert!(!c.is_cancelled());
        assert_eq!(c.signal(), SignalAction::Cancel);
    }

    #[tokio::test]
    async fn waiters_wake_on_cancel() {
        let c = CancelState::new();
        let waiter = {
            let c = c.clone();
            tokio::spawn(async move { c.cancelled().await })
        };
        tokio::task::yield_now().await;
        c.signal();
        waiter.await.unwrap();
        c.cancelled().await;
    }
}
