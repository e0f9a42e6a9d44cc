//! `ecsh release ID…` and `ecsh release --run RUN`: releasing what past runs kept (or still
//! hold), from their journals, in dependency order, each deletion verified and journalled.
//!
//! [`plan`] reads the journals and says what would go (so the CLI can list it and ask);
//! [`execute`] takes each run's lock, releases and journals. A resource kept *for* another
//! (`needed by`: an instance's network) goes with it unless another kept resource that stays
//! still needs it. A run still in progress, or recorded on another target, is refused.
//!
//! No printing: the CLI prints the plan and the report.

use super::recover::{release_journalled, CleanupReport, RunCleanup};
use super::release::{ReleasePolicy, Target};
use super::state::{Holding, RunState, Tracked};
use super::store::Journals;
use super::target::RunTarget;
use super::{Cloud, LedgerError, RunId};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// What `ecsh release` would release in one run.
#[derive(Debug)]
pub struct RunPlan {
    pub run: String,
    pub items: Vec<Tracked>,
}

/// Which resources to release: ids, or everything a run still has.
#[derive(Debug)]
pub enum Selection<'a> {
    Ids(&'a [String]),
    Run(&'a str),
}

/// Reads the journals in `journals` and lists what `what` selects, per run.
pub fn plan(
    journals: &Journals,
    here: Option<&RunTarget>,
    what: Selection<'_>,
) -> Result<Vec<RunPlan>, LedgerError> {
    let runs = match what {
        Selection::Run(r) => {
            let id = RunId::parse(r)?;
            if !journals.exists(id.as_str())? {
                return Err(LedgerError::NoSuchRun(r.to_string()));
            }
            vec![id.to_string()]
        }
        Selection::Ids(_) => journals.list_runs()?,
    };
    let mut plans = Vec::new();
    let mut unmatched: BTreeSet<String> = match what {
        Selection::Ids(ids) => ids.iter().cloned().collect(),
        Selection::Run(_) => BTreeSet::new(),
    };
    for run in runs {
        let state = RunState::from_records(&journals.read(&run)?.records);
        let items: Vec<Tracked> = match what {
            Selection::Run(_) => state
                .resources
                .iter()
                .filter(|t| still_there(t))
                .cloned()
                .collect(),
            Selection::Ids(ids) => {
                let wanted: Vec<&str> = ids
                    .iter()
                    .map(String::as_str)
                    .filter(|id| state.find(id).is_some_and(still_there))
                    .collect();
                for id in &wanted {
                    unmatched.remove(*id);
                }
                with_what_was_kept_for_them(&state, &wanted)
            }
        };
        if items.is_empty() {
            continue;
        }
        if journals.is_live(&run) {
            return Err(LedgerError::Refused {
                action: "release".into(),
                why: format!(
                    "run {run} is still in progress; release its resources from the run itself \
                     (`release(id)`, or `:cleanup` in the REPL), or stop it first"
                ),
            });
        }
        if let (Some(home), Some(here)) = (&state.home, here) {
            if let Some(why) = home.mismatch(here) {
                return Err(LedgerError::OtherTarget { run, why });
            }
        }
        plans.push(RunPlan { run, items });
    }
    if let Some(id) = unmatched.into_iter().next() {
        return Err(LedgerError::Refused {
            action: "release".into(),
            why: format!(
                "`{id}` is not held or kept by any run in the journal directory (`ecsh ledger` \
                 lists what runs hold; `ecsh cleanup --orphans` finds resources tagged by runs \
                 whose journal is gone); nothing was released"
            ),
        });
    }
    Ok(plans)
}

/// Not yet released (held, being deleted, or kept).
fn still_there(t: &Tracked) -> bool {
    t.status != Holding::Released
}

/// `ids` and, transitively, what was kept only because they needed it, unless a kept
/// resource that stays needs it too.
fn with_what_was_kept_for_them(state: &RunState, ids: &[&str]) -> Vec<Tracked> {
    let mut chosen: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
    loop {
        let more: Vec<String> = state
            .resources
            .iter()
            .filter(|t| t.status == Holding::Kept && !chosen.contains(&t.id))
            .filter(|t| t.needed_by.as_ref().is_some_and(|by| chosen.contains(by)))
            .filter(|t| {
                // Still needed by a kept resource that stays?
                !state.resources.iter().any(|other| {
                    other.status == Holding::Kept
                        && !chosen.contains(&other.id)
                        && other.id != t.id
                        && state.dependencies(&other.id).contains(&t.id)
                })
            })
            .map(|t| t.id.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        chosen.extend(more);
    }
    state
        .resources
        .iter()
        .filter(|t| chosen.contains(&t.id) && still_there(t))
        .cloned()
        .collect()
}

/// Releases every planned resource, run by run, journalling each release in its run.
/// Each run's lock is taken first, so no other machine releases it at the same time.
pub async fn execute(
    cloud: Arc<dyn Cloud>,
    journals: &Journals,
    plans: Vec<RunPlan>,
    policy: &ReleasePolicy,
) -> Result<CleanupReport, LedgerError> {
    let mut report = CleanupReport {
        runs: Vec::new(),
        journal_dir: journals.shown_dir(),
    };
    for plan in plans {
        let journal = Arc::new(Mutex::new(journals.open_existing(&plan.run, false)?));
        let mut state = RunState::from_records(&journals.read(&plan.run)?.records);
        let targets: Vec<Target> = plan
            .items
            .iter()
            .map(|t| Target {
                kind: t.kind,
                id: t.id.clone(),
                region: t.region.clone(),
                already_deleting: false,
            })
            .collect();
        let result =
            release_journalled(cloud.clone(), &journal, &mut state, targets, policy).await?;
        report.runs.push(RunCleanup {
            run: plan.run,
            ended: result.failed.is_empty(),
            released: result.released,
            failed: result.failed,
            retained: state.kept().map(|t| (t.kind, t.id.clone())).collect(),
            calls: result.calls,
            ..RunCleanup::default()
        });
    }
    Ok(report)
}
