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
    let mut rows = whoami_report(&resolved);
    let target = match (global.cloud, resolved.credentials.is_some()) {
        (Some(super::Cloud::Sim), _) | (None, false) => "the embedded simulator",
        _ => "Alibaba Cloud",
    };
    rows.push(("target".into(), target.into()));
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let text: String = rows
        .iter()
        .map(|(setting, value)| format!("{setting:<width$}  {value}\n"))
        .collect();
    let json: serde_json::Map<String, serde_json::Value> = rows
        .into_iter()
        .map(|(k, v)| (k.replace(' ', "_"), v.into()))
        .collect();
    println!(
        "{}",
        super::render::report(global, text, serde_json::Value::Object(json))?
    );
    Ok(exit::OK)
}
