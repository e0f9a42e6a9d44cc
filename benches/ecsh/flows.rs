//! Figures that run scripts through the library's runner against an in-process simulator, as
//! `ecsh run` does: "The one-shot flow end to end" (issue 8 #2, scripts/quickstart.rhai) and
//! "Scale" (issue 8 #3, benches/scale.rhai with N = 1, 10, 100, 1,000).

use crate::Flags;
use anyhow::{anyhow, Result};
use ecsh::guard::Guard;
use ecsh::host::pace::{first_guesses, Known, Pace};
use ecsh::host::pace_file::{self, PaceFile};
use ecsh::host::{runner, Output, Session, WaitPolicy};
use ecsh::ledger::summary::Fate;
use ecsh::ledger::Summary;
use ecsh::rpc::{Client, ClientConfig, Credentials};
use ecsh::sim::clock::{self, TimeMode};
use ecsh::sim::{self, RunningSim, SimConfig};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The least time the one-shot flow can take, in the simulator's (real-service) seconds: the
/// sum of the state transitions on its critical path, from src/sim/clock.rs.
pub fn quickstart_critical_path() -> f64 {
    clock::VPC_CREATING                    // CreateVpc → Available
        + clock::VSWITCH_CREATING          // CreateVSwitch → Available
        + clock::INSTANCE_PENDING          // RunInstances → Starting
        + clock::INSTANCE_STARTING         // → Running
        + clock::AGENT_ONLINE              // Cloud Assistant online
        + clock::COMMAND_DISPATCH          // RunCommand → Running
        + clock::COMMAND_RUN               // → Success
        + clock::INSTANCE_VANISHING        // DeleteInstances → no longer listed
        + clock::RELEASE_WINDOW            // → no longer holds its security group
        + clock::NETWORK_DELETING          // DeleteVSwitch → gone
        + clock::NETWORK_DELETING // DeleteVpc → gone
}

/// The calls the flow needs at the least (one perfectly timed poll per wait); see
/// BENCHMARKS.md for the list.
pub const QUICKSTART_MIN_CALLS: u64 = 23;

/// A simulator in this process with its client, as `ecsh run` sets them up.
struct Target {
    runtime: tokio::runtime::Runtime,
    sim: RunningSim,
    client: Client,
    wait: WaitPolicy,
    mode: TimeMode,
}

impl Target {
    fn start(scale: f64, wait: WaitPolicy) -> Result<Target> {
        let runtime = crate::runtime(2)?;
        let mut cfg = SimConfig::embedded();
        let mode = TimeMode::Scaled(scale);
        cfg.world.time = mode;
        let sim = runtime.block_on(sim::start(cfg))?;
        let credentials = Credentials::new(
            sim.access_key_id().to_string(),
            sim.access_key_secret().expose().to_string(),
        );
        let mut config = ClientConfig::new(credentials, "cn-hangzhou");
        config.endpoint_override = Some(sim.endpoint());
        let client = runtime.block_on(async { Client::new(config) })?;
        Ok(Target {
            runtime,
            sim,
            client,
            wait,
            mode,
        })
    }

    /// Runs a script; returns its printed lines and the wall time. Its waits start from the
    /// embedded simulator's first guesses only, as `ecsh run` with nothing remembered.
    fn run(&self, file: &Path, args: Vec<String>) -> Result<Ran> {
        let pace = Pace::with_prior(first_guesses(Known::Embedded(self.mode)));
        self.run_paced(file, args, pace)
    }

    /// [`Target::run`] with the waits' guesses of `pace` (and what they learn left in it).
    fn run_paced(&self, file: &Path, args: Vec<String>, pace: Pace) -> Result<Ran> {
        let (output, printed, warned) = Output::capture();
        let mut session = Session::new(
            self.client.clone(),
            "cn-hangzhou",
            self.runtime.handle().clone(),
            output,
            Arc::new(AtomicBool::new(false)),
            Arc::new(Guard::from_flags(true, None).map_err(|e| anyhow!(e))?),
        );
        session.wait = self.wait;
        // As `ecsh run --yes`: chargeable calls approved (the guard still quotes them), and
        // every creating call journalled in a run ledger that is finished after the script.
        let journal = tempfile::tempdir()?;
        let ledger = ecsh::ledger::start_run_with(
            &self.client,
            Some(journal.path()),
            "bench",
            "sim (embedded)",
            ecsh::ledger::lease::LeasePolicy::default(),
            None,
            pace.release_policy(),
        )?;
        session.ledger = Some(ledger.clone());
        session.pace = pace;
        let start = Instant::now();
        let outcome = runner::run_file(file, args, session);
        let finished = self.runtime.block_on(ledger.finish());
        let wall = start.elapsed();
        outcome.map_err(|f| anyhow!("{}", runner::render_error(&f)))?;
        let (_, summary) = finished?;
        let warnings = warned.lock().map(|w| w.clone()).unwrap_or_default();
        if !warnings.is_empty() {
            return Err(anyhow!("the script warned: {warnings:?}"));
        }
        let lines = printed.lock().map(|p| p.clone()).unwrap_or_default();
        Ok(Ran {
            lines,
            wall,
            summary,
        })
    }
}

/// What one script run printed, how long it took, and the ledger's resource summary.
struct Ran {
    lines: Vec<String>,
    wall: Duration,
    summary: Summary,
}

impl Ran {
    /// "released R of N": the run's resources the summary shows released, of all it created.
    fn released(&self) -> String {
        let all = &self.summary.lines;
        let released = all.iter().filter(|l| l.fate == Fate::Released).count();
        format!("{released} of {}", all.len())
    }
}

/// The session's polling policy: the host's default, or `--poll FIRST_S,FACTOR,MAX_S` to try
/// another one.
fn wait_policy(flags: &Flags) -> Result<WaitPolicy> {
    let mut policy = WaitPolicy::default();
    if let Some(text) = flags.str("poll") {
        let parts: Vec<f64> = text
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| {
                anyhow!("--poll {text}: expected FIRST_S,FACTOR,MAX_S, e.g. 0.2,1.25,2")
            })?;
        let [first, factor, max] = parts[..] else {
            return Err(anyhow!(
                "--poll {text}: expected three numbers FIRST_S,FACTOR,MAX_S"
            ));
        };
        if !(first > 0.0 && factor >= 1.0 && max >= first && max.is_finite()) {
            return Err(anyhow!(
                "--poll {text}: need FIRST_S > 0, FACTOR >= 1, MAX_S >= FIRST_S"
            ));
        }
        policy.first_interval = Duration::from_secs_f64(first);
        policy.factor = factor;
        policy.max_interval = Duration::from_secs_f64(max);
    }
    Ok(policy)
}

fn describe_policy(p: &WaitPolicy) -> String {
    format!(
        "polling: first {:.2} s, ×{}, at most {:.2} s",
        p.first_interval.as_secs_f64(),
        p.factor,
        p.max_interval.as_secs_f64()
    )
}

fn repo_file(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

pub fn quickstart(flags: &Flags) -> Result<()> {
    quickstart_at(flags, flags.f64("time-scale", 0.1)?)
}

/// One run of the flow: wall seconds and API calls.
struct Measured {
    wall: f64,
    calls: u64,
}

/// The one-shot flow at time scale `scale`, ecsh beside the Python SDK baseline: a **cold** run
/// (a fresh state directory: nothing remembered, the embedded simulator's first guesses only)
/// and a **warm** one (a second run on a fresh simulator of the same time scale, starting from
/// what the first remembered in that directory's `pace.json`, as a second `ecsh run` does).
pub fn quickstart_at(flags: &Flags, scale: f64) -> Result<()> {
    let least = quickstart_critical_path() * scale;
    let wait = wait_policy(flags)?;
    println!(
        "## One-shot flow end to end (scripts/quickstart.rhai, time scale {scale}, {})",
        describe_policy(&wait)
    );
    let state = tempfile::tempdir()?;
    let file = PaceFile::in_dir(state.path());
    let mut runs = Vec::new();
    for label in ["cold", "warm"] {
        let target = Target::start(scale, wait)?;
        let key = pace_file::embedded_key(target.mode);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut prior = first_guesses(Known::Embedded(target.mode));
        prior.extend(file.load(&key, now)?);
        let pace = Pace::with_prior(prior);
        let ran = target.run_paced(
            &repo_file("scripts/quickstart.rhai"),
            Vec::new(),
            pace.clone(),
        )?;
        file.record(&key, &pace.learned(), now)?;
        let (wall, released) = (ran.wall, ran.released());
        let stats = target.client.stats();
        println!(
            "- ecsh ({label}): wall {:.2} s; least the simulator allows {:.2} s ({:.0} s × {scale}); \
             ratio {:.3}; API calls {} (retries {}; minimum {}); resources released: {released}",
            wall.as_secs_f64(),
            least,
            quickstart_critical_path(),
            wall.as_secs_f64() / least,
            stats.calls,
            stats.retries,
            QUICKSTART_MIN_CALLS
        );
        runs.push((
            label,
            Measured {
                wall: wall.as_secs_f64(),
                calls: stats.calls,
            },
        ));
    }
    let Some(python) = crate::client::python(flags)? else {
        println!(
            "- Python SDK polling every 0.2 s: skipped (no interpreter with the SDKs: run \
             `bash tests/sdk/install.sh`, or pass --python PATH)"
        );
        for (label, run) in &runs {
            println!(
                "- goal ({label}): ratio ≤ 1.10: {}; beside Python: not measured",
                yes(run.wall / least <= 1.10)
            );
        }
        return Ok(());
    };
    // A fresh simulator with the same time scale, so both flows start from nothing.
    let baseline = Target::start(scale, wait)?;
    let (py_wall, py_calls) = python_quickstart(&python, &baseline)?;
    println!(
        "- Python SDK polling every 0.2 s (benches/python_quickstart.py): wall {py_wall:.2} s; \
         ratio {:.3}; API calls {py_calls}",
        py_wall / least
    );
    for (label, run) in &runs {
        println!(
            "- ecsh ({label}) / Python: wall {:.3}, API calls {:.3}",
            run.wall / py_wall,
            run.calls as f64 / py_calls as f64
        );
        println!(
            "- goal ({label}): ratio ≤ 1.10: {}; not slower than Python: {}; fewer calls than \
             Python: {}",
            yes(run.wall / least <= 1.10),
            yes(run.wall <= py_wall),
            yes(run.calls < py_calls)
        );
    }
    Ok(())
}

fn yes(met: bool) -> &'static str {
    if met {
        "yes"
    } else {
        "NO"
    }
}

/// (wall seconds, API calls) of benches/python_quickstart.py against `target`'s simulator.
fn python_quickstart(python: &Path, target: &Target) -> Result<(f64, u64)> {
    let script = repo_file("benches/python_quickstart.py");
    let endpoint = target.sim.endpoint();
    let host_port = endpoint.trim_start_matches("http://");
    let out = std::process::Command::new(python)
        .arg(&script)
        .args(["--endpoint", host_port])
        .env("ECSH_BENCH_ACCESS_KEY_ID", target.sim.access_key_id())
        .env(
            "ECSH_BENCH_ACCESS_KEY_SECRET",
            target.sim.access_key_secret().expose(),
        )
        .output()
        .map_err(|e| anyhow!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(anyhow!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|_| anyhow!("{} printed no JSON", script.display()))?;
    let wall = v["wall_s"]
        .as_f64()
        .ok_or_else(|| anyhow!("no wall_s in {v}"))?;
    let calls = v["calls"]
        .as_u64()
        .ok_or_else(|| anyhow!("no calls in {v}"))?;
    Ok((wall, calls))
}

pub fn scale(flags: &Flags) -> Result<()> {
    let scale = flags.f64("time-scale", 0.01)?;
    let sizes = flags.list("sizes", &[1, 10, 100, 1000])?;
    let wait = wait_policy(flags)?;
    println!(
        "## Scale: create and clean up N instances (benches/scale.rhai, time scale {scale}, {})",
        describe_policy(&wait)
    );
    println!("| N | wall (s) | API calls | released | printed |");
    println!("|--:|--:|--:|--:|---|");
    for n in sizes {
        let target = Target::start(scale, wait)?;
        let ran = target.run(&repo_file("benches/scale.rhai"), vec![n.to_string()])?;
        println!(
            "| {n} | {:.2} | {} | {} | {} |",
            ran.wall.as_secs_f64(),
            target.client.stats().calls,
            ran.released(),
            ran.lines.join("; ")
        );
    }
    Ok(())
}
