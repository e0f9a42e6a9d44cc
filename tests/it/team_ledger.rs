//! The team ledger (`--ledger postgres://…`) against a real PostgreSQL server (a throwaway
//! cluster, `pg_cluster.rs`) and one standalone `ecsh sim`, with the real `ecsh` binary on
//! "machines" that share nothing but the database: each has its own HOME, user and no journal
//! directory of its own in common.
//!
//! Without PostgreSQL these tests say they were skipped; under CI they fail instead.

use crate::failures::HOLD;
use crate::pg_cluster::{PgCluster, PG_PASSWORD};
use crate::support::{ecsh_command, text, Running};
use ecsh::rpc::{Client, ClientConfig, Credentials, Product};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const KEY_ID: &str = "LTAI-team-ledger";
const SECRET: &str = "team-ledger-secret";
const REGION: &str = "cn-hangzhou";
/// Short, so "crashed" comes quickly after a kill; renewed every quarter of it.
const LEASE: &str = "2s";

/// The standalone simulator, with its request log.
struct Sim {
    child: Child,
    endpoint: String,
    dir: tempfile::TempDir,
}

impl Sim {
    fn start() -> Sim {
        let dir = tempfile::tempdir().expect("sim dir");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ecsh"))
            .args(["sim", "--listen", "127.0.0.1:0", "--time-scale", "0.01"])
            .args(["--access-key-id", KEY_ID, "--access-key-secret", SECRET])
            .arg("--state")
            .arg(dir.path().join("account.json"))
            .arg("--request-log")
            .arg(dir.path().join("requests.jsonl"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ecsh sim starts");
        let endpoint = crate::support::sim_endpoint(child.stdout.take().expect("sim stdout"))
            .expect("ecsh sim printed its endpoint");
        Sim {
            child,
            endpoint,
            dir,
        }
    }

    /// Every request the simulator received, in order.
    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("requests.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn client(&self) -> Client {
        let mut config = ClientConfig::new(Credentials::new(KEY_ID, SECRET), REGION);
        config.endpoint_override = Some(self.endpoint.clone());
        Client::new(config).expect("client")
    }

    fn inventory(&self) -> Vec<String> {
        let client = self.client();
        block_on(async move { crate::support::inventory(&client, REGION).await })
    }

    fn call(&self, product: Product, action: &str, params: &[(&str, &str)]) -> Value {
        let client = self.client();
        let params = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let action = action.to_string();
        block_on(async move { client.call(product, &action, params).await }).expect("sim call")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// One machine of the team: its own HOME (so its own default journal directory) and user.
struct Machine {
    home: tempfile::TempDir,
    user: &'static str,
}

impl Machine {
    fn new(user: &'static str) -> Machine {
        Machine {
            home: tempfile::tempdir().expect("home"),
            user,
        }
    }

    fn command(&self, pg: &PgCluster, sim: &Sim, args: &[&str]) -> std::process::Command {
        let home = self.home.path().to_string_lossy().to_string();
        let state = self.home.path().join("state").to_string_lossy().to_string();
        let url = pg.url();
        // `ecsh ledger` reads the database only: no cloud flags.
        let mut all = if args.first() == Some(&"ledger") {
            vec![]
        } else {
            vec!["--endpoint", sim.endpoint.as_str(), "--yes"]
        };
        all.extend_from_slice(args);
        ecsh_command(
            &all,
            &[
                ("HOME", &home),
                ("XDG_STATE_HOME", &state),
                ("USER", self.user),
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET),
                ("ECSH_LEDGER", &url),
                ("ECSH_LEDGER_LEASE", LEASE),
            ],
        )
    }

    /// Runs `ecsh ARGS…` to completion: (exit code, stdout + stderr). The database password
    /// must never be in what it says.
    fn ecsh(&self, pg: &PgCluster, sim: &Sim, args: &[&str]) -> (i32, String) {
        let out = self
            .command(pg, sim, args)
            .stdin(Stdio::null())
            .output()
            .expect("ecsh runs");
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!said.contains(PG_PASSWORD), "the password leaked: {said}");
        (out.status.code().unwrap_or(-1), said)
    }

    /// `ecsh ledger --output json` as this machine sees it.
    fn ledger(&self, pg: &PgCluster, sim: &Sim) -> Vec<Value> {
        let out = self
            .command(pg, sim, &["ledger", "--output", "json"])
            .stdin(Stdio::null())
            .output()
            .expect("ecsh ledger runs");
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(!text(&out.stdout).contains(PG_PASSWORD));
        serde_json::from_slice::<Vec<Value>>(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
    }

    /// HOLD in the background, once it has created everything (READY).
    fn hold(&self, pg: &PgCluster, sim: &Sim) -> Running {
        let dir = tempfile::tempdir().expect("scripts");
        let run = self.spawn_run(pg, sim, &script(dir.path(), "hold.rhai", HOLD));
        run.wait_for("READY");
        run
    }

    /// `ecsh run SCRIPT` in the background, its stdout lines delivered as they come.
    fn spawn_run(&self, pg: &PgCluster, sim: &Sim, script: &Path) -> Running {
        let script = script.to_string_lossy().to_string();
        let mut cmd = self.command(pg, sim, &["run", &script]);
        cmd.stdin(Stdio::null());
        Running::spawn(cmd)
    }
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("script written");
    p
}

/// The one run of the ledger, as `ecsh ledger --output json` lists it.
fn the_run(listing: &[Value]) -> &Value {
    assert_eq!(listing.len(), 1, "{listing:?}");
    &listing[0]
}

/// Polls `machine`'s `ecsh ledger` until the run's status is `status`.
fn wait_status(machine: &Machine, pg: &PgCluster, sim: &Sim, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listing = machine.ledger(pg, sim);
        let run = the_run(&listing).clone();
        if run["status"] == status {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "the run never became {status}: {run}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Starts HOLD on `alice`, waits for READY, SIGKILLs it: the run id, as `bob` sees it.
fn a_run_killed_mid_way(pg: &PgCluster, sim: &Sim, alice: &Machine, bob: &Machine) -> String {
    let mut run = alice.hold(pg, sim);
    // Bob, on another machine with no journal of it, sees alice's run in progress, with its
    // owner and what it holds.
    let listing = bob.ledger(pg, sim);
    let seen = the_run(&listing);
    assert_eq!(seen["status"], "in progress", "{seen}");
    assert_eq!(seen["owner"]["user"], "alice", "{seen}");
    assert!(
        seen["held"].as_array().is_some_and(|h| h.len() >= 3),
        "{seen}"
    );
    assert!(
        seen["cost_per_hour"]["amount"]
            .as_f64()
            .is_some_and(|a| a > 0.0),
        "{seen}"
    );
    run.child.kill().expect("SIGKILL");
    let (code, _) = run.finish();
    assert_eq!(code, 1009, "killed by SIGKILL");
    seen["run"].as_str().expect("run id").to_string()
}

#[test]
fn a_run_killed_on_one_machine_is_crashed_on_another_once_its_lease_expires_and_released_there() {
    let Some(pg) = PgCluster::start_or_skip("team_ledger::a_run_killed_on_one_machine") else {
        return;
    };
    let sim = Sim::start();
    let (alice, bob) = (Machine::new("alice"), Machine::new("bob"));
    let run = a_run_killed_mid_way(&pg, &sim, &alice, &bob);
    assert_eq!(
        sim.inventory().len(),
        4,
        "network, group and instance left by the kill"
    );
    let crashed = wait_status(&bob, &pg, &sim, "crashed");
    assert!(
        crashed["needs_cleanup"].as_bool().unwrap_or(false),
        "{crashed}"
    );
    let (_, text_listing) = bob.ecsh(&pg, &sim, &["ledger", "--output", "table"]);
    assert!(text_listing.contains("crashed"), "{text_listing}");
    assert!(text_listing.contains("owner alice@"), "{text_listing}");
    // Filters: by owner and by state.
    let (_, none) = bob.ecsh(&pg, &sim, &["ledger", "--owner", "bob", "--output", "json"]);
    assert_eq!(none.trim(), "[]", "{none}");
    let (_, ended) = bob.ecsh(
        &pg,
        &sim,
        &["ledger", "--state", "ended", "--output", "json"],
    );
    assert_eq!(ended.trim(), "[]", "{ended}");

    // -v: the API call log, which must not show the database password either.
    let (code, said) = bob.ecsh(&pg, &sim, &["cleanup", &run, "-v"]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("DeleteInstances"), "{said}");
    assert_eq!(sim.inventory(), Vec::<String>::new(), "{said}");
    let after = wait_status(&bob, &pg, &sim, "ended");
    assert_eq!(after["held"], serde_json::json!([]), "{after}");
    // Alice's machine sees the same.
    assert_eq!(the_run(&alice.ledger(&pg, &sim))["status"], "ended");
}

#[test]
fn a_live_run_is_left_alone_by_cleanup_on_another_machine_unless_forced() {
    let Some(pg) = PgCluster::start_or_skip("team_ledger::a_live_run_is_left_alone") else {
        return;
    };
    let sim = Sim::start();
    let (alice, bob) = (Machine::new("alice"), Machine::new("bob"));
    let mut run = alice.hold(&pg, &sim);
    let id = the_run(&bob.ledger(&pg, &sim))["run"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, said) = bob.ecsh(&pg, &sim, &["cleanup", &id]);
    assert_ne!(code, 0, "{said}");
    assert!(
        said.contains("alice@") && said.contains("--force"),
        "{said}"
    );
    assert_eq!(
        sim.inventory().len(),
        4,
        "nothing of the live run released: {said}"
    );
    let (code, said) = bob.ecsh(&pg, &sim, &["cleanup", &id, "--force"]);
    assert_eq!(code, 0, "{said}");
    assert_eq!(sim.inventory(), Vec::<String>::new(), "{said}");
    run.child.kill().expect("SIGKILL");
    run.finish();
}

/// The delete actions, and the ids each request names.
fn deletes(requests: &[Value]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for r in requests {
        let action = r["action"].as_str().unwrap_or_default();
        if !action.starts_with("Delete") {
            continue;
        }
        let code = r["code"].as_str().unwrap_or_default().to_string();
        for (k, v) in r["params"].as_object().into_iter().flatten() {
            let named = k == "InstanceId"
                || k.starts_with("InstanceId.")
                || k == "SecurityGroupId"
                || k == "VSwitchId"
                || k == "VpcId";
            if named {
                out.push((
                    action.to_string(),
                    v.as_str().unwrap_or_default().into(),
                    code.clone(),
                ));
            }
        }
    }
    out
}

#[test]
fn two_concurrent_cleanups_of_one_run_release_each_resource_exactly_once() {
    let Some(pg) = PgCluster::start_or_skip("team_ledger::two_concurrent_cleanups") else {
        return;
    };
    let sim = Sim::start();
    let (alice, bob, carol) = (
        Machine::new("alice"),
        Machine::new("bob"),
        Machine::new("carol"),
    );
    let run = a_run_killed_mid_way(&pg, &sim, &alice, &bob);
    let held: Vec<String> = sim.inventory();
    wait_status(&bob, &pg, &sim, "crashed");
    let before = sim.requests().len();
    let spawn = |m: &Machine| {
        m.command(&pg, &sim, &["cleanup", &run])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cleanup starts")
    };
    let (b, c) = (spawn(&bob), spawn(&carol));
    let (b, c) = (
        b.wait_with_output().expect("bob's cleanup"),
        c.wait_with_output().expect("carol's cleanup"),
    );
    let said = format!(
        "bob: {}{}\ncarol: {}{}",
        text(&b.stdout),
        text(&b.stderr),
        text(&c.stdout),
        text(&c.stderr)
    );
    assert!(!said.contains(PG_PASSWORD));
    assert!(b.status.success() || c.status.success(), "{said}");
    assert_eq!(sim.inventory(), Vec::<String>::new(), "{said}");
    let sent = deletes(&sim.requests()[before..]);
    for id in &held {
        let accepted = sent
            .iter()
            .filter(|(_, i, code)| i == id && code == "OK")
            .count();
        assert_eq!(accepted, 1, "{id} released once: {sent:?}\n{said}");
        let not_found = sent
            .iter()
            .filter(|(_, i, code)| i == id && code.contains("NotFound"))
            .count();
        assert_eq!(
            not_found, 0,
            "{id} deleted again after it was gone: {sent:?}\n{said}"
        );
    }
}

/// Creates a VPC, then waits (reading) for the test's signals, VPCs the test itself creates:
/// `db-down`, then tries one more create; `db-up`, then ends (releasing what it holds).
const THROUGH_AN_OUTAGE: &str = r#"
fn seen(name) {
    call_api("vpc", "DescribeVpcs", #{ RegionId: "cn-hangzhou", VpcName: name }).TotalCount > 0
}
let a = call_api("vpc", "CreateVpc", #{ RegionId: "cn-hangzhou", CidrBlock: "10.1.0.0/16" }).VpcId;
print(`READY ${a}`);
while !seen("db-down") {}
try {
    call_api("vpc", "CreateVpc", #{ RegionId: "cn-hangzhou", CidrBlock: "10.2.0.0/16" });
    print("CREATED");
} catch (e) {
    print(`REFUSED ${e.code}`);
}
while !seen("db-up") {}
print("END");
"#;

#[test]
fn the_database_going_away_refuses_the_next_create_and_the_run_still_releases_when_it_is_back() {
    let Some(pg) = PgCluster::start_or_skip("team_ledger::the_database_going_away") else {
        return;
    };
    let sim = Sim::start();
    let alice = Machine::new("alice");
    let dir = tempfile::tempdir().expect("scripts");
    let s = script(dir.path(), "outage.rhai", THROUGH_AN_OUTAGE);
    let run = alice.spawn_run(&pg, &sim, &s);
    let vpc = run
        .wait_for("READY")
        .trim_start_matches("READY ")
        .to_string();
    pg.stop_server();
    let signal = |name: &str| {
        sim.call(
            Product::Vpc,
            "CreateVpc",
            &[
                ("RegionId", REGION),
                ("CidrBlock", "192.168.0.0/16"),
                ("VpcName", name),
            ],
        )["VpcId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let down = signal("db-down");
    let refused = run.wait_for("REFUSED");
    assert_eq!(refused, "REFUSED Refused.LedgerUnreachable");
    // The refused create never reached the simulator: only the run's first and the test's.
    let creates = sim
        .requests()
        .iter()
        .filter(|r| r["action"] == "CreateVpc")
        .count();
    assert_eq!(creates, 2, "{:?}", sim.requests());
    pg.start_server();
    let up = signal("db-up");
    run.wait_for("END");
    let (code, stderr) = run.finish();
    assert!(!stderr.contains(PG_PASSWORD), "{stderr}");
    assert_eq!(code, 0, "{stderr}");
    let mut left = sim.inventory();
    left.sort();
    let mut signals = vec![down, up];
    signals.sort();
    assert_eq!(left, signals, "the run's {vpc} released: {stderr}");
    let listing = alice.ledger(&pg, &sim);
    let ended = the_run(&listing);
    assert_eq!(ended["status"], "ended", "{ended}");
    assert_eq!(ended["held"], serde_json::json!([]), "{ended}");
}

#[test]
fn cleanup_orphans_on_another_machine_spares_a_live_run_and_releases_a_crashed_one_under_its_lock()
{
    let Some(pg) = PgCluster::start_or_skip("team_ledger::cleanup_orphans") else {
        return;
    };
    let sim = Sim::start();
    let (alice, bob) = (Machine::new("alice"), Machine::new("bob"));
    let mut run = alice.hold(&pg, &sim);
    // Bob has no journal of alice's run on his disk; the ledger says it is alive.
    let (code, said) = bob.ecsh(&pg, &sim, &["cleanup", "--orphans"]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("no orphans"), "{said}");
    assert_eq!(
        sim.inventory().len(),
        4,
        "the live run's resources untouched: {said}"
    );
    run.child.kill().expect("SIGKILL");
    run.finish();
    wait_status(&bob, &pg, &sim, "crashed");
    let (code, said) = bob.ecsh(&pg, &sim, &["cleanup", "--orphans"]);
    assert_eq!(code, 0, "{said}");
    assert_eq!(sim.inventory(), Vec::<String>::new(), "{said}");
    // The releases went into alice's run in the ledger: it holds nothing any more.
    let listing = bob.ledger(&pg, &sim);
    assert_eq!(
        the_run(&listing)["held"],
        serde_json::json!([]),
        "{listing:?}"
    );
}

#[test]
fn a_wrong_password_or_a_server_without_tls_is_said_clearly_and_without_the_password() {
    let Some(pg) = PgCluster::start_or_skip("team_ledger::a_wrong_password") else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let home = home.path().to_string_lossy().to_string();
    let wrong = format!(
        "postgres://ecsh:Wr0ngPassw0rd@127.0.0.1:{}/postgres",
        pg.port
    );
    let tls = format!("{}?sslmode=require", pg.url());
    for (url, expected) in [(wrong.as_str(), "28P01"), (tls.as_str(), "TLS")] {
        let out = crate::support::ecsh(
            &["ledger", "--ledger", url],
            &[("HOME", home.as_str()), ("XDG_STATE_HOME", home.as_str())],
        );
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_ne!(out.status.code(), Some(0), "{said}");
        assert!(said.contains(expected), "{said}");
        assert!(said.contains("postgres://ecsh@127.0.0.1"), "{said}");
        assert!(
            !said.contains("Wr0ngPassw0rd") && !said.contains(PG_PASSWORD),
            "{said}"
        );
    }
}
