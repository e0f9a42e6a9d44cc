//! `ecsh whoami`: which credentials, region and endpoint would be used, and where each came
//! from. Never prints the secret or the token (only whether they are set, and from where).

use super::{exit, GlobalArgs};
use crate::rpc::whoami_report;

super::flags::flag_set!(
    /// The shared flags `whoami` takes.
    WhoamiFlags {
        target: super::flags::TargetFlags,
        output: super::flags::OutputFlags,
        log: super::flags::LogFlags,
    }
);

#[derive(Debug, clap::Args)]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub flags: WhoamiFlags,
}

pub fn run(global: &GlobalArgs) -> anyhow::Result<i32> {
    let resolved = crate::connect::resolve(&global.overrides())?;
    let rows = whoami_report(&resolved);
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (setting, value) in rows {
        println!("{setting:<width$}  {value}");
    }
    let target = match (global.cloud, resolved.credentials.is_some()) {
        (Some(super::Cloud::Sim), _) | (None, false) => "the embedded simulator",
        _ => "Alibaba Cloud",
    };
    println!("{:<width$}  {target}", "target");
    Ok(exit::OK)
}
