//! Choosing the target: Alibaba Cloud or the embedded simulator, and the client that talks to it.
//!
//! The rule (DESIGN §3): with no credentials configured, ecsh starts the embedded simulator on
//! an ephemeral loopback port with random credentials; with credentials it talks to Alibaba
//! Cloud (or to `--endpoint`). `--cloud sim` or `--cloud aliyun` forces either; with
//! `--cloud aliyun`, missing credentials are an error. The one-line banner that says which was
//! chosen is returned, not printed: printing is the CLI's job.

use crate::rpc::{
    self, Client, ClientConfig, ConfigError, CredentialSource, Credentials, Overrides, Refresher,
    Resolved, SourceKind,
};
use crate::sim::{self, RunningSim, SimConfig};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Arc;

/// Which cloud the user asked for, if they asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloudChoice {
    Sim,
    Aliyun,
}

/// How to pick and reach the target.
#[derive(Clone, Debug, Default)]
pub struct TargetOptions {
    pub overrides: Overrides,
    pub cloud: Option<CloudChoice>,
    /// Options of the embedded simulator, when one is started.
    pub sim_world: sim::model::WorldOptions,
    /// How requests travel (POST with a form body unless asked otherwise).
    pub method: rpc::Method,
}

/// A connected target: the client, and the embedded simulator when there is one (it lives as
/// long as this value).
pub struct Target {
    pub client: Client,
    pub resolved: Resolved,
    pub sim: Option<RunningSim>,
    /// One line for stderr saying what was chosen and why.
    pub banner: String,
}

impl Target {
    pub fn is_simulator(&self) -> bool {
        self.sim.is_some()
    }

    /// How `ecsh ledger` names this target: `sim` (embedded), the endpoint URL, or `aliyun`.
    pub fn label(&self) -> String {
        match (&self.sim, &self.resolved.endpoint) {
            (Some(_), _) => "sim (embedded)".into(),
            (None, Some(url)) => url.clone(),
            (None, None) => "aliyun".into(),
        }
    }
}

/// Resolves configuration from the process environment and `~/.aliyun/config.json`.
pub fn resolve(overrides: &Overrides) -> Result<Resolved, ConfigError> {
    let home: Option<PathBuf> = dirs::home_dir();
    rpc::resolve(overrides, &rpc::ProcessEnv, home.as_deref())
}

/// Picks the target and builds its client; must run inside a tokio runtime (the embedded
/// simulator serves on it).
pub async fn connect(opts: &TargetOptions) -> Result<Target> {
    let resolved = resolve(&opts.overrides)?;
    let use_sim = match opts.cloud {
        Some(CloudChoice::Sim) => true,
        Some(CloudChoice::Aliyun) => {
            resolved.require_source()?;
            false
        }
        None => {
            if resolved.source.is_none() {
                if let Some(url) = &resolved.endpoint {
                    anyhow::bail!("{}", endpoint_without_credentials(url));
                }
            }
            resolved.source.is_none()
        }
    };
    if use_sim {
        return start_embedded(resolved, opts).await;
    }
    let source = resolved.require_source()?.clone();
    let mut config = client_config(&resolved, source).await?;
    config.method = opts.method;
    let client = Client::new(config)?;
    let banner = match &resolved.endpoint {
        Some(url) => format!(
            "ecsh: {url}, region {}, {}",
            resolved.region,
            who(&resolved)
        ),
        None => format!(
            "ecsh: Alibaba Cloud, region {}, {}",
            resolved.region,
            who(&resolved)
        ),
    };
    Ok(Target {
        client,
        resolved,
        sim: None,
        banner,
    })
}

/// An explicit endpoint means "talk to that", so running on a throwaway embedded simulator
/// instead would hide the mistake; the error names what to set.
fn endpoint_without_credentials(url: &str) -> String {
    format!(
        "an endpoint was given ({url}, from --endpoint or ALIBABA_CLOUD_ENDPOINT) but no \
         credentials are configured, so ecsh cannot sign requests to it: set \
         ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (for a standalone \
         `ecsh sim`, the ones it printed) or --profile NAME; or drop the endpoint to use the \
         embedded simulator"
    )
}

/// The client configuration for the winning source. A source whose keys expire gets a
/// [`Refresher`], asked for its first keys now, so a misconfigured source (a role that cannot
/// be assumed, a metadata service that does not answer) fails before anything runs, naming
/// the source and the fix.
pub async fn client_config(resolved: &Resolved, source: CredentialSource) -> Result<ClientConfig> {
    let mut config = match &source.kind {
        SourceKind::Static(c) => ClientConfig::new(c.clone(), resolved.region.clone()),
        _ => {
            let refresher = Arc::new(Refresher::new(source, resolved.fetch_context()));
            let first = refresher.current().await?;
            let mut config = ClientConfig::new(first, resolved.region.clone());
            config.refresher = Some(refresher);
            config
        }
    };
    config.endpoint_override = resolved.endpoint.clone();
    Ok(config)
}

fn who(resolved: &Resolved) -> String {
    match (&resolved.sources.profile, &resolved.source) {
        (Some(profile), _) => format!("profile {profile}"),
        (None, Some(src)) if !src.is_static() => format!("credentials from {}", src.origin),
        (None, _) => match &resolved.sources.access_key_id {
            Some(src) => format!("credentials from {src}"),
            None => "credentials configured".into(),
        },
    }
}

async fn start_embedded(resolved: Resolved, opts: &TargetOptions) -> Result<Target> {
    let mut cfg = SimConfig::embedded();
    cfg.world = opts.sim_world.clone();
    let running = sim::start(cfg)
        .await
        .context("could not start the embedded simulator")?;
    let credentials = Credentials::new(
        running.access_key_id().to_string(),
        running.access_key_secret().expose().to_string(),
    );
    let mut config = ClientConfig::new(credentials, resolved.region.clone());
    config.endpoint_override = Some(running.endpoint());
    config.method = opts.method;
    let client = Client::new(config)?;
    let why = match opts.cloud {
        Some(CloudChoice::Sim) => "--cloud sim",
        _ => "no credentials configured; --cloud aliyun to use Alibaba Cloud",
    };
    let banner = format!(
        "ecsh: embedded simulator at {} (region {}; {why})",
        running.endpoint(),
        resolved.region
    );
    Ok(Target {
        client,
        resolved,
        sim: Some(running),
        banner,
    })
}

#[cfg(test)]
mod tests {
    use crate::rpc::endpoint::is_loopback;

    #[test]
    fn loopback_endpoints_are_recognised() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:1/",
            "http://[::1]:9",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://ecs.aliyuncs.com",
            "http://10.0.0.1:80",
            "http://[2001:db8::1]:1",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
