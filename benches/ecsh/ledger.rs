//! The team ledger under load: N concurrent `ecsh run scripts/quickstart.rhai` processes sharing
//! one PostgreSQL ledger (a throwaway cluster) and one standalone simulator. Reports leaks (what
//! the simulator and the ledger still hold after every run ended), the journal's cost per
//! creating call (an `intent` and its `created`, file journal vs PostgreSQL, appended from this
//! process while the runs go on: median and p99), and lock waits (database sessions seen waiting
//! on a lock, sampled every 20 ms).

// The tests' throwaway cluster, shared rather than copied; the bench never stops it mid-way.
#[allow(dead_code)]
#[path = "../../tests/it/pg_cluster.rs"]
mod pg_cluster;

use crate::process::{ecsh_binary, SimProcess};
use crate::Flags;
use anyhow::{bail, Context, Result};
use ecsh::ledger::journal::Record;
use ecsh::ledger::store::{FileStore, JournalStore, JournalWriter};
use ecsh::ledger::RunId;
use ecsh::rpc::{Client, ClientConfig, Credentials, Product};
use ecsh::secret::Secret;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn run(flags: &Flags) -> Result<()> {
    let runs = flags.usize("runs", 20)?;
    let scale = flags.f64("time-scale", 0.01)?;
    let appends = flags.usize("appends", 300)?;
    println!(
        "## Team ledger on PostgreSQL: {runs} concurrent quickstart runs, one ledger, one simulator \
         (time scale {scale})"
    );
    let Some(pg) = pg_cluster::PgCluster::start_or_skip("bench ledger") else {
        println!("- skipped: no PostgreSQL on this machine (see the line above)");
        return Ok(());
    };
    let sim = SimProcess::start(scale)?;
    let url = pg.url();
    // A team's account has its network already: 20 runs creating a VPC each would meet the
    // account's quota of 10 VPCs per region (the simulator enforces it, as the service does).
    // One VPC with a vswitch in every zone of the quickstart's first region, reused by all runs.
    shared_network(&sim)?;
    let baseline = inventory(&sim)?;

    // Connecting migrates the new database: done once here, as a team's ledger is migrated by
    // its first run, so the figures are those of a ledger in use (20 runs migrating a fresh
    // database at once queue on the migration lock once).
    let ledger = ecsh::ledger::pg::PgStore::connect(&Secret::new(url.clone()), Default::default())?;
    // Lock waits: sessions waiting on a lock, sampled while the runs go on.
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (done, url) = (done.clone(), url.clone());
        std::thread::spawn(move || -> Result<(usize, usize, usize, Vec<String>)> {
            let mut db = postgres::Client::connect(&url, postgres::NoTls)?;
            let (mut samples, mut waiting, mut most) = (0, 0, 0);
            let mut kinds = std::collections::BTreeSet::new();
            while !done.load(Ordering::Relaxed) {
                let rows = db.query(
                    "SELECT coalesce(wait_event, '?') FROM pg_stat_activity \
                     WHERE wait_event_type = 'Lock'",
                    &[],
                )?;
                samples += 1;
                waiting += usize::from(!rows.is_empty());
                most = most.max(rows.len());
                kinds.extend(rows.iter().map(|r| r.get::<_, String>(0)));
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok((samples, waiting, most, kinds.into_iter().collect()))
        })
    };

    let homes: Vec<tempfile::TempDir> = (0..runs)
        .map(|_| tempfile::tempdir())
        .collect::<std::io::Result<_>>()?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/quickstart.rhai");
    let start = Instant::now();
    let children: Vec<std::process::Child> = homes
        .iter()
        .map(|home| {
            std::process::Command::new(ecsh_binary())
                .args([
                    "--endpoint",
                    &sim.endpoint,
                    "--yes",
                    "--quiet",
                    "run",
                    script,
                ])
                .env("HOME", home.path())
                .env("XDG_STATE_HOME", home.path())
                .env("ALIBABA_CLOUD_ACCESS_KEY_ID", &sim.access_key_id)
                .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &sim.access_key_secret)
                .env("ECSH_LEDGER", &url)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .context("cannot start ecsh run")
        })
        .collect::<Result<_>>()?;

    // Meanwhile, the journal's own cost per creating call, both stores, interleaved.
    let file_dir = tempfile::tempdir()?;
    let files = FileStore::at(Some(file_dir.path()))?;
    let (file_ms, pg_ms, own_run) = per_creating_call(&files, &ledger, appends)?;

    let mut failed = 0;
    for child in children {
        let out = child.wait_with_output()?;
        if !out.status.success() {
            failed += 1;
            eprintln!("a run failed: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    let wall = start.elapsed();
    done.store(true, Ordering::Relaxed);
    let (samples, waiting, most, kinds) = sampler.join().expect("sampler thread")?;

    let left_in_sim = inventory(&sim)?.saturating_sub(baseline);
    let listing = ecsh::ledger::cli_list(&(Arc::new(ledger) as ecsh::ledger::store::Journals))?;
    let bench_runs: Vec<_> = listing.iter().filter(|r| r.run != own_run).collect();
    let held: usize = bench_runs
        .iter()
        .map(|r| r.held.len() + r.unanswered.len())
        .sum();
    let not_ended = bench_runs
        .iter()
        .filter(|r| r.status != ecsh::ledger::recover::RunStatus::Ended)
        .count();
    println!(
        "- runs: {runs} started, {} failed; all done in {:.1} s wall",
        failed,
        wall.as_secs_f64()
    );
    println!(
        "- leaks: {left_in_sim} resources left in the simulator; the ledger lists {} runs, {not_ended} \
         not ended, {held} resources still held",
        bench_runs.len()
    );
    let (fm, fp) = (percentile(&file_ms, 50.0), percentile(&file_ms, 99.0));
    let (pm, pp) = (percentile(&pg_ms, 50.0), percentile(&pg_ms, 99.0));
    println!(
        "- journal per creating call (intent + created, {appends} calls each, during the runs): \
         file median {fm:.3} ms, p99 {fp:.3} ms; PostgreSQL median {pm:.3} ms, p99 {pp:.3} ms; \
         added by PostgreSQL: median {:.3} ms, p99 {:.3} ms",
        pm - fm,
        pp - fp
    );
    println!(
        "- lock waits: {waiting} of {samples} samples saw a session waiting on a lock (at most {most} \
         at once{})",
        if kinds.is_empty() {
            String::new()
        } else {
            format!("; on: {}", kinds.join(", "))
        }
    );
    if failed > 0 || left_in_sim > 0 || held > 0 {
        bail!("{failed} runs failed, {left_in_sim} resources leaked, {held} held in the ledger");
    }
    Ok(())
}

/// Milliseconds per creating call's journal work (an `intent`, then its `created`), for each
/// store, alternating so that both see the same load; and the ledger run they were written to
/// (not one of the runs counted for leaks).
fn per_creating_call(
    files: &dyn JournalStore,
    ledger: &dyn JournalStore,
    calls: usize,
) -> Result<(Vec<f64>, Vec<f64>, String)> {
    let mut file_journal = files.create(&RunId::new())?;
    let own = RunId::new();
    let mut pg_journal = ledger.create(&own)?;
    let (mut f, mut p) = (Vec::with_capacity(calls), Vec::with_capacity(calls));
    for seq in 1..=calls as u64 {
        f.push(one_call(file_journal.as_mut(), seq)?);
        p.push(one_call(pg_journal.as_mut(), seq)?);
    }
    for j in [&mut file_journal, &mut pg_journal] {
        j.append(&Record::End {
            by: ecsh::ledger::journal::EndedBy::Run,
            at: "2026-12-01T00:00:00Z".into(),
        })?;
    }
    Ok((f, p, own.to_string()))
}

fn one_call(journal: &mut dyn JournalWriter, seq: u64) -> Result<f64> {
    let intent = Record::Intent {
        seq,
        scope: 0,
        product: "vpc".into(),
        action: "CreateVpc".into(),
        region: "cn-hangzhou".into(),
        kind: ecsh::ops::ResourceKind::Vpc,
        client_token: Some(format!("bench-{seq}")),
        tagged: true,
        params: serde_json::Map::new(),
        cost: None,
    };
    let t = Instant::now();
    journal.append(&intent)?;
    journal.append(&Record::Created {
        seq,
        ids: vec![format!("vpc-bench{seq}")],
    })?;
    Ok(t.elapsed().as_secs_f64() * 1000.0)
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[((p / 100.0) * (v.len() - 1) as f64).round() as usize]
}

fn client(sim: &SimProcess) -> Result<(Client, tokio::runtime::Runtime)> {
    let mut config = ClientConfig::new(
        Credentials::new(&sim.access_key_id, &sim.access_key_secret),
        "cn-hangzhou",
    );
    config.endpoint_override = Some(sim.endpoint.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok((Client::new(config)?, rt))
}

/// One VPC in cn-hangzhou with a vswitch in each of its zones, Available when this returns.
fn shared_network(sim: &SimProcess) -> Result<()> {
    let (client, rt) = client(sim)?;
    let call = |product, action: &str, params: &[(&str, &str)]| {
        let params = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        rt.block_on(client.call(product, action, params))
    };
    let region = ("RegionId", "cn-hangzhou");
    let zones = call(Product::Ecs, "DescribeZones", &[region])?;
    let vpc = call(
        Product::Vpc,
        "CreateVpc",
        &[region, ("CidrBlock", "172.16.0.0/12"), ("VpcName", "team")],
    )?["VpcId"]
        .as_str()
        .context("CreateVpc gave no VpcId")?
        .to_string();
    let ready = |action: &str, key: &str, id: &str, list: &str| -> Result<()> {
        for _ in 0..500 {
            let v = call(Product::Vpc, action, &[region, (key, id)])?;
            let status = list.split('.').fold(&v, |v, k| &v[k])[0]["Status"].clone();
            if status == "Available" {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("{id} never became Available")
    };
    ready("DescribeVpcs", "VpcId", &vpc, "Vpcs.Vpc")?;
    let zone_ids: Vec<String> = zones["Zones"]["Zone"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|z| z["ZoneId"].as_str().map(str::to_string))
        .collect();
    for (i, zone) in zone_ids.iter().enumerate() {
        let cidr = format!("172.{}.0.0/16", 16 + i);
        let vsw = call(
            Product::Vpc,
            "CreateVSwitch",
            &[
                region,
                ("VpcId", &vpc),
                ("ZoneId", zone),
                ("CidrBlock", &cidr),
            ],
        )?["VSwitchId"]
            .as_str()
            .context("CreateVSwitch gave no VSwitchId")?
            .to_string();
        ready("DescribeVSwitches", "VSwitchId", &vsw, "VSwitches.VSwitch")?;
    }
    Ok(())
}

/// Instances, security groups, vswitches and VPCs the simulator still lists in the quickstart's
/// regions.
fn inventory(sim: &SimProcess) -> Result<usize> {
    let (client, rt) = client(sim)?;
    let lists = [
        (Product::Ecs, "DescribeInstances", "TotalCount"),
        (Product::Ecs, "DescribeSecurityGroups", "TotalCount"),
        (Product::Vpc, "DescribeVSwitches", "TotalCount"),
        (Product::Vpc, "DescribeVpcs", "TotalCount"),
    ];
    let mut n = 0;
    for region in ["cn-hangzhou", "cn-shanghai", "cn-beijing"] {
        for (product, action, total) in lists {
            let params = vec![("RegionId".to_string(), region.to_string())];
            let v = rt.block_on(client.call(product, action, params))?;
            n += v[total].as_u64().unwrap_or(0) as usize;
        }
    }
    Ok(n)
}
