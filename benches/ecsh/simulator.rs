//! Figure "Simulator throughput and memory" (issue 3): DescribeInstances requests per second a
//! standalone `ecsh sim` serves on loopback with 1,000 instances in its state, driven by
//! concurrent keep-alive clients (ecsh's own client: every request signed with a fresh nonce);
//! and the simulator's resident memory with 10,000 instances.
//!
//! The simulator runs in its own process, so its CPU time (from /proc) per request is reported
//! apart from the load generator's: on a shared machine that is the steadier figure, and
//! `cores / CPU per request` is the rate the simulator could serve with the cores to itself.
//! The default page is measured in both placements of `placement.rs` (as scheduled, and with
//! the load generator and the simulator on one CPU), since on this VM every cross-CPU wake-up
//! between them is charged to the waker.

use crate::placement::{Placement, PLACEMENTS};
use crate::process::{self, mib, SimProcess};
use crate::{client_for, Flags};
use anyhow::{bail, Context, Result};
use ecsh::rpc::{Client, Params, Product};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn run(flags: &Flags) -> Result<()> {
    let instances = flags.usize("instances", 1000)?;
    let clients = flags.usize("clients", 16)?;
    let seconds = flags.f64("seconds", 10.0)?;
    let memory_instances = flags.usize("memory-instances", 10_000)?;
    let runtime = crate::runtime(2)?;

    println!("## Simulator throughput (DescribeInstances, {instances} instances in state)");
    let sim = SimProcess::start(0.0)?;
    let client = client_for(&sim)?;
    runtime.block_on(populate(&client, instances))?;
    let default_page = "default page (10 instances per answer)";
    let big_page = vec![("MaxResults".to_string(), "100".to_string())];
    let mut goal = Vec::new();
    for placement in PLACEMENTS {
        let _pinned = placement.apply(&[sim.pid()])?;
        let r = runtime.block_on(throughput(&sim, &client, vec![], clients, seconds))?;
        println!("- {default_page}, {placement}: {r}");
        goal.push(format!("{placement}: {}", r.against_goal()));
    }
    let r = runtime.block_on(throughput(&sim, &client, big_page, clients, seconds))?;
    println!(
        "- MaxResults=100 (100 instances per answer), {}: {r}",
        Placement::AsScheduled
    );
    println!("- goal (issue 19), default page: ≥ 10,000 requests/s or ≤ 100 µs simulator CPU per request");
    for g in goal {
        println!("  - {g}");
    }
    drop(sim);

    println!("## Simulator memory ({memory_instances} instances)");
    let sim = SimProcess::start(0.0)?;
    let client = client_for(&sim)?;
    runtime.block_on(client.call(Product::Ecs, "DescribeRegions", Vec::new()))?;
    let (idle, _) = sim.memory()?;
    runtime.block_on(populate(&client, memory_instances))?;
    let (rss, hwm) = sim.memory()?;
    println!(
        "- VmRSS idle (after one call): {:.1} MiB; with {memory_instances} instances: VmRSS {:.1} MiB, VmHWM {:.1} MiB; {:.2} KiB per instance",
        mib(idle),
        mib(rss),
        mib(hwm),
        (rss.saturating_sub(idle)) as f64 / 1024.0 / memory_instances as f64
    );
    Ok(())
}

/// One throughput run's figures.
struct Throughput {
    requests: u64,
    errors: u64,
    wall: Duration,
    server_cpu: Duration,
    client_cpu: Duration,
}

impl std::fmt::Display for Throughput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.requests.max(1) as f64;
        let server_us = self.server_cpu.as_secs_f64() / n * 1e6;
        write!(
            f,
            "{:.0} requests/s ({} requests in {:.1} s, {} errors); simulator CPU {:.1} µs/request \
             (= {:.0} requests/s per core), load generator CPU {:.1} µs/request",
            n / self.wall.as_secs_f64(),
            self.requests,
            self.wall.as_secs_f64(),
            self.errors,
            server_us,
            1e6 / server_us.max(0.001),
            self.client_cpu.as_secs_f64() / n * 1e6,
        )
    }
}

impl Throughput {
    /// Issue 19's goal for the default page: ≥ 10,000 requests/s with the load generator on the
    /// same cores, or at least ≤ 100 µs of simulator CPU per request.
    fn against_goal(&self) -> String {
        let n = self.requests.max(1) as f64;
        let rate = n / self.wall.as_secs_f64();
        let server_us = self.server_cpu.as_secs_f64() / n * 1e6;
        let verdict = if rate >= 10_000.0 {
            "met (rate)"
        } else if server_us <= 100.0 {
            "met (simulator CPU)"
        } else {
            "missed"
        };
        format!("{rate:.0}/s and {server_us:.1} µs: {verdict}")
    }
}

/// `clients` tasks each send DescribeInstances back to back for `seconds` (after a 1 s
/// warm-up that opens the keep-alive connections).
async fn throughput(
    sim: &SimProcess,
    client: &Client,
    params: Params,
    clients: usize,
    seconds: f64,
) -> Result<Throughput> {
    let count = |stop: Arc<AtomicBool>| {
        let ok = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let (client, params) = (client.clone(), params.clone());
                let (ok, errors, stop) = (ok.clone(), errors.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        match client
                            .call(Product::Ecs, "DescribeInstances", params.clone())
                            .await
                        {
                            Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                            Err(e) => {
                                if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                                    eprintln!("first error: {e}");
                                }
                                0
                            }
                        };
                    }
                })
            })
            .collect();
        (ok, errors, tasks)
    };
    let warm = Arc::new(AtomicBool::new(false));
    let (_, _, tasks) = count(warm.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    warm.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await?;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let (server0, client0, start) = (sim.cpu()?, process::self_cpu(), Instant::now());
    let (ok, errors, tasks) = count(stop.clone());
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await?;
    }
    let wall = start.elapsed();
    Ok(Throughput {
        requests: ok.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        wall,
        server_cpu: sim.cpu()? - server0,
        client_cpu: process::self_cpu() - client0,
    })
}

/// Creates a VPC, a /16 vswitch, a security group, and `n` Running instances (RunInstances,
/// Amount up to 100 per call), with the simulator at time scale 0.
pub async fn populate(client: &Client, n: usize) -> Result<()> {
    let call = |product, action: &'static str, params: &[(&str, &str)]| {
        let params: Params = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let client = client.clone();
        async move {
            client
                .call(product, action, params)
                .await
                .with_context(|| format!("{action} failed while populating the simulator"))
        }
    };
    let text = |v: &Value, key: &str| -> Result<String> {
        v[key]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("no {key} in {v}"))
    };
    let zone = "cn-hangzhou-i";
    let vpc = text(
        &call(Product::Vpc, "CreateVpc", &[("CidrBlock", "10.0.0.0/8")]).await?,
        "VpcId",
    )?;
    call(Product::Vpc, "DescribeVpcs", &[("VpcId", &vpc)]).await?;
    let vsw = text(
        &call(
            Product::Vpc,
            "CreateVSwitch",
            &[
                ("VpcId", &vpc),
                ("ZoneId", zone),
                ("CidrBlock", "10.0.0.0/16"),
            ],
        )
        .await?,
        "VSwitchId",
    )?;
    call(Product::Vpc, "DescribeVSwitches", &[("VSwitchId", &vsw)]).await?;
    let images = call(
        Product::Ecs,
        "DescribeImages",
        &[("ImageFamily", "acs:ubuntu_24_04_x64")],
    )
    .await?;
    let image = images["Images"]["Image"][0]["ImageId"]
        .as_str()
        .context("no ubuntu_24_04 image in the catalog")?
        .to_string();
    let mut sg = String::new();
    let mut made = 0;
    while made < n {
        // A security group holds at most 2,000 instances on the real service.
        if made % 2000 == 0 {
            sg = text(
                &call(Product::Ecs, "CreateSecurityGroup", &[("VpcId", &vpc)]).await?,
                "SecurityGroupId",
            )?;
        }
        let amount = (n - made).min(100).to_string();
        let r = call(
            Product::Ecs,
            "RunInstances",
            &[
                ("InstanceType", "ecs.c6.large"),
                ("VSwitchId", &vsw),
                ("SecurityGroupId", &sg),
                ("ImageId", &image),
                ("Amount", &amount),
            ],
        )
        .await?;
        let got = r["InstanceIdSets"]["InstanceIdSet"]
            .as_array()
            .map_or(0, Vec::len);
        if got == 0 {
            bail!("RunInstances created no instances: {r}");
        }
        made += got;
    }
    let listed = call(Product::Ecs, "DescribeInstances", &[("Status", "Running")]).await?;
    let total = listed["TotalCount"].as_u64().unwrap_or(0) as usize;
    if total != n {
        bail!("expected {n} Running instances, the simulator lists {total}");
    }
    Ok(())
}
