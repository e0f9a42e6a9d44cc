//! Figure "Client overhead per API call" (issue 8 #1): CPU time and wall time per
//! DescribeRegions call through `ecsh::rpc::Client`, against a standalone `ecsh sim` at time
//! scale 0 (so the simulator's CPU is not this process's), compared with the official legacy
//! Python SDK making the same calls against the same simulator
//! (tests/bench/python_client_overhead.py).
//!
//! Three ways of calling are measured: a current-thread runtime (the least a caller can pay),
//! the 2-worker multi-thread runtime `ecsh run` uses, driven with `block_on` from a plain
//! thread, and the host's gateway, as scripts call. Each is measured in both placements of
//! `placement.rs` (as scheduled, and on one CPU), Python too, since on this VM the cross-CPU
//! wake-up of the simulator costs the sender more than ecsh's own work.

use crate::placement::{Placement, PLACEMENTS};
use crate::process::{self, SimProcess};
use crate::{client_for, Flags};
use anyhow::{bail, Context, Result};
use ecsh::rpc::{Client, Product};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

pub fn run(flags: &Flags) -> Result<()> {
    let calls = flags.usize("calls", 3000)?;
    let python_calls = flags.usize("python-calls", 1000)?;
    println!("## Client overhead per API call (DescribeRegions, {calls} calls)");
    let sim = SimProcess::start(0.0)?;
    let python = python(flags)?;

    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = current.block_on(async { client_for(&sim) })?;
    // ecsh's own work per call without the HTTP exchange: parameters, nonce, timestamp, signature.
    let prepare_cpu = {
        let n = calls * 10;
        let cpu0 = process::self_cpu();
        for _ in 0..n {
            std::hint::black_box(client.prepare(Product::Ecs, "DescribeRegions", Vec::new())?);
        }
        (process::self_cpu() - cpu0).as_secs_f64() / n as f64 * 1e6
    };
    println!(
        "- building and signing the request (Client::prepare), no exchange: {prepare_cpu:.1} µs CPU"
    );

    let multi = crate::runtime(2)?;
    let multi_client = multi.block_on(async { client_for(&sim) })?;
    // What a script's call really goes through: the host's gateway (guard admission included),
    // which drives the client on a current-thread runtime of the script's own thread.
    let gateway = ecsh::host::Gateway::new(
        multi_client.clone(),
        multi.handle().clone(),
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        std::sync::Arc::new(ecsh::guard::Guard::new(Box::new(
            ecsh::guard::prompt::AutoApprove,
        ))),
    );

    let mut goal = Vec::new();
    for placement in PLACEMENTS {
        println!("- {placement}:");
        let _pinned = placement.apply(&[sim.pid()])?;
        let rust_current = measure(&sim, calls, |n| {
            current.block_on(calls_in_a_row(&client, n))
        })?;
        println!("  - ecsh::rpc::Client, current-thread runtime: {rust_current}");
        let rust_multi = measure(&sim, calls, |n| {
            for _ in 0..n {
                multi.block_on(one_call(&multi_client))?;
            }
            Ok(())
        })?;
        println!(
            "  - ecsh::rpc::Client, `ecsh run`'s runtime (2 workers, block_on per call): {rust_multi}"
        );
        let rust_gateway = measure(&sim, calls, |n| {
            for _ in 0..n {
                gateway
                    .call(Product::Ecs, "DescribeRegions", serde_json::Map::new())
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            Ok(())
        })?;
        println!("  - through the host's gateway, as `ecsh run` scripts call: {rust_gateway}");
        let Some(python) = &python else {
            println!(
                "  - Python SDK: skipped (no interpreter with aliyun-python-sdk-core: run \
                 `bash tests/sdk/install.sh`, or pass --python PATH)"
            );
            goal.push(Goal::new(placement, rust_gateway.cpu_us(), None));
            continue;
        };
        let py = python_figures(python, &sim, python_calls)?;
        println!(
            "  - Python aliyun-python-sdk-core ({} calls): {:.1} µs CPU, {:.1} µs wall per call",
            python_calls, py.0, py.1
        );
        for (how, figure) in [
            ("current-thread runtime", &rust_current),
            ("through the gateway", &rust_gateway),
            ("multi-thread block_on", &rust_multi),
        ] {
            println!(
                "  - ratio of client CPU per call, Python / ecsh ({how}): {:.1}x",
                py.0 / figure.cpu_us()
            );
        }
        goal.push(Goal::new(placement, rust_gateway.cpu_us(), Some(py.0)));
    }
    println!("- goal (issue 19): ≤ 60 µs client CPU per call through the gateway and ≥ 15x less than Python");
    for g in goal {
        println!("  - {g}");
    }
    Ok(())
}

/// Issue 19's client goal, judged in one placement.
struct Goal {
    placement: Placement,
    gateway_us: f64,
    python_us: Option<f64>,
}

impl Goal {
    fn new(placement: Placement, gateway_us: f64, python_us: Option<f64>) -> Goal {
        Goal {
            placement,
            gateway_us,
            python_us,
        }
    }
}

impl std::fmt::Display for Goal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cpu_met = self.gateway_us <= 60.0;
        write!(f, "{}: {:.1} µs", self.placement, self.gateway_us)?;
        match self.python_us {
            None => write!(
                f,
                " ({}; the ratio needs the Python SDK)",
                if cpu_met { "met" } else { "missed" }
            ),
            Some(py) => {
                let ratio = py / self.gateway_us;
                let verdict = match (cpu_met, ratio >= 15.0) {
                    (true, true) => "met",
                    (true, false) => "missed (ratio)",
                    (false, true) => "missed (CPU)",
                    (false, false) => "missed",
                };
                write!(f, ", {ratio:.1}x: {verdict}")
            }
        }
    }
}

/// Per-call figures of one measured run.
struct PerCall {
    calls: usize,
    cpu: Duration,
    wall: Duration,
    server_cpu: Duration,
}

impl PerCall {
    fn cpu_us(&self) -> f64 {
        self.cpu.as_secs_f64() / self.calls as f64 * 1e6
    }
}

impl std::fmt::Display for PerCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let per = |d: Duration| d.as_secs_f64() / self.calls as f64 * 1e6;
        write!(
            f,
            "{:.1} µs client CPU, {:.1} µs wall per call (simulator CPU {:.1} µs per call)",
            per(self.cpu),
            per(self.wall),
            per(self.server_cpu)
        )
    }
}

/// Runs `calls_fn` once to warm up (connections, allocator), then measured.
fn measure(
    sim: &SimProcess,
    calls: usize,
    mut calls_fn: impl FnMut(usize) -> Result<()>,
) -> Result<PerCall> {
    calls_fn(100.min(calls))?;
    let (cpu0, server0, start) = (process::self_cpu(), sim.cpu()?, Instant::now());
    calls_fn(calls)?;
    Ok(PerCall {
        calls,
        wall: start.elapsed(),
        cpu: process::self_cpu() - cpu0,
        server_cpu: sim.cpu()? - server0,
    })
}

async fn calls_in_a_row(client: &Client, n: usize) -> Result<()> {
    for _ in 0..n {
        one_call(client).await?;
    }
    Ok(())
}

async fn one_call(client: &Client) -> Result<()> {
    let answer = client
        .call(Product::Ecs, "DescribeRegions", Vec::new())
        .await?;
    if answer["Regions"]["Region"]
        .as_array()
        .map_or(true, Vec::is_empty)
    {
        bail!("DescribeRegions answered without regions: {answer}");
    }
    Ok(())
}

/// The interpreter to use: --python, ECSH_BENCH_PYTHON, or tests/sdk/.venv/bin/python.
pub fn python(flags: &Flags) -> Result<Option<PathBuf>> {
    if let Some(p) = flags.str("python") {
        return Ok(Some(PathBuf::from(p)));
    }
    if let Some(p) = std::env::var_os("ECSH_BENCH_PYTHON") {
        return Ok(Some(PathBuf::from(p)));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/.venv/bin/python");
    Ok(venv.exists().then_some(venv))
}

/// (CPU µs per call, wall µs per call) from tests/bench/python_client_overhead.py.
fn python_figures(python: &PathBuf, sim: &SimProcess, calls: usize) -> Result<(f64, f64)> {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bench/python_client_overhead.py");
    let out = Command::new(python)
        .arg(&script)
        .args(["--endpoint", sim.host_port(), "--calls", &calls.to_string()])
        .env("ECSH_BENCH_ACCESS_KEY_ID", &sim.access_key_id)
        .env("ECSH_BENCH_ACCESS_KEY_SECRET", &sim.access_key_secret)
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("{} printed no JSON", script.display()))?;
    let num = |k: &str| v[k].as_f64().with_context(|| format!("no {k} in {v}"));
    Ok((num("cpu_us_per_call")?, num("wall_us_per_call")?))
}
