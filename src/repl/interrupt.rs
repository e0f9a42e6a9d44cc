//! Ctrl-C while an entry runs: it sets the host's cancel flag (which cancels the running call or
//! wait, and stops the script), instead of killing the session.
//!
//! While rustyline reads a line the terminal is in raw mode and Ctrl-C arrives as a key
//! (`ReadlineError::Interrupted`); at every other moment of the session (an entry compiling or
//! running, a call waiting) it arrives as SIGINT. The REPL installs this handler for the whole
//! session ([`arm`]) and the previous disposition comes back when the guard drops. The handler
//! only stores to atomics, which is async-signal-safe.

use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// One armed handler at a time in the process (sessions on other threads, as in tests, wait),
/// so a guard never restores a disposition that another guard installed.
static ARM_LOCK: Mutex<()> = Mutex::new(());

/// The flag the handler sets; owned by the [`Armed`] guard that installed it.
static FLAG: AtomicPtr<AtomicBool> = AtomicPtr::new(std::ptr::null_mut());

extern "C" fn on_sigint(_: libc::c_int) {
    let flag = FLAG.load(Ordering::SeqCst);
    if !flag.is_null() {
        // SAFETY: FLAG points into an Arc kept alive by the Armed guard until it has restored
        // the previous handler and cleared FLAG.
        unsafe { (*flag).store(true, Ordering::SeqCst) };
    }
}

/// While alive, SIGINT sets `flag`.
pub struct Armed {
    /// Keeps the flag alive while FLAG points into it.
    _flag: Arc<AtomicBool>,
    previous: libc::sigaction,
    installed: bool,
    _exclusive: MutexGuard<'static, ()>,
}

/// Routes SIGINT to `flag` until the returned guard is dropped.
pub fn arm(flag: Arc<AtomicBool>) -> Armed {
    let exclusive = ARM_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    FLAG.store(Arc::as_ptr(&flag).cast_mut(), Ordering::SeqCst);
    // SAFETY: sigaction with a zeroed struct, a valid handler and an empty mask; `previous`
    // receives the old disposition for restoring.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        let mut previous: libc::sigaction = std::mem::zeroed();
        let installed = libc::sigaction(libc::SIGINT, &action, &mut previous) == 0;
        Armed {
            _flag: flag,
            previous,
            installed,
            _exclusive: exclusive,
        }
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        if self.installed {
            // SAFETY: restores the disposition saved by `arm`.
            unsafe { libc::sigaction(libc::SIGINT, &self.previous, std::ptr::null_mut()) };
        }
        FLAG.store(std::ptr::null_mut(), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigint_sets_the_flag_while_armed() {
        let flag = Arc::new(AtomicBool::new(false));
        {
            let _armed = arm(flag.clone());
            // SAFETY: raising a signal whose handler we just installed.
            unsafe { libc::raise(libc::SIGINT) };
            assert!(flag.load(Ordering::SeqCst), "the handler set the flag");
        }
        assert!(FLAG.load(Ordering::SeqCst).is_null(), "disarmed");
    }
}
