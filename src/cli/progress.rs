//! The progress display: a spinner on stderr for every wait that takes more than a moment
//! (an instance booting, a command running), showing what is awaited, the elapsed time and
//! the last status seen, and erased without a trace when the wait ends. Drawn only when stderr is a terminal and `--quiet` is not given;
//! otherwise there is no sink at all, so piped output stays clean.

use crate::host::{Progress, ProgressSink};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A sink that draws on stderr, or `None` when nothing should be drawn.
pub fn sink(quiet: bool) -> Option<ProgressSink> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let spinner = Spinner::default();
    Some(Arc::new(move |event: &Progress| spinner.show(event)))
}

#[derive(Default)]
struct Spinner {
    bar: Mutex<Option<ProgressBar>>,
}

impl Spinner {
    fn show(&self, event: &Progress) {
        let Ok(mut slot) = self.bar.lock() else {
            return;
        };
        match event {
            Progress::Waiting {
                what,
                state,
                elapsed,
            } => {
                let bar = slot.get_or_insert_with(|| start(*elapsed));
                bar.set_message(format!("waiting for {what}: {state}"));
            }
            Progress::Finished { .. } => {
                // Cleared without a trace: a finished wait leaves no line behind (the script's
                // own output and the errors say what happened).
                if let Some(bar) = slot.take() {
                    bar.finish_and_clear();
                }
            }
        }
    }
}

fn start(elapsed: Duration) -> ProgressBar {
    let bar =
        ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_elapsed(elapsed);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
