//! `ecsh whoami`: every credential source in the chain's order — used, skipped and why, or not
//! consulted — then the region and endpoint with where each came from, and the target.
//! `--check` asks STS `GetCallerIdentity` who the credentials really are (account, principal,
//! type); `--output json` prints it all as one JSON object. Never prints a secret, a token or
//! a process's output: only whether they are set, and from where.

use super::{exit, GlobalArgs};
use crate::ops::A;
use crate::rpc::{endpoint::is_loopback, whoami_report, Client, Resolved};
use anyhow::Context;
use clap::Args;
use serde_json::{json, Map, Value};

super::flags::flag_set!(
    /// The shared flags `whoami` takes.
    WhoamiFlags {
        target: super::flags::TargetFlags,
        output: super::flags::OutputFlags,
        log: super::flags::LogFlags,
    }
);

#[derive(Debug, Args)]
pub struct WhoamiArgs {
    /// Also call STS GetCallerIdentity with the credentials, to show the account and principal
    /// they belong to (fetching temporary keys first when the source gives those).
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub flags: WhoamiFlags,
}

pub fn run(global: &GlobalArgs, args: &WhoamiArgs) -> anyhow::Result<i32> {
    let resolved = crate::connect::resolve(&global.overrides())?;
    let target = target(global, &resolved);
    let identity = if args.check {
        Some(check(global, &resolved)?)
    } else {
        None
    };
    let rows = whoami_report(&resolved);
    let settings: Map<String, Value> = rows
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mut json = json!({
        "sources": resolved.chain,
        "settings": settings,
        "target": target,
    });
    if let Some(id) = &identity {
        json["identity"] = id.clone();
    }
    let width = resolved
        .chain
        .iter()
        .map(|s| s.source.len())
        .max()
        .unwrap_or(0);
    let mut text = String::from("credential sources, in order:\n");
    for (n, s) in resolved.chain.iter().enumerate() {
        text += &format!(
            "  {}. {:<width$}  {}: {}\n",
            n + 1,
            s.source,
            s.status,
            s.detail
        );
    }
    text.push('\n');
    let mut rows = rows;
    rows.push(("target".into(), target));
    if let Some(id) = &identity {
        for key in ["AccountId", "Arn", "IdentityType", "PrincipalId"] {
            let value = id[key].as_str().unwrap_or_default().to_string();
            rows.push((format!("caller {key}"), value));
        }
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (setting, value) in rows {
        text += &format!("{setting:<width$}  {value}\n");
    }
    println!("{}", super::render::report(global, text, json)?);
    Ok(exit::OK)
}

/// Where calls would go, named for what it is: the embedded simulator, a loopback endpoint
/// (a standalone simulator or a proxy), another endpoint, or Alibaba Cloud.
fn target(global: &GlobalArgs, r: &Resolved) -> String {
    match (global.cloud, &r.source, &r.endpoint) {
        (Some(super::Cloud::Sim), _, _) => "the embedded simulator (--cloud sim)".into(),
        (_, None, Some(url)) => format!(
            "none: {url} is given as the endpoint but no credentials are configured; set \
             ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or choose a profile \
             with --profile"
        ),
        (Some(super::Cloud::Aliyun), None, None) => {
            "none: --cloud aliyun needs credentials (see the sources above)".into()
        }
        (_, None, None) => "the embedded simulator (no credentials configured)".into(),
        (_, Some(_), Some(url)) if is_loopback(url) => {
            format!("{url} (a loopback endpoint: a local simulator or proxy, not Alibaba Cloud)")
        }
        (_, Some(_), Some(url)) => format!("{url} (an explicit endpoint)"),
        (_, Some(_), None) => "Alibaba Cloud".into(),
    }
}

/// GetCallerIdentity with the resolved credentials, at the STS endpoint (or `--endpoint`).
fn check(global: &GlobalArgs, r: &Resolved) -> anyhow::Result<Value> {
    if global.cloud == Some(super::Cloud::Sim) {
        anyhow::bail!("--check asks STS who the configured credentials are; with --cloud sim there are none to check (drop --cloud sim)");
    }
    let source = r.require_source()?.clone();
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let config = crate::connect::client_config(r, source).await?;
        let client = Client::new(config)?;
        client
            .call(
                A::GET_CALLER_IDENTITY.product,
                A::GET_CALLER_IDENTITY.name,
                Vec::new(),
            )
            .await
            .context("GetCallerIdentity failed")
    })
}
