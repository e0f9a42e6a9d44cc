//! `ecsh whoami`: which credentials, region and endpoint would be used, and where each came
//! from. Never prints the secret or the token (only whether they are set, and from where).

use super::{exit, GlobalArgs};
use crate::rpc::whoami_report;

pub fn run(global: &GlobalArgs) -> anyhow::Result<i32> {
    let resolved = crate::connect::resolve(&global.overrides())?;
    let rows = whoami_report(&resolved);
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (setting, value) in rows {
        println!("{setting:<width$}  {value}");
    }
    let cloud = global.target_options()?.cloud;
    let target = crate::connect::target_name(cloud, &resolved);
    println!("{:<width$}  {target}", "target");
    Ok(exit::OK)
}
