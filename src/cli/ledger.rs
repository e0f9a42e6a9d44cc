//! `ecsh cleanup [RUN]` and `ecsh ledger`: finishing crashed runs from their journals, and
//! listing what runs still hold.

use super::{exit, GlobalArgs};
use clap::Args;

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
    print!("{report}");
    Ok(if report.is_clean() {
        exit::OK
    } else {
        exit::FAILURE
    })
}

pub fn list(global: &GlobalArgs) -> anyhow::Result<i32> {
    let runs = crate::ledger::cli_list(global.journal_dir.as_deref())?;
    if runs.is_empty() {
        println!("no runs in the journal");
    }
    for run in runs {
        print!("{run}");
    }
    Ok(exit::OK)
}
