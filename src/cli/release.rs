//! `ecsh release ID…` and `ecsh release --run RUN`: release what past runs kept (or still
//! hold), after listing it and asking (`--yes` skips the question).

use super::{exit, GlobalArgs};
use crate::ledger::retained::{self, Selection};
use crate::ledger::target::RunTarget;
use clap::Args;
use std::io::{BufRead, IsTerminal, Write};

super::flags::flag_set!(
    /// The shared flags `release` takes.
    ReleaseFlags {
        target: super::flags::TargetFlags,
        guard: super::flags::GuardFlags,
        journal: super::flags::JournalFlags,
        output: super::flags::OutputFlags,
        log: super::flags::LogFlags,
    }
);

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The resources to release (ids as `ecsh ledger` lists them).
    #[arg(
        value_name = "ID",
        required_unless_present = "run",
        conflicts_with = "run"
    )]
    pub ids: Vec<String>,
    /// Release everything this run still holds or kept.
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
    #[command(flatten)]
    pub flags: ReleaseFlags,
}

pub fn run(global: &GlobalArgs, args: ReleaseArgs) -> anyhow::Result<i32> {
    let runtime = super::runtime()?;
    let Some(target) = super::ledger::connect_to_cloud(global, &runtime, "ecsh release")? else {
        return Ok(exit::USAGE);
    };
    let journals = super::ledger::journals(global)?;
    let what = match &args.run {
        Some(run) => Selection::Run(run),
        None => Selection::Ids(&args.ids),
    };
    let here = RunTarget::of(&target.client);
    let plans = match retained::plan(&journals, Some(&here), what) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("ecsh release: {e}");
            return Ok(exit::FAILURE);
        }
    };
    let count: usize = plans.iter().map(|p| p.items.len()).sum();
    if count == 0 {
        println!("nothing to release: the run holds and keeps nothing");
        return Ok(exit::OK);
    }
    // With JSON on stdout, what is about to be released (the question's context) goes to stderr.
    let json =
        !matches!(global.output, None | Some(super::Output::Table)) || global.query.is_some();
    let say = |line: String| {
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    for p in &plans {
        say(format!("{}:", p.run));
        for t in &p.items {
            let cost = t
                .cost
                .as_ref()
                .map(|c| format!(", ~{} {:.4}/h", c.currency, c.amount))
                .unwrap_or_default();
            say(format!(
                "  {} {} ({}{cost})",
                t.kind.label(),
                t.id,
                t.region
            ));
        }
    }
    if !global.yes && !confirmed(count)? {
        println!("nothing released");
        return Ok(exit::FAILURE);
    }
    let report = runtime.block_on(retained::execute(
        std::sync::Arc::new(target.client.clone()),
        &journals,
        plans,
        &crate::ledger::ReleasePolicy::default(),
    ))?;
    println!(
        "{}",
        super::render::report(
            global,
            report.to_string(),
            super::ledger::cleanup_json(&report)
        )?
    );
    Ok(if report.is_clean() {
        exit::OK
    } else {
        exit::FAILURE
    })
}

/// Asks on the terminal; with no terminal there is nobody to ask, so the answer is no.
pub(super) fn confirmed(count: usize) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "ecsh release: no terminal to ask on; pass --yes to release these {count} resource(s)"
        );
        return Ok(false);
    }
    eprint!("Release these {count} resource(s)? [y/N] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(crate::guard::prompt::is_yes(line.trim()))
}
