//! `ecsh cleanup` and `ecsh ledger`: finishing the job of runs that crashed or were killed, and
//! listing what every run still holds.
//!
//! Cleanup reads a run's journal, takes its lock (a run still in progress is left alone),
//! looks up by the run tag whatever an unanswered creating request may have made, releases
//! everything held and not kept, and marks the run ended once nothing is left. Everything it
//! learns goes into the same journal, so an interrupted cleanup can simply be run again.
//!
//! No printing: the CLI prints the reports through their `Display` impls.

use super::journal::{self, EndedBy, Record, RUN_TAG_KEY};
use super::release::{self, Failure, ReleaseEvent, ReleasePolicy, Target};
use super::scope::{targets_from, unresolved_from};
use super::state::{RunState, Tracked};
use super::store::{JournalWriter, Journals, RunOwner};
use super::summary::cleanup_command;
use super::target::RunTarget;
use super::{now_rfc3339, Cloud, LedgerError, RunId};
use crate::ops::ResourceKind;
use std::fmt;
use std::path::PathBuf;
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
    /// Lines of its journal that could not be read: the run was also searched by its tag.
    pub damaged: Vec<String>,
    /// True when the run was refused because it lives on another target.
    pub other_target: bool,
}

impl RunCleanup {
    /// A run cleanup left alone, and why.
    fn skipped(run: String, why: String) -> RunCleanup {
        RunCleanup {
            run,
            skipped: Some(why),
            ..RunCleanup::default()
        }
    }
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
    /// Lines of its journal that could not be read (the others were).
    pub damaged: Vec<String>,
    /// Where its resources live, when the journal records it.
    pub home: Option<RunTarget>,
    /// Who runs it (user, host, pid, last heartbeat), when the team ledger records it.
    pub owner: Option<RunOwner>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// Its process still holds the journal lock (a team ledger: its lease is fresh).
    InProgress,
    /// No end record and nobody holds the lock (or its lease ran out): the process died.
    Crashed,
    Ended,
}

/// `ecsh cleanup [RUN]`: releases what crashed or failed runs left behind, one run or every
/// run that needs it. `journal_dir` is `--journal-dir` (the default directory when `None`).
/// A run recorded on another endpoint or account than `client`'s is refused, not cleaned.
/// `force` (`--force`) takes over runs that are still in progress too.
pub async fn cli_cleanup(
    client: &crate::rpc::Client,
    journals: &Journals,
    run: Option<&str>,
    force: bool,
) -> Result<CleanupReport, LedgerError> {
    let cloud: Arc<dyn Cloud> = Arc::new(client.clone());
    let here = RunTarget::of(client);
    cleanup_at(
        cloud,
        Some(&here),
        journals,
        run,
        &ReleasePolicy::default(),
        force,
    )
    .await
}

/// [`cli_cleanup`] with an explicit release policy and no target check.
pub async fn cleanup_with(
    cloud: Arc<dyn Cloud>,
    journals: &Journals,
    run: Option<&str>,
    policy: &ReleasePolicy,
) -> Result<CleanupReport, LedgerError> {
    cleanup_at(cloud, None, journals, run, policy, false).await
}

/// Cleanup through `cloud`, whose target is `here` (runs recorded elsewhere are refused).
pub async fn cleanup_at(
    cloud: Arc<dyn Cloud>,
    here: Option<&RunTarget>,
    journals: &Journals,
    run: Option<&str>,
    policy: &ReleasePolicy,
    force: bool,
) -> Result<CleanupReport, LedgerError> {
    let runs = match run {
        Some(r) => {
            let id = RunId::parse(r)?;
            if !journals.exists(id.as_str())? {
                return Err(LedgerError::NoSuchRun(r.to_string()));
            }
            vec![id.to_string()]
        }
        None => journals.list_runs()?,
    };
    let mut report = CleanupReport {
        runs: Vec::new(),
        journal_dir: journals.shown_dir(),
    };
    for r in runs {
        let journal = match journals.open_existing(&r, force) {
            Ok(j) => j,
            Err(LedgerError::InProgress { .. }) => {
                report.runs.push(RunCleanup::skipped(
                    r,
                    "still in progress (its process holds the journal)".into(),
                ));
                continue;
            }
            Err(e @ LedgerError::HeldElsewhere { .. }) => {
                report.runs.push(RunCleanup::skipped(r, e.to_string()));
                continue;
            }
            // Without the database no run can be cleaned: say it once.
            Err(e @ LedgerError::Unreachable { .. }) => return Err(e),
            // One unreadable run never stops the cleanup of the others.
            Err(e) => {
                report.runs.push(RunCleanup::skipped(r, e.to_string()));
                continue;
            }
        };
        let readout = match journals.read(&r) {
            Ok(r) => r,
            Err(e) => {
                report.runs.push(RunCleanup::skipped(r, e.to_string()));
                continue;
            }
        };
        let mut state = RunState::from_records(&readout.records);
        if state.run.is_empty() {
            // The first line itself is damaged: the file name still says which run it was.
            state.run = r.clone();
        }
        if let (Some(home), Some(here)) = (&state.home, here) {
            if let Some(why) = home.mismatch(here) {
                report.runs.push(RunCleanup {
                    other_target: true,
                    ..RunCleanup::skipped(r, format!("refused: {why}"))
                });
                continue;
            }
        }
        let needs_work = state.held().next().is_some()
            || state.unresolved().next().is_some()
            || state.ended.is_none()
            || !readout.damaged.is_empty();
        if needs_work || run.is_some() {
            let fallback = here.map(|h| h.region.clone());
            report.runs.push(
                clean_run(
                    cloud.clone(),
                    journal,
                    state,
                    policy,
                    readout.damaged,
                    fallback,
                )
                .await?,
            );
        }
    }
    Ok(report)
}

/// Releases everything one run still holds.
/// A run whose journal is damaged is also searched by its run tag for every kind, in every
/// region the readable part names and in `fallback_region`, since the lost lines may have named
/// anything.
async fn clean_run(
    cloud: Arc<dyn Cloud>,
    journal: Box<dyn JournalWriter>,
    mut state: RunState,
    policy: &ReleasePolicy,
    damaged: Vec<String>,
    fallback_region: Option<String>,
) -> Result<RunCleanup, LedgerError> {
    let journal = Arc::new(Mutex::new(journal));
    let append = |state: &mut RunState, record: Record| -> Result<(), LedgerError> {
        lock(&journal).append(&record)?;
        state.apply(&record);
        Ok(())
    };
    let mut out = RunCleanup {
        run: state.run.clone(),
        damaged,
        ..RunCleanup::default()
    };
    let mut searches = unresolved_from(&state, |_| true);
    if !out.damaged.is_empty() {
        let mut regions: std::collections::BTreeSet<String> =
            state.intents.values().map(|i| i.region.clone()).collect();
        regions.extend(state.home.as_ref().map(|h| h.region.clone()));
        regions.extend(fallback_region);
        for region in regions {
            for kind in ResourceKind::ALL
                .into_iter()
                .filter(|k| k.release().is_some())
            {
                searches.entry((kind, region.clone())).or_default();
            }
        }
    }
    for ((kind, region), seqs) in searches {
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
    let result = release_journalled(cloud, &journal, &mut state, targets, policy).await?;
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

/// Releases `targets` and journals each release in `journal` as it is verified, so an
/// interrupted release loses nothing; `state` follows the journal.
pub(crate) async fn release_journalled(
    cloud: Arc<dyn Cloud>,
    journal: &Arc<Mutex<Box<dyn JournalWriter>>>,
    state: &mut RunState,
    targets: Vec<Target>,
    policy: &ReleasePolicy,
) -> Result<release::ReleaseReport, LedgerError> {
    let applied = Arc::new(Mutex::new((Vec::new(), None::<LedgerError>)));
    let (sink, file) = (applied.clone(), journal.clone());
    let observer: release::Observer = Arc::new(move |e: &ReleaseEvent| {
        let record = e.record();
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
    Ok(result)
}

/// Lists every run in the store with what it still holds.
pub fn cli_list(journals: &Journals) -> Result<Vec<RunListing>, LedgerError> {
    let shown_dir = journals.shown_dir();
    let mut out = Vec::new();
    for run in journals.list_runs()? {
        let readout = match journals.read(&run) {
            Ok(r) => r,
            Err(e) => journal::Readout {
                records: Vec::new(),
                damaged: vec![e.to_string()],
            },
        };
        let state = RunState::from_records(&readout.records);
        let status = if journals.is_live(&run) {
            RunStatus::InProgress
        } else if state.ended.is_some() {
            RunStatus::Ended
        } else {
            RunStatus::Crashed
        };
        let owner = journals.owner(&run);
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
            damaged: readout.damaged,
            home: state.home.clone(),
            owner,
        });
    }
    Ok(out)
}

/// How long ago an RFC 3339 time was (`3 hours`), or `unknown`.
pub(crate) fn age_since(rfc3339: &str) -> String {
    let fmt = &time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(rfc3339, fmt) {
        Ok(t) => {
            let minutes = (time::OffsetDateTime::now_utc() - t).as_seconds_f64() / 60.0;
            crate::guard::runtime::human(minutes.max(0.0))
        }
        Err(_) => "unknown".into(),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl RunListing {
    /// What the resources it still holds or kept cost per hour, as the guard quoted them
    /// (`None` when none was priced; a mix of currencies adds up the first one's).
    pub fn hourly_cost(&self) -> Option<super::HourlyCost> {
        let mut costs = self
            .held
            .iter()
            .chain(&self.retained)
            .filter_map(|t| t.cost.as_ref());
        let first = costs.next()?.clone();
        let amount = costs
            .filter(|c| c.currency == first.currency)
            .map(|c| c.amount)
            .sum::<f64>()
            + first.amount;
        Some(super::HourlyCost {
            amount,
            currency: first.currency,
        })
    }

    /// True when cleanup has work to do for this run.
    pub fn needs_cleanup(&self) -> bool {
        self.status != RunStatus::InProgress
            && (!self.held.is_empty()
                || !self.unanswered.is_empty()
                || !self.damaged.is_empty()
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
        if let Some(c) = self.hourly_cost() {
            write!(f, "  ~{} {:.4}/h", c.currency, c.amount)?;
        }
        writeln!(f)?;
        if let Some(o) = &self.owner {
            let beat = o
                .heartbeat_age
                .map(|a| format!(", heartbeat {a:.0}s ago"))
                .unwrap_or_default();
            writeln!(f, "  owner {o}{beat}")?;
        }
        if !self.held.is_empty() {
            writeln!(f, "  holds {}: {}", self.held.len(), tracked(&self.held))?;
        }
        if !self.retained.is_empty() {
            let age = age_since(&self.started);
            writeln!(f, "  retained (kept) {}:", self.retained.len())?;
            for t in &self.retained {
                let cost = t
                    .cost
                    .as_ref()
                    .map(|c| format!("~{} {:.4}/h", c.currency, c.amount))
                    .unwrap_or_else(|| "not priced".into());
                let why = t
                    .needed_by
                    .as_ref()
                    .map(|by| format!(", needed by {by}"))
                    .unwrap_or_default();
                writeln!(
                    f,
                    "    {} {} ({}), age {age}, {cost}{why}",
                    t.kind.label(),
                    t.id,
                    t.region
                )?;
            }
            writeln!(f, "  release with: ecsh release --run {}", self.run)?;
        }
        for d in &self.damaged {
            writeln!(f, "  journal damaged at {d}; cleanup also searches for the run's resources by its tag")?;
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
            for d in &r.damaged {
                writeln!(
                    f,
                    "  journal damaged at {d}; searched by the run tag as well"
                )?;
            }
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
                writeln!(f, "  NOT released: {fail}")?;
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
