//! The process's one signal path: SIGINT (Ctrl-C), SIGTERM (CI cancel, `timeout`, systemd) and
//! SIGHUP (a closed terminal) during a run or a REPL session.
//!
//! [`Signals::listen`] is the only place ecsh subscribes to signals; `ecsh run` and the REPL
//! both read from it, so the handler the tests drive through the real binary is the one a user
//! gets. In a run, the first signal asks the run to stop, release what it created and exit with
//! [`Signal::exit_code`] (130, 143, 129); a second one means "now": the CLI exits at once,
//! leaving the journal for `ecsh cleanup`. This module counts and remembers signals; it never
//! exits and never prints (the CLI does both).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// The exit status of a run stopped by Ctrl-C (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

/// A signal that stops a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: `kill`, `timeout`, a CI cancel, systemd.
    Terminate,
    /// SIGHUP: the terminal went away.
    Hangup,
}

impl Signal {
    /// 128 + the signal number, as shells report a process the signal ended.
    pub fn exit_code(self) -> i32 {
        match self {
            Signal::Interrupt => EXIT_INTERRUPTED,
            Signal::Terminate => 143,
            Signal::Hangup => 129,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }

    fn code(self) -> u8 {
        match self {
            Signal::Interrupt => 1,
            Signal::Terminate => 2,
            Signal::Hangup => 3,
        }
    }

    fn from_code(c: u8) -> Option<Signal> {
        match c {
            1 => Some(Signal::Interrupt),
            2 => Some(Signal::Terminate),
            3 => Some(Signal::Hangup),
            _ => None,
        }
    }
}

/// What a signal should do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalAction {
    /// First signal: stop the script, release, then exit with the signal's code.
    Cancel,
    /// Second signal: exit now.
    Abort,
}

/// The cancel state of one run (or one REPL line): the host's cancel flag, the first signal
/// seen and how many came.
#[derive(Debug, Default)]
pub struct CancelState {
    flag: Arc<AtomicBool>,
    signals: AtomicU32,
    first: AtomicU8,
    notify: Notify,
}

impl CancelState {
    pub fn new() -> Arc<CancelState> {
        Arc::new(CancelState::default())
    }

    /// A state that sets `flag` (the host session's cancel flag) when a stop is asked for.
    pub fn with_flag(flag: Arc<AtomicBool>) -> Arc<CancelState> {
        Arc::new(CancelState {
            flag,
            ..CancelState::default()
        })
    }

    /// True once a stop was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// The flag itself, for `Engine::on_progress`.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }

    /// The first signal since the last reset, if any.
    pub fn first_signal(&self) -> Option<Signal> {
        Signal::from_code(self.first.load(Ordering::SeqCst))
    }

    /// Records a signal and says what to do about it.
    pub fn signal(&self, which: Signal) -> SignalAction {
        let _ = self
            .first
            .compare_exchange(0, which.code(), Ordering::SeqCst, Ordering::SeqCst);
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
        self.first.store(0, Ordering::SeqCst);
        self.flag.store(false, Ordering::SeqCst);
    }
}

/// The stream of stopping signals. Create it inside the runtime that will poll it.
pub struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Subscribes to SIGINT, SIGTERM and SIGHUP (from now on they no longer kill the process
    /// by default). Must be called within a tokio runtime.
    pub fn listen() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
                hup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The next signal, or `None` when signals can no longer be received.
    pub async fn next(&mut self) -> Option<Signal> {
        #[cfg(unix)]
        {
            tokio::select! {
                r = self.int.recv() => r.map(|()| Signal::Interrupt),
                r = self.term.recv() => r.map(|()| Signal::Terminate),
                r = self.hup.recv() => r.map(|()| Signal::Hangup),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c()
                .await
                .ok()
                .map(|()| Signal::Interrupt)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_signal_cancels_second_aborts_and_the_first_names_the_code() {
        let c = CancelState::new();
        assert!(!c.is_cancelled());
        assert_eq!(c.signal(Signal::Terminate), SignalAction::Cancel);
        assert!(c.is_cancelled() && c.flag().load(Ordering::SeqCst));
        assert_eq!(c.signal(Signal::Interrupt), SignalAction::Abort);
        assert_eq!(c.first_signal(), Some(Signal::Terminate));
        assert_eq!(c.first_signal().map(Signal::exit_code), Some(143));
        c.reset();
        assert!(!c.is_cancelled());
        assert_eq!(c.first_signal(), None);
        assert_eq!(c.signal(Signal::Hangup), SignalAction::Cancel);
        assert_eq!(Signal::Hangup.exit_code(), 129);
    }

    #[tokio::test]
    async fn waiters_wake_on_cancel() {
        let c = CancelState::new();
        let waiter = {
            let c = c.clone();
            tokio::spawn(async move { c.cancelled().await })
        };
        tokio::task::yield_now().await;
        c.signal(Signal::Interrupt);
        waiter.await.unwrap();
        c.cancelled().await;
    }
}
