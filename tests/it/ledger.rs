//! The scope ledger against the simulator: whatever a run creates is gone afterwards — after a
//! normal end, a failure halfway, a scope that throws, a SIGKILL, a crash between sending
//! RunInstances and journalling its id — checked through the simulator's own describes.
//! What the run kept, and what it reused without creating, survives.

use ecsh::ledger::journal::{self, Record};
use ecsh::ledger::recover::{cleanup_with, RunStatus};
use ecsh::ledger::{cli_list, Cloud, Ledger, LedgerOptions, Outcome, ReleasePolicy};
use ecsh::ops::{self, Product};
use ecsh::rpc::{flatten, CallError, Client, ClientConfig, Credentials};
use ecsh::sim::model::{ExecMode, TimeMode, WorldOptions};
use ecsh::sim::RunningSim;
use serde_json::{json, Map, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::support::start_sim_with;

const REGION: &str = "cn-hangzhou";
const ZONE: &str = "cn-hangzhou-j";

struct Env {
    sim: Sim,
    client: Client,
    dir: tempfile::TempDir,
}

/// The simulator a test talks to: in this process, or a standalone `ecsh sim` process.
enum Sim {
    Embedded(RunningSim),
    Standalone(Standalone),
}

impl Sim {
    fn endpoint(&self) -> String {
        match self {
            Sim::Embedded(s) => s.endpoint(),
            Sim::Standalone(s) => s.endpoint.clone(),
        }
    }
    fn key_id(&self) -> &str {
        match self {
            Sim::Embedded(s) => s.access_key_id(),
            Sim::Standalone(_) => STANDALONE_KEY_ID,
        }
    }
    fn secret(&self) -> &str {
        match self {
            Sim::Embedded(s) => s.access_key_secret().expose(),
            Sim::Standalone(_) => STANDALONE_SECRET,
        }
    }
}

pub(crate) const STANDALONE_KEY_ID: &str = "LTAIledgerTestKey0000000";
pub(crate) const STANDALONE_SECRET: &str = "ledgerTestSecret00000000000000";

/// `ecsh sim --state FILE` in its own process; killed when dropped.
pub(crate) struct Standalone {
    child: std::process::Child,
    pub(crate) endpoint: String,
}

impl Standalone {
    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `ecsh sim` on a free loopback port, keeping its account in `state`.
pub(crate) fn standalone_sim(state: &Path) -> Standalone {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecsh"))
        .args(["sim", "--listen", "127.0.0.1:0", "--time-steps", "2"])
        .args(["--access-key-id", STANDALONE_KEY_ID])
        .args(["--access-key-secret", STANDALONE_SECRET])
        .arg("--state")
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ecsh sim starts");
    match crate::support::sim_endpoint(child.stdout.take().expect("sim stdout")) {
        Some(endpoint) => Standalone { child, endpoint },
        None => {
            let _ = child.kill();
            panic!("ecsh sim printed no endpoint");
        }
    }
}

/// A simulator whose lifecycles advance one step per observation: deterministic, fast, and
/// with the real windows (an instance still initializing, a security group still held by a
/// released instance) that the ledger must wait out.
async fn env() -> Env {
    let sim = start_sim_with(|cfg| {
        cfg.world = WorldOptions {
            time: TimeMode::Steps(2),
            exec: ExecMode::Simulated,
        }
    })
    .await;
    let client = client_for(
        &sim.endpoint(),
        sim.access_key_id(),
        sim.access_key_secret().expose(),
    );
    Env {
        sim: Sim::Embedded(sim),
        client,
        dir: tempfile::tempdir().expect("temp dir"),
    }
}

pub(crate) fn client_for(endpoint: &str, key_id: &str, secret: &str) -> Client {
    let mut config = ClientConfig::new(Credentials::new(key_id, secret), REGION);
    config.endpoint_override = Some(endpoint.to_string());
    Client::new(config).expect("client")
}

/// The file journals in `dir`.
fn files(dir: &std::path::Path) -> ecsh::ledger::store::Journals {
    ecsh::ledger::store::FileStore::shared(Some(dir)).expect("journal dir")
}

/// Fast retries for a simulator that moves on every observation.
fn fast() -> ReleasePolicy {
    ReleasePolicy {
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        delete_deadline: Duration::from_secs(20),
        verify_deadline: Duration::from_secs(20),
        ..ReleasePolicy::default()
    }
}

fn start(env: &Env) -> Ledger {
    start_in(&env.client, env.dir.path())
}

fn start_in(client: &Client, dir: &Path) -> Ledger {
    let cloud: Arc<dyn Cloud> = Arc::new(client.clone());
    Ledger::start(
        cloud,
        LedgerOptions {
            journal_dir: dir.to_path_buf(),
            default_region: REGION.into(),
            target: Some("sim".into()),
            label: "test".into(),
            policy: fast(),
            home: Some(ecsh::ledger::target::RunTarget::of(client)),
            lease: ecsh::ledger::lease::LeasePolicy::default(),
            store: None,
        },
    )
    .expect("ledger starts")
}

/// What the host's gateway does around every call: journal the intent, send, journal the answer.
async fn send(
    ledger: &Ledger,
    client: &Client,
    product: Product,
    action: &str,
    args: Value,
) -> Result<Value, CallError> {
    let mut args: Map<String, Value> = args.as_object().cloned().unwrap_or_default();
    let intent = ledger
        .before_send(product, action, &mut args, None)
        .expect("intent journalled");
    let json_params = ops::find(product, action).map_or(&[][..], |a| a.json_params);
    let params = flatten(&args, json_params).expect("params flatten");
    let result = client.call(product, action, params).await;
    if let Some(intent) = intent {
        ledger
            .after_send(intent, Outcome::of_call(&result))
            .expect("answer journalled");
    }
    result
}

fn id_of(answer: &Value, field: &str) -> String {
    answer[field]
        .as_str()
        .expect("an id in the answer")
        .to_string()
}

/// Polls a describe until the resource reports `status`.
async fn wait_for(
    client: &Client,
    product: Product,
    action: &str,
    filter: (&str, &str),
    list: &str,
    status: &str,
) {
    for _ in 0..200 {
        let params = vec![(filter.0.to_string(), filter.1.to_string())];
        let answer = client
            .call(product, action, params)
            .await
            .expect("describe");
        let entries = list.split('.').fold(&answer, |v, k| &v[k]);
        if entries[0]["Status"] == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("{} never became {status}", filter.1);
}

struct Network {
    vpc: String,
    vsw: String,
    sg: String,
}

async fn create_vpc(ledger: Option<&Ledger>, client: &Client) -> String {
    let args = json!({"RegionId": REGION, "CidrBlock": "192.168.0.0/16", "VpcName": "ledger-test"});
    let answer = match ledger {
        Some(l) => send(l, client, Product::Vpc, "CreateVpc", args).await,
        None => {
            let params = flatten(args.as_object().expect("map"), &[]).expect("flat");
            client.call(Product::Vpc, "CreateVpc", params).await
        }
    }
    .expect("CreateVpc");
    let vpc = id_of(&answer, "VpcId");
    wait_for(
        client,
        Product::Vpc,
        "DescribeVpcs",
        ("VpcId", &vpc),
        "Vpcs.Vpc",
        "Available",
    )
    .await;
    vpc
}

async fn create_vswitch(ledger: &Ledger, client: &Client, vpc: &str) -> String {
    let args =
        json!({"RegionId": REGION, "VpcId": vpc, "ZoneId": ZONE, "CidrBlock": "192.168.1.0/24"});
    let answer = send(ledger, client, Product::Vpc, "CreateVSwitch", args)
        .await
        .expect("CreateVSwitch");
    let vsw = id_of(&answer, "VSwitchId");
    wait_for(
        client,
        Product::Vpc,
        "DescribeVSwitches",
        ("VSwitchId", &vsw),
        "VSwitches.VSwitch",
        "Available",
    )
    .await;
    vsw
}

async fn create_group(ledger: &Ledger, client: &Client, vpc: &str) -> String {
    let args = json!({"RegionId": REGION, "VpcId": vpc, "SecurityGroupName": "ledger-test"});
    let answer = send(ledger, client, Product::Ecs, "CreateSecurityGroup", args)
        .await
        .expect("CreateSecurityGroup");
    id_of(&answer, "SecurityGroupId")
}

async fn network(ledger: &Ledger, client: &Client) -> Network {
    let vpc = create_vpc(Some(ledger), client).await;
    let vsw = create_vswitch(ledger, client, &vpc).await;
    let sg = create_group(ledger, client, &vpc).await;
    Network { vpc, vsw, sg }
}

fn run_args(net: &Network, amount: u32) -> Value {
    json!({
        "RegionId": REGION, "ZoneId": ZONE, "InstanceType": "ecs.g7.large",
        "ImageFamily": "acs:alibaba_cloud_linux_3_2104_lts_x64",
        "VSwitchId": net.vsw, "SecurityGroupId": net.sg, "Amount": amount,
        "SystemDisk": {"Category": "cloud_essd"},
        "Password": "Sup3r-Secret-Pw!", "InstanceChargeType": "PostPaid",
    })
}

async fn run_instances(
    ledger: &Ledger,
    client: &Client,
    net: &Network,
    amount: u32,
) -> Vec<String> {
    let answer = send(
        ledger,
        client,
        Product::Ecs,
        "RunInstances",
        run_args(net, amount),
    )
    .await
    .expect("RunInstances");
    answer["InstanceIdSets"]["InstanceIdSet"]
        .as_array()
        .expect("instance ids")
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// Every id the simulator still lists, by kind: its own view, not the ledger's.
async fn inventory(client: &Client) -> Vec<String> {
    super::support::inventory(client, REGION).await
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_fails_halfway_leaves_nothing_behind() {
    let env = env().await;
    let ledger = start(&env);
    let net = network(&ledger, &env.client).await;
    let instances = run_instances(&ledger, &env.client, &net, 2).await;
    assert_eq!(instances.len(), 2);
    // The script's next call fails: the API refuses it and nothing is created.
    let mut bad = run_args(&net, 1);
    bad["InstanceType"] = json!("ecs.no-such-type");
    let refused = send(&ledger, &env.client, Product::Ecs, "RunInstances", bad).await;
    assert!(refused.is_err());

    let (report, summary) = ledger.finish().await.expect("run ends");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(
        inventory(&env.client).await.is_empty(),
        "left behind: {:?}",
        inventory(&env.client).await
    );
    let text = summary.to_string();
    assert_eq!(text.matches("[released]").count(), 5, "{text}");
    assert!(text.contains("- ECS: "), "{text}");
    assert!(text.contains("(ecs.g7.large, PostPaid)"), "{text}");
    // Instances went first (the registry's levels), the VPC last.
    let records = journal::read(&ledger.journal_path()).expect("journal");
    let released: Vec<&Vec<String>> = records
        .iter()
        .filter_map(|r| match r {
            Record::Released { ids } => Some(ids),
            _ => None,
        })
        .collect();
    assert_eq!(sorted(released[0].clone()), sorted(instances));
    assert_eq!(
        released.last().map(|ids| ids[0].as_str()),
        Some(net.vpc.as_str())
    );
    // The refused request is journalled as refused; the password never reached the disk.
    assert!(records.iter().any(|r| matches!(r, Record::Refused { .. })));
    let text = std::fs::read_to_string(ledger.journal_path()).expect("journal text");
    assert!(!text.contains("Sup3r-Secret-Pw!"));
    assert!(matches!(records.last(), Some(Record::End { .. })));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scope_that_throws_releases_its_own_resources_and_the_run_goes_on() {
    let env = env().await;
    let ledger = start(&env);
    let vpc = create_vpc(Some(&ledger), &env.client).await;
    let vsw = create_vswitch(&ledger, &env.client, &vpc).await;

    let scope = ledger.open_scope("scope").expect("scope opens");
    let sg = create_group(&ledger, &env.client, &vpc).await;
    let net = Network {
        vpc: vpc.clone(),
        vsw: vsw.clone(),
        sg: sg.clone(),
    };
    let inner = run_instances(&ledger, &env.client, &net, 1).await;
    // ... the block throws here; the host ends the scope on the way out.
    let report = ledger.close_scope(scope).await.expect("scope closes");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(
        inventory(&env.client).await,
        sorted(vec![vpc.clone(), vsw.clone()])
    );
    assert!(report.released.iter().any(|(_, id)| id == &inner[0]));

    // The script goes on in the outer scope.
    let sg2 = create_group(&ledger, &env.client, &vpc).await;
    assert!(inventory(&env.client).await.contains(&sg2));
    let (report, _) = ledger.finish().await.expect("run ends");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(inventory(&env.client).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn security_group_deletion_waits_out_the_dependency_window() {
    let env = env().await;
    let ledger = start(&env);
    let net = network(&ledger, &env.client).await;
    run_instances(&ledger, &env.client, &net, 3).await;
    // Released at once: the instances are still initializing, and once they vanish from
    // DescribeInstances their security group stays held for a while (DependencyViolation).
    let (report, _) = ledger.finish().await.expect("run ends");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(
        report
            .retried
            .keys()
            .any(|c| c.starts_with("DependencyViolation")),
        "retried: {:?}",
        report.retried
    );
    assert!(inventory(&env.client).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reused_vpc_survives() {
    let env = env().await;
    // Found, not created by the run (the stdlib's ensure_vpc_and_vswitch reuses one).
    let vpc = create_vpc(None, &env.client).await;
    let ledger = start(&env);
    let vsw = create_vswitch(&ledger, &env.client, &vpc).await;
    let sg = create_group(&ledger, &env.client, &vpc).await;
    let (report, summary) = ledger.finish().await.expect("run ends");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(inventory(&env.client).await, vec![vpc.clone()]);
    let text = summary.to_string();
    assert!(
        text.contains(&vsw) && text.contains(&sg) && !text.contains(&vpc),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kept_instance_survives_with_its_network_and_is_listed() {
    let env = env().await;
    let ledger = start(&env);
    let net = network(&ledger, &env.client).await;
    let web = run_instances(&ledger, &env.client, &net, 1).await.remove(0);
    let scratch = create_group(&ledger, &env.client, &net.vpc).await;
    let kept = ledger.keep(&web).expect("keep");
    assert_eq!(
        sorted(kept),
        sorted(vec![
            web.clone(),
            net.vsw.clone(),
            net.sg.clone(),
            net.vpc.clone()
        ])
    );
    assert!(ledger.keep("i-not-ours").is_err());

    let (report, summary) = ledger.finish().await.expect("run ends");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let left = inventory(&env.client).await;
    assert_eq!(
        left,
        sorted(vec![
            web.clone(),
            net.vsw.clone(),
            net.sg.clone(),
            net.vpc.clone()
        ])
    );
    assert!(!left.contains(&scratch));
    let text = summary.to_string();
    assert!(
        text.contains(&format!("{web} (ecs.g7.large, PostPaid) [retained (kept)]")),
        "{text}"
    );
    assert!(
        text.contains(&format!("[retained (needed by {web})]")),
        "{text}"
    );

    let runs = cli_list(&files(env.dir.path())).expect("ledger lists");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Ended);
    assert!(runs[0].held.is_empty());
    assert!(runs[0].retained.iter().any(|t| t.id == web));
    assert!(runs[0].to_string().contains(&web));
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_leaves_a_run_in_progress_alone() {
    let env = env().await;
    let ledger = start(&env);
    let sg_vpc = create_vpc(Some(&ledger), &env.client).await;
    let cloud: Arc<dyn Cloud> = Arc::new(env.client.clone());
    let report = cleanup_with(cloud, &files(env.dir.path()), None, &fast())
        .await
        .expect("cleanup");
    assert!(report.runs[0].skipped.is_some(), "{report}");
    assert_eq!(inventory(&env.client).await, vec![sg_vpc]);
    let listed = cli_list(&files(env.dir.path())).expect("list");
    assert_eq!(listed[0].status, RunStatus::InProgress);
    ledger.finish().await.expect("run ends");
}

// --- Crashes and signals: a child process (this test binary, re-run on one ignored test)
// creates resources against the parent's simulator and dies or is interrupted; the parent
// checks what is left through the simulator and cleans up.

const CHILD_ENV: &str = "ECSH_LEDGER_TEST_CHILD";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ending {
    /// SIGKILL from outside while the run holds a network and two instances.
    KilledMidRun,
    /// Dies right after RunInstances is answered, before its ids are journalled.
    AfterSendingRunInstances,
}

async fn run_child(env: &Env, ending: Ending) -> std::process::ExitStatus {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let sim = &env.sim;
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    cmd.args([
        "ledger::crash_child",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, format!("{ending:?}"))
    .env("CHILD_ENDPOINT", sim.endpoint())
    .env("CHILD_KEY_ID", sim.key_id())
    .env("CHILD_KEY_SECRET", sim.secret())
    .env("CHILD_JOURNAL_DIR", env.dir.path())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    if ending == Ending::AfterSendingRunInstances {
        cmd.env(ecsh::ledger::scope::CRASH_AFTER_SEND_ENV, "RunInstances");
    }
    let mut child = cmd.spawn().expect("child starts");
    let stdout = child.stdout.take().expect("child stdout");
    tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok);
        let mut wait_for = |what: &str| {
            assert!(
                lines.any(|l| l.contains(what)),
                "the child never said {what}"
            )
        };
        match ending {
            Ending::AfterSendingRunInstances => {}
            Ending::KilledMidRun => {
                wait_for("CHILD READY");
                child.kill().expect("SIGKILL");
            }
        }
        child.wait().expect("child ends")
    })
    .await
    .expect("wait")
}

/// Not a test on its own: the body of the child process of the tests above and below.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "runs only as the child process of the crash and signal tests"]
async fn crash_child() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    let var = |k: &str| std::env::var(k).expect("set by the parent");
    let client = client_for(
        &var("CHILD_ENDPOINT"),
        &var("CHILD_KEY_ID"),
        &var("CHILD_KEY_SECRET"),
    );
    let ledger = start_in(&client, Path::new(&var("CHILD_JOURNAL_DIR")));
    let net = network(&ledger, &client).await;
    run_instances(&ledger, &client, &net, 2).await;
    println!("CHILD READY ({mode})");
    // Signals are tested on the real binary (tests/it/failures.rs); this child only dies.
    tokio::time::sleep(Duration::from_secs(600)).await;
    panic!("never killed");
}

async fn cleanup_finds_everything(env: &Env, ending: Ending) {
    let runs = cli_list(&files(env.dir.path())).expect("list");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Crashed);
    if ending == Ending::AfterSendingRunInstances {
        assert_eq!(runs[0].unanswered.len(), 1, "{}", runs[0]);
        assert_eq!(runs[0].held.len(), 3, "{}", runs[0]);
    }

    let cloud: Arc<dyn Cloud> = Arc::new(env.client.clone());
    let report = cleanup_with(cloud.clone(), &files(env.dir.path()), None, &fast())
        .await
        .expect("cleanup");
    assert!(report.is_clean(), "{report}");
    if ending == Ending::AfterSendingRunInstances {
        assert_eq!(report.runs[0].found.len(), 2, "{report}");
    }
    assert!(inventory(&env.client).await.is_empty(), "{report}");
    let runs = cli_list(&files(env.dir.path())).expect("list");
    assert_eq!(runs[0].status, RunStatus::Ended);
    assert!(!runs[0].needs_cleanup());
    // A second cleanup has nothing to do.
    let again = cleanup_with(cloud, &files(env.dir.path()), None, &fast())
        .await
        .expect("cleanup again");
    assert!(again.runs.is_empty(), "{again}");
}

async fn crash_then_cleanup(ending: Ending) {
    let env = env().await;
    let status = run_child(&env, ending).await;
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "the child was killed: {status:?}");
    }
    assert_eq!(
        inventory(&env.client).await.len(),
        5,
        "the child created a network and 2 instances"
    );
    cleanup_finds_everything(&env, ending).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_mid_run_is_cleaned_up_from_its_journal() {
    // Against a standalone `ecsh sim --state`, as a real account would outlive both processes.
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("account.json");
    let sim = standalone_sim(&state);
    let mut env = Env {
        client: client_for(&sim.endpoint, STANDALONE_KEY_ID, STANDALONE_SECRET),
        sim: Sim::Standalone(sim),
        dir,
    };
    let status = run_child(&env, Ending::KilledMidRun).await;
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "the child was killed: {status:?}");
    }
    // The simulator goes down too (SIGKILL) and comes back from its state file.
    if let Sim::Standalone(old) = &mut env.sim {
        old.stop();
    }
    let sim = standalone_sim(&state);
    env.client = client_for(&sim.endpoint, STANDALONE_KEY_ID, STANDALONE_SECRET);
    env.sim = Sim::Standalone(sim);
    assert_eq!(
        inventory(&env.client).await.len(),
        5,
        "the child created a network and 2 instances"
    );
    cleanup_finds_everything(&env, Ending::KilledMidRun).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_between_sending_run_instances_and_journalling_is_found_by_the_run_tag() {
    crash_then_cleanup(Ending::AfterSendingRunInstances).await;
}
