//! ecsh's benchmarks: one binary, one subcommand per figure of BENCHMARKS.md, each printing
//! markdown-ready lines with the machine it ran on. Not a test: nothing here asserts a time.
//!
//!     cargo bench --bench ecsh -- FIGURE [--flag value]…
//!
//! FIGURE is `simulator`, `client`, `quickstart`, `scale`, `startup`, `ledger`, or `all`. Each figure runs
//! its simulator on loopback (a standalone `ecsh sim` process when the simulator's CPU must
//! not be counted, in-process when a script runs as under `ecsh run`).

mod client;
mod flows;
mod ledger;
mod placement;
mod process;
mod simulator;
mod startup;

use anyhow::{bail, Context, Result};
use ecsh::rpc::{Client, ClientConfig, Credentials};
use std::collections::HashMap;

const USAGE: &str = "usage: cargo bench --bench ecsh -- FIGURE [--flag value]...
figures:
  simulator   [--instances 1000] [--clients 16] [--seconds 10] [--memory-instances 10000]
  client      [--calls 3000] [--python-calls 1000] [--python PATH]
  quickstart  [--time-scale 0.1] [--poll FIRST_S,FACTOR,MAX_S]
  scale       [--time-scale 0.01] [--sizes 1,10,100,1000] [--poll FIRST_S,FACTOR,MAX_S]
  startup     [--runs 30]
  ledger      [--runs 20] [--time-scale 0.01] [--appends 300]   (needs PostgreSQL: initdb/pg_ctl)
  all         every figure with its defaults (the flow at time scales 0.1 and 1)";

fn main() {
    if let Err(e) = run() {
        eprintln!("ecsh bench: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    // `cargo bench` passes --bench to harness-less benches; it means nothing here.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    // Without a figure (e.g. `cargo test --all-targets`, which runs benches once with the
    // test harness's flags) there is nothing to measure: print the usage and succeed.
    let Some((figure, rest)) = args.split_first().filter(|(f, _)| !f.starts_with("--")) else {
        println!("{USAGE}");
        return Ok(());
    };
    let flags = Flags::parse(rest)?;
    println!("machine: {}", process::machine());
    match figure.as_str() {
        "simulator" => simulator::run(&flags),
        "client" => client::run(&flags),
        "quickstart" => flows::quickstart(&flags),
        "scale" => flows::scale(&flags),
        "startup" => startup::run(&flags),
        "ledger" => ledger::run(&flags),
        "all" => {
            startup::run(&flags)?;
            client::run(&flags)?;
            simulator::run(&flags)?;
            flows::scale(&flags)?;
            // The flow's goal holds at the real service's durations and at 10× faster.
            flows::quickstart_at(&flags, 0.1)?;
            flows::quickstart_at(&flags, 1.0)?;
            ledger::run(&flags)
        }
        other => bail!("unknown figure `{other}`\n{USAGE}"),
    }
}

/// `--name value` flags.
pub struct Flags(HashMap<String, String>);

impl Flags {
    fn parse(args: &[String]) -> Result<Flags> {
        let mut map = HashMap::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let Some(name) = arg.strip_prefix("--") else {
                bail!("unexpected argument `{arg}` (flags are --name value)\n{USAGE}");
            };
            let value = it
                .next()
                .with_context(|| format!("--{name} needs a value"))?;
            map.insert(name.to_string(), value.clone());
        }
        Ok(Flags(map))
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn parsed<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T> {
        match self.str(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| anyhow::anyhow!("--{name} {v}: not a valid number")),
        }
    }

    pub fn usize(&self, name: &str, default: usize) -> Result<usize> {
        self.parsed(name, default)
    }

    pub fn f64(&self, name: &str, default: f64) -> Result<f64> {
        let v: f64 = self.parsed(name, default)?;
        if !v.is_finite() || v < 0.0 {
            bail!("--{name} must be a number >= 0, not {v}");
        }
        Ok(v)
    }

    pub fn list(&self, name: &str, default: &[usize]) -> Result<Vec<usize>> {
        match self.str(name) {
            None => Ok(default.to_vec()),
            Some(v) => v
                .split(',')
                .map(|n| {
                    n.trim()
                        .parse()
                        .map_err(|_| anyhow::anyhow!("--{name}: `{n}` is not a number"))
                })
                .collect(),
        }
    }
}

/// The 2-worker multi-thread runtime `ecsh run` uses.
pub fn runtime(workers: usize) -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?)
}

/// ecsh's client for a standalone simulator (must be called inside a runtime).
pub fn client_for(sim: &process::SimProcess) -> Result<Client> {
    let credentials = Credentials::new(sim.access_key_id.clone(), sim.access_key_secret.clone());
    let mut config = ClientConfig::new(credentials, "cn-hangzhou");
    config.endpoint_override = Some(sim.endpoint.clone());
    Ok(Client::new(config)?)
}
