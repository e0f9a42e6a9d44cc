//! `ecsh sim`: the simulator, standalone, for the official SDKs and other tools. Prints the
//! endpoint and the credentials it accepts, serves until Ctrl-C or SIGTERM, then stops
//! cleanly, saving its state file.

use super::exit;
use crate::secret::Secret;
use crate::sim::catalog::Catalog;
use crate::sim::catalog_ext::Extension;
use crate::sim::faults::FaultSpec;
use crate::sim::metadata::{MetadataConfig, Tokens};
use crate::sim::model::Fidelity;
use crate::sim::{self, SimConfig};
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// AccessKeyId the simulator accepts (random when not given).
    #[arg(long, value_name = "ID", requires = "access_key_secret")]
    pub access_key_id: Option<String>,
    /// AccessKeySecret the simulator accepts (random when not given).
    #[arg(long, value_name = "SECRET", requires = "access_key_id")]
    pub access_key_secret: Option<String>,
    /// Keep the simulated account in this file: loaded at start, saved after every change.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Multiply the real service's durations by F (0.01 = 100x faster; 0 = instant).
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub time_scale: f64,
    /// Deterministic time: each transition happens after N describe calls that observe it.
    #[arg(long, value_name = "N", conflicts_with = "time_scale")]
    pub time_steps: Option<u32>,
    /// Inject a fault (repeatable): throttle=P, 5xx=P, internal=P, latency=D, retry-after=D,
    /// nostock=TYPE@ZONE, spotnostock=TYPE@ZONE (spot capacity only; * for any), seed=N.
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<FaultSpec>,
    /// How Cloud Assistant commands run: simulated (never executed) or local (/bin/sh in a
    /// scratch folder per instance, honouring the timeout).
    #[arg(long, value_enum, default_value_t = SimExec::Simulated)]
    pub sim_exec: SimExec,
    /// Append one JSON line per request received to FILE: time, product, action, the
    /// parameters (signature left out, security token redacted) and the answer's code.
    #[arg(long, value_name = "FILE")]
    pub request_log: Option<PathBuf>,
    /// Also serve the ECS instance metadata service on ADDR (an instance RAM role's keys;
    /// point ecsh at it with ECSH_METADATA_ENDPOINT=http://ADDR).
    #[arg(long, value_name = "ADDR", requires = "metadata_role")]
    pub metadata_listen: Option<SocketAddr>,
    /// The instance's RAM role served by the metadata service.
    #[arg(long, value_name = "NAME", requires = "metadata_listen")]
    pub metadata_role: Option<String>,
    /// IMDSv2 session tokens: optional (default), required (no v1), unsupported (v1 only).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = Tokens::Optional)]
    pub metadata_tokens: Tokens,
    /// Forgive what the real service refuses (the simulator's behaviour before strict mode):
    /// DryRun on every action, unexpired subscriptions released, zones selling every type.
    #[arg(long)]
    pub lenient: bool,
    /// Add zones, instance types (with prices) and public images to the embedded catalogue,
    /// from a JSON file (README, "Extending the simulator's catalogue"); checked at start.
    #[arg(long, value_name = "FILE")]
    pub catalogue: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimExec {
    Simulated,
    Local,
}

pub fn run(args: SimArgs) -> anyhow::Result<i32> {
    if !(args.time_scale.is_finite() && args.time_scale >= 0.0) {
        eprintln!(
            "ecsh sim: --time-scale must be a number >= 0 (1 = real speed, 0.01 = 100x faster), not {}",
            args.time_scale
        );
        return Ok(exit::USAGE);
    }
    let mut cfg = SimConfig::embedded();
    if let Some(path) = &args.catalogue {
        match Extension::from_file(path, Catalog::get()) {
            Ok(ext) => cfg.catalogue = Some(ext),
            Err(e) => {
                eprintln!("ecsh sim: --catalogue: {e}");
                return Ok(exit::USAGE);
            }
        }
    }
    cfg.listen = args.listen;
    if let (Some(id), Some(secret)) = (args.access_key_id, args.access_key_secret) {
        cfg.access_key_id = id;
        cfg.access_key_secret = Secret::new(secret);
    }
    cfg.state_file = args.state;
    cfg.faults = args.faults;
    cfg.request_log = args.request_log;
    cfg.world = super::world_options(args.time_scale, args.time_steps, args.sim_exec);
    if let (Some(listen), Some(role)) = (args.metadata_listen, args.metadata_role) {
        cfg.metadata = Some(MetadataConfig {
            listen,
            role,
            tokens: args.metadata_tokens,
        });
    }
    let added = cfg.catalogue.as_ref().map(|ext| {
        let zones: usize = ext.regions.iter().map(|r| r.zones.len()).sum();
        format!(
            "embedded + {} ({zones} zone(s), {} instance type(s), {} image(s))",
            args.catalogue.as_deref().unwrap_or(Path::new("")).display(),
            ext.instance_types.len(),
            ext.images.len()
        )
    });
    let lenient = args.lenient;
    if lenient {
        cfg.fidelity = Fidelity::Lenient;
    }
    let runtime = serving_runtime()?;
    runtime.block_on(sim::serve_until_signal(cfg, |running| {
        // The simulator's own credentials: printing them is the point of this command.
        println!("endpoint:          {}", running.endpoint());
        println!("access key id:     {}", running.access_key_id());
        println!(
            "access key secret: {}",
            running.access_key_secret().expose()
        );
        if let Some(url) = running.metadata_endpoint() {
            println!("metadata service:  {url}");
        }
        if let Some(added) = &added {
            println!("catalogue:         {added}");
        }
        if let Some(path) = running.state_file() {
            println!("state file:        {}", path.display());
        }
        println!(
            "rules:             {}",
            if lenient {
                "lenient (--lenient: forgives what Alibaba Cloud refuses)"
            } else {
                "strict (what passes here passes on Alibaba Cloud; --lenient to forgive)"
            }
        );
        println!(
            "serving ECS ({}), VPC ({}) and STS ({}); Ctrl-C to stop",
            crate::ops::Product::Ecs.version(),
            crate::ops::Product::Vpc.version(),
            crate::ops::Product::Sts.version()
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }))?;
    eprintln!("ecsh sim: stopped");
    Ok(exit::OK)
}

/// The runtime `ecsh sim` serves on: one thread. The work per request is short and runs under
/// the world's lock anyway, so a second worker adds no throughput; what it did add was the
/// scheduler's cost of two workers on a 2-core machine shared with the clients (work stealing,
/// futex wake-ups of the idle worker, connections moving between threads), charged to every
/// request (BENCHMARKS.md, simulator, issue 19 stop 23). State files are still written on
/// tokio's blocking pool, so a save does not stall the requests.
fn serving_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))
}
