//! `ecsh cleanup` and `ecsh ledger`: finishing the job of runs that crashed or were killed, and
//! listing what every run still holds.
//!
//! Cleanup reads a run's journal, takes its lock (a run still in progress is left alone),
//! looks up by the run tag whatever an unanswered creating request may have made, releases
//! everything held and not kept, and marks the run ended once nothing is left. Everything it
//! learns goes into the same journal, so an interrupted cleanup can simply be run again.
//!
//! No printing: the CLI prints the reports through their `Display` impls.

use super::journal::{self, EndedBy, Journal, Record, RUN_TAG_KEY};
use super::release::{self, Failure, ReleaseEvent, ReleasePolicy, Target};
use super::scope::{targets_from, unresolved_from};
use super::state::{RunState, Tracked};
use super::summary::cleanup_command;
use super::{now_rfc3339, Cloud, LedgerError, RunId};
use crate::ops::ResourceKind;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What `ecsh cleanup` did.
#[derive(Debug, Default)]
pub struct CleanupReport {
    pub runs: Vec<RunCleanup>,
    /// The journal directory when it is not the default, for retry commands.
    pub journal_dir: Option<PathBuf>,
}

impl CleanupReport {
    /// True when everything cleanup tried to release is gone.
    pub fn is_clean(&self) -> bool {
        self.runs
            .iter()
            .all(|r| r.failed.is_empty() && r.skipped.is_none())
    }
}

/// What cleanup did to one run.
#[derive(Debug, Default)]
pub struct RunCleanup {
    pub run: String,
    /// Why the run was left alone (still in progress).
    pub skipped: Option<String>,
    /// Resources found by the run tag that the journal did not name.
    pub found: Vec<(ResourceKind, String)>,
    pub released: Vec<(ResourceKind, String)>,
    pub failed: Vec<Failure>,
    /// Kept on purpose: not released.
    pub retained: Vec<(ResourceKind, String)>,
    /// The run is now marked ended in its journal.
    pub ended: bool,
    pub calls: usize,
}

/// One run as `ecsh ledger` lists it.
#[derive(Debug)]
pub struct RunListing {
    pub run: String,
    pub started: String,
    pub target: Option<String>,
    pub status: RunStatus,
    /// Resources still held (to be released by cleanup).
    pub held: Vec<Tracked>,
    /// Resources kept on purpose.
    pub retained: Vec<Tracked>,
    /// Creating requests whose answer never arrived: (seq, action, region).
    pub unanswered: Vec<(u64, String, String)>,
    pub journal_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// Its process still holds the journal lock.
    InProgress,
    /// No end record and nobody holds the lock: the process died.
    Crashed,
    Ended,
}

/// `ecsh cleanup [RUN]`: releases what crashed or failed runs left behind, one run or every
/// run that needs it. `journal_dir` is `--journal-dir` (the default directory when `None`).
pub async fn cli_cleanup(
    client: &crate::rpc::Client,
    journal_dir: Option<&Path>,
    run: Option<&str>,
) -> Result<CleanupReport, LedgerError> {
    let cloud: Arc<dyn Cloud> = Arc::new(client.clone());
    cleanup_with(cloud, journal_dir, run, &ReleasePolicy::default()).await
}

/// [`cli_cleanup`] with an explicit release policy.
pub async fn cleanup_with(
    cloud: Arc<dyn Cloud>,
    journal_dir: Option<&Path>,
    run: Option<&str>,
    policy: &ReleasePolicy,
) -> Result<CleanupReport, LedgerError> {
    let (dir, shown_dir) = resolve_dir(journal_dir)?;
    let runs = match run {
        Some(r) => {
            let id = RunId::parse(r)?;
            if !journal::journal_path(&dir, id.as_str()).exists() {
                return Err(LedgerError::NoSuchRun(r.to_string()));
            }
            vec![id.to_string()]
        }
        None => journal::list_runs(&dir)?,
    };
    let mut report = CleanupReport {
        runs: Vec::new(),
        journal_dir: shown_dir,
    };
    for r in runs {
        let path = journal::journal_path(&dir, &r);
        let journal = match Journal::open_existing(&path) {
            Ok(j) => j,
            Err(LedgerError::InProgress { .. }) => {
                report.runs.push(RunCleanup {
                    run: r,
                    skipped: Some("still in progress (its process holds the journal)".into()),
                    ..RunCleanup::default()
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        let state = RunState::from_records(&journal::read(&path)?);
        let needs_work = state.held().next().is_some()
            || state.unresolved().next().is_some()
            || state.ended.is_none();
        if needs_work || run.is_some() {
            report
                .runs
                .push(clean_run(cloud.clone(), journal, state, policy).await?);
        }
    }
    Ok(report)
}

/// Releases everything one run still holds.
async fn clean_run(
    cloud: Arc<dyn Cloud>,
    journal: Journal,
    mut state: RunState,
    policy: &ReleasePolicy,
) -> Result<RunCleanup, LedgerError> {
    let journal = Arc::new(Mutex::new(journal));
    let append = |state: &mut RunState, record: Record| -> Result<(), LedgerError> {
        lock(&journal).append(&record)?;
        state.apply(&record);
        Ok(())
    };
    let mut out = RunCleanup {
        run: state.run.clone(),
        ..RunCleanup::default()
    };
    for ((kind, region), seqs) in unresolved_from(&state, |_| true) {
        match release::find_tagged(&cloud, kind, &region, RUN_TAG_KEY, &state.run).await {
            Ok(found) => {
                let known = state.known_ids();
                let ids: Vec<String> = found.into_iter().filter(|id| !known.contains(id)).collect();
                out.found.extend(ids.iter().map(|id| (kind, id.clone())));
                append(
                    &mut state,
                    Record::Found {
                        kind,
                        region,
                        ids,
                        seqs,
                    },
                )?;
            }
            Err(e) => out.failed.push(Failure {
                kind,
                id: format!("(unanswered requests #{seqs:?})"),
                region,
                code: e.code().to_string(),
                message: format!("cannot search by the run tag: {}", e.message()),
            }),
        }
    }
    // A delete the script sent before the crash may not have gone through: send it again
    // (deleting what is already gone counts as done).
    let targets: Vec<Target> = targets_from(&state, |_| true)
        .into_iter()
        .map(|t| Target {
            already_deleting: false,
            ..t
        })
        .collect();
    // Journal each release as it is verified, so an interrupted cleanup loses nothing.
    let applied = Arc::new(Mutex::new((Vec::new(), None::<LedgerError>)));
    let (sink, file) = (applied.clone(), journal.clone());
    let observer: release::Observer = Arc::new(move |e: &ReleaseEvent| {
        let record = match e {
            ReleaseEvent::Released(ids) => Record::Released { ids: ids.clone() },
            ReleaseEvent::Failed(f) => Record::ReleaseFailed {
                id: f.id.clone(),
                code: f.code.clone(),
                message: f.message.clone(),
            },
        };
        let written = lock(&file).append(&record);
        let mut sink = lock(&sink);
        match written {
            Ok(()) => sink.0.push(record),
            Err(err) => {
                sink.1.get_or_insert(err);
            }
        }
    });
    let result = release::release(cloud, targets, policy, observer).await;
    let (records, error) = std::mem::take(&mut *lock(&applied));
    if let Some(e) = error {
        return Err(e);
    }
    for record in &records {
        state.apply(record);
    }
    out.released = result.released;
    out.failed.extend(result.failed);
    out.calls = result.calls;
    out.retained = state.kept().map(|t| (t.kind, t.id.clone())).collect();
    if state.held().next().is_none() && state.unresolved().next().is_none() {
        if state.ended != Some(EndedBy::Cleanup) {
            append(
                &mut state,
                Record::End {
                    by: EndedBy::Cleanup,
                    at: now_rfc3339(),
                },
            )?;
        }
        out.ended = true;
    }
    Ok(out)
}

/// Lists every run in the journal directory with what it still holds.
pub fn cli_list(journal_dir: Option<&Path>) -> Result<Vec<RunListing>, LedgerError> {
    let (dir, shown_dir) = resolve_dir(journal_dir)?;
    let mut out = Vec::new();
    for run in journal::list_runs(&dir)? {
        let path = journal::journal_path(&dir, &run);
        let state = RunState::from_records(&journal::read(&path)?);
        let status = if journal::is_locked(&path) {
            RunStatus::InProgress
        } else if state.ended.is_some() {
            RunStatus::Ended
        } else {
            RunStatus::Crashed
        };
        out.push(RunListing {
            run,
            started: state.started.clone(),
            target: state.target.clone(),
            status,
            held: state.held().cloned().collect(),
            retained: state.kept().cloned().collect(),
            unanswered: state
                .unresolved()
                .map(|i| (i.seq, i.action.clone(), i.region.clone()))
                .collect(),
            journal_dir: shown_dir.clone(),
        });
    }
    Ok(out)
}

fn resolve_dir(journal_dir: Option<&Path>) -> Result<(PathBuf, Option<PathBuf>), LedgerError> {
    match journal_dir {
        Some(d) => Ok((d.to_path_buf(), Some(d.to_path_buf()))),
        None => Ok((journal::default_dir()?, None)),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl RunListing {
    /// True when cleanup has work to do for this run.
    pub fn needs_cleanup(&self) -> bool {
        self.status != RunStatus::InProgress
            && (!self.held.is_empty()
                || !self.unanswered.is_empty()
                || self.status == RunStatus::Crashed)
    }
}

fn ids(items: &[(ResourceKind, String)]) -> String {
    items
        .iter()
        .map(|(k, id)| format!("{} {id}", k.label()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn tracked(items: &[Tracked]) -> String {
    items
        .iter()
        .map(|t| format!("{} {} ({})", t.kind.label(), t.id, t.region))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for RunListing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.status {
            RunStatus::InProgress => "in progress",
            RunStatus::Crashed => "crashed",
            RunStatus::Ended => "ended",
        };
        write!(f, "{}  {status:<11}  started {}", self.run, self.started)?;
        if let Some(t) = &self.target {
            write!(f, "  on {t}")?;
        }
        writeln!(f)?;
        if !self.held.is_empty() {
            writeln!(f, "  holds {}: {}", self.held.len(), tracked(&self.held))?;
        }
        if !self.retained.is_empty() {
            writeln!(
                f,
                "  retained (kept) {}: {}",
                self.retained.len(),
                tracked(&self.retained)
            )?;
        }
        for (seq, action, region) in &self.unanswered {
            writeln!(f, "  request #{seq} {action} in {region} never got its answer; cleanup finds what it made by the run tag")?;
        }
        if self.needs_cleanup() {
            writeln!(
                f,
                "  release with: {}",
                cleanup_command(&self.run, self.journal_dir.as_deref())
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for CleanupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.runs.is_empty() {
            return writeln!(f, "nothing to clean up: no run holds resources");
        }
        for r in &self.runs {
            if let Some(why) = &r.skipped {
                writeln!(f, "{}: skipped, {why}", r.run)?;
                continue;
            }
            writeln!(f, "{}:", r.run)?;
            if !r.found.is_empty() {
                writeln!(f, "  found by the run tag: {}", ids(&r.found))?;
            }
            if r.released.is_empty() {
                writeln!(f, "  released: nothing")?;
            } else {
                writeln!(f, "  released {}: {}", r.released.len(), ids(&r.released))?;
            }
            if !r.retained.is_empty() {
                writeln!(f, "  retained (kept): {}", ids(&r.retained))?;
            }
            for fail in &r.failed {
                writeln!(
                    f,
                    "  NOT released: {} {} ({}): {}: {}",
                    fail.kind.label(),
                    fail.id,
                    fail.region,
                    fail.code,
                    fail.message
                )?;
            }
            if r.ended {
                writeln!(f, "  run ended")?;
            } else {
                writeln!(
                    f,
                    "  retry with: {}",
                    cleanup_command(&r.run, self.journal_dir.as_deref())
                )?;
            }
        }
        Ok(())
    }
}
