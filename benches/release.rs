//! Releasing 1 vs 100 instances against the embedded simulator: wall time and API calls.
//!
//! The simulator runs its real lifecycle durations scaled by `SCALE` (a released instance stays
//! listed for 3 s × SCALE, then holds its network for 5 s × SCALE), and the planner uses its
//! default policy, so the figures show what batching and parallelism buy, not a tuned best case.
//! `cargo bench --bench release --profile dev` (the time is spent waiting, not computing).

use ecsh::ledger::release::{self, ReleaseEvent, ReleasePolicy, Target};
use ecsh::ledger::Cloud;
use ecsh::ops::{Product, ResourceKind};
use ecsh::rpc::{Client, ClientConfig, Credentials};
use ecsh::sim::model::{ExecMode, TimeMode, WorldOptions};
use ecsh::sim::{self, SimConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCALE: f64 = 0.1;
const TRIALS: usize = 3;
const REGION: &str = "cn-hangzhou";
const ZONE: &str = "cn-hangzhou-j";

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        println!("| instances | how | wall time (median of {TRIALS}) | API calls |");
        println!("|---:|---|---:|---:|");
        for (n, how) in [
            (1, Plan::Planner),
            (100, Plan::Planner),
            (10, Plan::OneAtATime),
        ] {
            let mut times = Vec::new();
            let mut calls = 0;
            for _ in 0..TRIALS {
                let (t, c) = trial(n, how).await?;
                times.push(t);
                calls = c;
            }
            times.sort();
            let median = times[TRIALS / 2];
            let label = match how {
                Plan::Planner => "planner (batched, parallel)",
                Plan::OneAtATime => "one at a time (baseline)",
            };
            println!(
                "| {n} | {label} | {:.2} s | {calls} |",
                median.as_secs_f64()
            );
        }
        Ok(())
    })
}

#[derive(Clone, Copy)]
enum Plan {
    Planner,
    OneAtATime,
}

/// Starts a simulator, runs `n` instances until they are Running, and times their release.
async fn trial(n: usize, plan: Plan) -> Res<(Duration, usize)> {
    let mut cfg = SimConfig::embedded();
    cfg.world = WorldOptions {
        time: TimeMode::Scaled(SCALE),
        exec: ExecMode::Simulated,
    };
    let sim = sim::start(cfg).await?;
    let mut config = ClientConfig::new(
        Credentials::new(sim.access_key_id(), sim.access_key_secret().expose()),
        REGION,
    );
    config.endpoint_override = Some(sim.endpoint());
    let client = Client::new(config)?;
    let ids = run_instances(&client, n).await?;
    let cloud: Arc<dyn Cloud> = Arc::new(client);
    let targets: Vec<Target> = ids
        .iter()
        .map(|id| Target {
            kind: ResourceKind::Instance,
            id: id.clone(),
            region: REGION.into(),
            already_deleting: false,
        })
        .collect();
    let policy = ReleasePolicy::default();
    let observer: release::Observer = Arc::new(|_: &ReleaseEvent| {});
    let started = Instant::now();
    let mut calls = 0;
    let mut released = 0;
    match plan {
        Plan::Planner => {
            let r = release::release(cloud, targets, &policy, observer).await;
            calls += r.calls;
            released += r.released.len();
        }
        Plan::OneAtATime => {
            for t in targets {
                let r = release::release(cloud.clone(), vec![t], &policy, observer.clone()).await;
                calls += r.calls;
                released += r.released.len();
            }
        }
    }
    let elapsed = started.elapsed();
    if released != n {
        return Err(format!("released {released} of {n} instances").into());
    }
    Ok((elapsed, calls))
}

async fn call(
    client: &Client,
    product: Product,
    action: &str,
    params: &[(&str, &str)],
) -> Res<serde_json::Value> {
    let params = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ok(client.call(product, action, params).await?)
}

fn field(v: &serde_json::Value, k: &str) -> Res<String> {
    v[k].as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("no {k} in {v}").into())
}

async fn wait_status(
    client: &Client,
    product: Product,
    action: &str,
    filter: (&str, &str),
    list: &str,
    status: &str,
) -> Res<()> {
    loop {
        let answer = if action == "DescribeInstances" {
            call(client, product, action, &[filter, ("MaxResults", "100")]).await?
        } else {
            call(client, product, action, &[filter]).await?
        };
        let entries = list.split('.').fold(&answer, |v, k| &v[k]);
        let all = entries
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|e| e["Status"] == status));
        if all {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A VPC, vswitch and security group, then `n` instances, all Running.
async fn run_instances(client: &Client, n: usize) -> Res<Vec<String>> {
    let vpc = field(
        &call(
            client,
            Product::Vpc,
            "CreateVpc",
            &[("CidrBlock", "10.0.0.0/8")],
        )
        .await?,
        "VpcId",
    )?;
    wait_status(
        client,
        Product::Vpc,
        "DescribeVpcs",
        ("VpcId", &vpc),
        "Vpcs.Vpc",
        "Available",
    )
    .await?;
    let vsw = call(
        client,
        Product::Vpc,
        "CreateVSwitch",
        &[
            ("VpcId", &vpc),
            ("ZoneId", ZONE),
            ("CidrBlock", "10.1.0.0/16"),
        ],
    )
    .await?;
    let vsw = field(&vsw, "VSwitchId")?;
    wait_status(
        client,
        Product::Vpc,
        "DescribeVSwitches",
        ("VSwitchId", &vsw),
        "VSwitches.VSwitch",
        "Available",
    )
    .await?;
    let sg = field(
        &call(
            client,
            Product::Ecs,
            "CreateSecurityGroup",
            &[("VpcId", &vpc)],
        )
        .await?,
        "SecurityGroupId",
    )?;
    let amount = n.to_string();
    let answer = call(
        client,
        Product::Ecs,
        "RunInstances",
        &[
            ("ZoneId", ZONE),
            ("InstanceType", "ecs.g7.large"),
            ("ImageFamily", "acs:alibaba_cloud_linux_3_2104_lts_x64"),
            ("VSwitchId", &vsw),
            ("SecurityGroupId", &sg),
            ("Amount", &amount),
        ],
    )
    .await?;
    let ids: Vec<String> = answer["InstanceIdSets"]["InstanceIdSet"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let filter = serde_json::to_string(&ids)?;
    wait_status(
        client,
        Product::Ecs,
        "DescribeInstances",
        ("InstanceIds", &filter),
        "Instances.Instance",
        "Running",
    )
    .await?;
    Ok(ids)
}
