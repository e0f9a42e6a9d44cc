//! `ecsh` alone: the REPL on the chosen target. The session is one ledger scope (label
//! `repl`); the REPL routes Ctrl-C to the session's cancel flag itself, so no watcher here.

use super::GlobalArgs;

super::flags::flag_set!(
    /// The shared flags the REPL takes.
    ReplFlags {
        target: super::flags::TargetFlags,
        guard: super::flags::GuardFlags,
        journal: super::flags::JournalFlags,
        progress: super::flags::ProgressFlags,
        log: super::flags::LogFlags,
    }
);

#[derive(Debug, clap::Args, Default)]
pub struct ReplArgs {
    #[command(flatten)]
    pub flags: ReplFlags,
}

pub fn run(global: &GlobalArgs) -> anyhow::Result<i32> {
    let prepared = match super::session::prepare(global, "repl")? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let code = crate::repl::run(prepared.session.clone());
    prepared.close();
    code
}
