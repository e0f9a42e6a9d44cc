//! `ecsh cleanup [RUN]`, `ecsh cleanup --orphans` and `ecsh ledger`: finishing crashed runs
//! from their journals, releasing what carries a run tag without one, and listing what runs
//! still hold.

use super::{exit, GlobalArgs};
use crate::ledger::recover::RunStatus;
use crate::ledger::state::Tracked;
use crate::ledger::{CleanupReport, RunListing};
use crate::ops::ResourceKind;
use clap::Args;
use serde_json::{json, Value};

super::flags::flag_set!(
    /// The shared flags `cleanup` takes.
    CleanupFlags {
        target: super::flags::TargetFlags,
        guard: super::flags::GuardFlags,
        journal: super::flags::JournalFlags,
        output: super::flags::OutputFlags,
        log: super::flags::LogFlags,
    }
);

super::flags::flag_set!(
    /// The shared flags `ledger` takes.
    LedgerFlags {
        journal: super::flags::JournalFlags,
        output: super::flags::OutputFlags,
    }
);

#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// Only the runs of this owner: a user, or user@host (runs of a --ledger database record
    /// theirs; file journals have none).
    #[arg(long, value_name = "USER[@HOST]")]
    pub owner: Option<String>,
    /// Only the runs in this state.
    #[arg(long, value_enum)]
    pub state: Option<StateFilter>,
    /// Only the runs whose resources live in this region.
    #[arg(long = "in-region", value_name = "REGION")]
    pub region: Option<String>,
    #[command(flatten)]
    pub flags: LedgerFlags,
}

/// `ecsh ledger --state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StateFilter {
    /// Still going (holds its journal lock; on a --ledger database: its lease is fresh).
    Running,
    /// Died before its end (nobody holds the lock; its lease ran out).
    Crashed,
    /// Over: ended by itself or finished by `ecsh cleanup`.
    Ended,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// The run to clean up (as `ecsh ledger` lists it); every unfinished run when omitted.
    #[arg(conflicts_with = "orphans")]
    pub run: Option<String>,
    /// Find every resource tagged `ecsh:run=*` in the region (--region), with or without this
    /// machine's journal; list run, age and hourly cost; ask; release in dependency order.
    /// Untagged resources are never touched.
    #[arg(long)]
    pub orphans: bool,
    /// With --orphans: only runs that started longer ago than this (e.g. 2h, 1d).
    #[arg(long, value_name = "DURATION", requires = "orphans")]
    pub older_than: Option<String>,
    /// Also take over runs still in progress (their process alive, or on a --ledger database
    /// their lease fresh) and release what they hold.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub flags: CleanupFlags,
}

/// The journals a command reads and writes: the team ledger (`--ledger`), else the files.
pub(super) fn journals(global: &GlobalArgs) -> anyhow::Result<crate::ledger::store::Journals> {
    use crate::ledger::pg::{PgOptions, PgStore};
    let Some(url) = &global.ledger else {
        return Ok(crate::ledger::store::FileStore::shared(
            global.journal_dir.as_deref(),
        )?);
    };
    let mut opts = PgOptions::default();
    if let Some(text) = &global.ledger_lease {
        let minutes = crate::guard::runtime::parse_duration(text).map_err(|_| {
            anyhow::anyhow!(
                "--ledger-lease `{text}` is not a duration: give e.g. 30s, 2m (a run whose \
                 heartbeat is older is shown as crashed)"
            )
        })?;
        opts.lease = std::time::Duration::from_secs_f64(minutes * 60.0);
    }
    Ok(std::sync::Arc::new(PgStore::connect(url, opts)?))
}

pub fn cleanup(global: &GlobalArgs, args: CleanupArgs) -> anyhow::Result<i32> {
    let runtime = super::runtime()?;
    let Some(target) = connect_to_cloud(global, &runtime, "ecsh cleanup")? else {
        return Ok(exit::USAGE);
    };
    if args.orphans {
        return orphans(global, &args, &runtime, &target);
    }
    let journals = journals(global)?;
    let report = runtime.block_on(crate::ledger::cli_cleanup(
        &target.client,
        &journals,
        args.run.as_deref(),
        args.force,
    ))?;
    println!(
        "{}",
        super::render::report(global, report.to_string(), cleanup_json(&report))?
    );
    Ok(if report.is_clean() {
        exit::OK
    } else {
        exit::FAILURE
    })
}

pub fn list(global: &GlobalArgs, args: &LedgerArgs) -> anyhow::Result<i32> {
    let runs: Vec<RunListing> = crate::ledger::cli_list(&journals(global)?)?
        .into_iter()
        .filter(|r| args.shows(r))
        .collect();
    let text = if runs.is_empty() {
        "no runs in the journal".to_string()
    } else {
        runs.iter().map(ToString::to_string).collect()
    };
    let json = Value::Array(runs.iter().map(listing_json).collect());
    println!("{}", super::render::report(global, text, json)?);
    Ok(exit::OK)
}

/// `ecsh cleanup --orphans`.
fn orphans(
    global: &GlobalArgs,
    args: &CleanupArgs,
    runtime: &tokio::runtime::Runtime,
    target: &crate::connect::Target,
) -> anyhow::Result<i32> {
    use crate::ledger::orphans;
    let older_than = match args.older_than.as_deref() {
        None => None,
        Some(t) => match crate::guard::runtime::parse_duration(t) {
            Ok(minutes) => Some(std::time::Duration::from_secs_f64(minutes * 60.0)),
            Err(_) => {
                eprintln!(
                    "ecsh cleanup: --older-than `{t}` is not a duration: give e.g. 90m, 2h, 1d"
                );
                return Ok(exit::USAGE);
            }
        },
    };
    let cloud: std::sync::Arc<dyn crate::ledger::Cloud> =
        std::sync::Arc::new(target.client.clone());
    // A machine without a journal directory still finds (and releases) every tagged resource;
    // but a team ledger that cannot be reached must not read as "no run is alive".
    let journals = match journals(global) {
        Ok(j) => Some(j),
        Err(e) if global.ledger.is_some() => return Err(e),
        Err(_) => None,
    };
    let regions = vec![target.client.region().to_string()];
    let found = match runtime.block_on(orphans::find(
        &cloud,
        &regions,
        older_than,
        journals.as_ref(),
    )) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "ecsh cleanup: cannot search for tagged resources in {}: {e}; nothing was released",
                regions.join(", ")
            );
            return Ok(exit::FAILURE);
        }
    };
    if found.is_empty() {
        println!(
            "no orphans: nothing in {} carries the tag ecsh:run{}",
            regions.join(", "),
            if older_than.is_some() {
                " and is that old"
            } else {
                ""
            }
        );
        return Ok(exit::OK);
    }
    println!("resources tagged by ecsh runs in {}:", regions.join(", "));
    for o in &found {
        let age = o
            .age
            .map(|a| crate::guard::runtime::human(a.as_secs_f64() / 60.0))
            .unwrap_or_else(|| "unknown age".into());
        let cost = o
            .cost
            .as_ref()
            .map(|c| format!(", ~{} {:.4}/h", c.currency, c.amount))
            .unwrap_or_default();
        let detail = o
            .detail
            .as_ref()
            .map(|d| format!(" {d}"))
            .unwrap_or_default();
        let journal = if o.journalled {
            ""
        } else {
            ", no journal here"
        };
        println!(
            "  run {}  {} {}{detail} ({}), age {age}{cost}{journal}",
            o.run,
            o.kind.label(),
            o.id,
            o.region
        );
    }
    if !global.yes && !super::release::confirmed(found.len())? {
        println!("nothing released");
        return Ok(exit::FAILURE);
    }
    let report = runtime.block_on(orphans::release_all(
        cloud,
        &found,
        &crate::ledger::ReleasePolicy::default(),
        journals.as_ref(),
    ));
    for (kind, id) in &report.released {
        println!("released {} {id}", kind.label());
    }
    for f in &report.failed {
        println!("NOT released: {f}");
    }
    Ok(if report.failed.is_empty() {
        exit::OK
    } else {
        exit::FAILURE
    })
}

fn resource(kind: ResourceKind, id: &str, region: Option<&str>) -> Value {
    let mut m = json!({ "kind": kind.label(), "id": id });
    if let Some(region) = region {
        m["region"] = region.into();
    }
    m
}

fn tracked(items: &[Tracked]) -> Value {
    items
        .iter()
        .map(|t| resource(t.kind, &t.id, Some(&t.region)))
        .collect()
}

/// `ecsh ledger --output json`: one object per run.
fn listing_json(run: &RunListing) -> Value {
    let status = match run.status {
        RunStatus::InProgress => "in progress",
        RunStatus::Crashed => "crashed",
        RunStatus::Ended => "ended",
    };
    json!({
        "run": run.run,
        "status": status,
        "started": run.started,
        "target": run.target,
        "held": tracked(&run.held),
        "retained": tracked(&run.retained),
        "unanswered": run.unanswered.iter().map(|(seq, action, region)| json!({
            "seq": seq, "action": action, "region": region,
        })).collect::<Vec<_>>(),
        "needs_cleanup": run.needs_cleanup(),
        "owner": run.owner.as_ref().map(|o| json!({
            "user": o.user, "host": o.host, "pid": o.pid,
            "heartbeat_age_seconds": o.heartbeat_age,
        })),
        "region": run.home.as_ref().map(|h| h.region.clone()),
        "cost_per_hour": run.hourly_cost().map(|c| json!({
            "amount": c.amount, "currency": c.currency,
        })),
    })
}

impl LedgerArgs {
    /// True when `run` passes the `--owner`, `--state` and `--in-region` filters.
    fn shows(&self, run: &RunListing) -> bool {
        let owner = self.owner.as_deref().map_or(true, |want| {
            run.owner
                .as_ref()
                .is_some_and(|o| match want.split_once('@') {
                    Some((user, host)) => o.user == user && o.host == host,
                    None => o.user == want,
                })
        });
        let state = self.state.map_or(true, |s| {
            s == match run.status {
                RunStatus::InProgress => StateFilter::Running,
                RunStatus::Crashed => StateFilter::Crashed,
                RunStatus::Ended => StateFilter::Ended,
            }
        });
        let region = self.region.as_deref().map_or(true, |want| {
            run.home.as_ref().is_some_and(|h| h.region == want)
                || run
                    .held
                    .iter()
                    .chain(&run.retained)
                    .any(|t| t.region == want)
        });
        owner && state && region
    }
}

/// `ecsh cleanup --output json`: what was done to each run, and whether all is gone.
pub(super) fn cleanup_json(report: &CleanupReport) -> Value {
    let pairs = |items: &[(ResourceKind, String)]| -> Value {
        items.iter().map(|(k, id)| resource(*k, id, None)).collect()
    };
    json!({
        "clean": report.is_clean(),
        "runs": report.runs.iter().map(|r| json!({
            "run": r.run,
            "skipped": r.skipped,
            "found": pairs(&r.found),
            "released": pairs(&r.released),
            "retained": pairs(&r.retained),
            "failed": r.failed.iter().map(|f| {
                let mut m = resource(f.kind, &f.id, Some(&f.region));
                m["code"] = f.code.clone().into();
                m["message"] = f.message.clone().into();
                m
            }).collect::<Vec<_>>(),
            "ended": r.ended,
            "calls": r.calls,
        })).collect::<Vec<_>>(),
    })
}

/// Connects for a command that acts on a cloud account's resources (`cleanup`, `release`):
/// `None` (after saying why) when the target is the embedded simulator, whose resources end
/// with the process that started it.
pub(super) fn connect_to_cloud(
    global: &GlobalArgs,
    runtime: &tokio::runtime::Runtime,
    command: &str,
) -> anyhow::Result<Option<crate::connect::Target>> {
    let target = runtime.block_on(crate::connect::connect(&global.target_options()?))?;
    if target.is_simulator() {
        eprintln!(
            "{command}: no cloud to act on: no credentials are configured, and resources of \
             the embedded simulator end with the process that started it; point ecsh at the \
             cloud (credentials, --profile) or at a standalone simulator (--endpoint)"
        );
        return Ok(None);
    }
    eprintln!("{}", target.banner);
    Ok(Some(target))
}
