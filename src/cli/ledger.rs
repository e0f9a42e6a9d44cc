//! `ecsh cleanup [RUN]` and `ecsh ledger`: finishing crashed runs from their journals, and
//! listing what runs still hold.

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
    #[command(flatten)]
    pub flags: LedgerFlags,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// The run to clean up (as `ecsh ledger` lists it); every unfinished run when omitted.
    pub run: Option<String>,
    #[command(flatten)]
    pub flags: CleanupFlags,
}

pub fn cleanup(global: &GlobalArgs, args: CleanupArgs) -> anyhow::Result<i32> {
    let runtime = super::runtime()?;
    let target = runtime.block_on(crate::connect::connect(&global.target_options()?))?;
    if target.is_simulator() {
        eprintln!(
            "ecsh cleanup: no cloud to clean up: no credentials are configured, and resources of \
             the embedded simulator end with the process that started it; point ecsh at the \
             cloud (credentials, --profile) or at a standalone simulator (--endpoint)"
        );
        return Ok(exit::USAGE);
    }
    eprintln!("{}", target.banner);
    let report = runtime.block_on(crate::ledger::cli_cleanup(
        &target.client,
        global.journal_dir.as_deref(),
        args.run.as_deref(),
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

pub fn list(global: &GlobalArgs) -> anyhow::Result<i32> {
    let runs = crate::ledger::cli_list(global.journal_dir.as_deref())?;
    let text = if runs.is_empty() {
        "no runs in the journal".to_string()
    } else {
        runs.iter().map(ToString::to_string).collect()
    };
    let json = Value::Array(runs.iter().map(listing_json).collect());
    println!("{}", super::render::report(global, text, json)?);
    Ok(exit::OK)
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
    })
}

/// `ecsh cleanup --output json`: what was done to each run, and whether all is gone.
fn cleanup_json(report: &CleanupReport) -> Value {
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
