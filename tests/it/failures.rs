//! The ledger's failure matrix: every way a run can end, fail or be lied to, driven through the
//! real `ecsh` binary against a standalone `ecsh sim --state` process, with what is left
//! counted through the simulator's own API (not through ecsh's view of it).
//!
//! Each case ends by asserting that nothing is left (and nothing was created twice). Signals
//! are sent to the real binary at observable points (a line the script prints, a record in
//! the journal file), so the handler tested is the one users get.

use super::support::{ecsh, ecsh_command, text, Running};
use ecsh::ops::Product;
use ecsh::rpc::{Client, ClientConfig, Credentials};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const KEY_ID: &str = "LTAIfailureMatrix0000000";
const SECRET: &str = "failureMatrixSecret0000000000000";
const REGION: &str = "cn-hangzhou";

/// `ecsh sim --state FILE` in its own process; killed when dropped.
struct Sim {
    child: Child,
    endpoint: String,
    _dir: tempfile::TempDir,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A standalone simulator whose time runs at `scale` (0.01 = 100x faster), with `faults`.
fn sim(scale: &str, faults: &[&str]) -> Sim {
    let dir = tempfile::tempdir().expect("dir");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ecsh"));
    cmd.args(["sim", "--listen", "127.0.0.1:0", "--time-scale", scale])
        .args(["--access-key-id", KEY_ID, "--access-key-secret", SECRET])
        .arg("--state")
        .arg(dir.path().join("account.json"));
    for f in faults {
        cmd.args(["--fault", f]);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ecsh sim starts");
    let endpoint = crate::support::sim_endpoint(child.stdout.take().expect("sim stdout"))
        .unwrap_or_else(|| panic!("ecsh sim printed no endpoint"));
    Sim {
        child,
        endpoint,
        _dir: dir,
    }
}

/// A run's surroundings: the simulator, a journal directory and a script directory.
struct Case {
    sim: Sim,
    journal: tempfile::TempDir,
    scripts: tempfile::TempDir,
}

impl Case {
    fn new(scale: &str, faults: &[&str]) -> Case {
        Case {
            sim: sim(scale, faults),
            journal: tempfile::tempdir().expect("journal dir"),
            scripts: tempfile::tempdir().expect("script dir"),
        }
    }

    fn script(&self, name: &str, body: &str) -> PathBuf {
        let p = self.scripts.path().join(name);
        std::fs::write(&p, body).expect("script written");
        p
    }

    fn env(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET),
        ]
    }

    /// `ecsh --endpoint … --journal-dir … --yes ARGS…`, to completion.
    fn ecsh(&self, args: &[&str]) -> std::process::Output {
        self.ecsh_with(args, &self.env())
    }

    fn ecsh_with(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let journal = self.journal.path().to_string_lossy().to_string();
        let mut all = vec![
            "--endpoint",
            &self.sim.endpoint,
            "--journal-dir",
            &journal,
            "--yes",
        ];
        all.extend_from_slice(args);
        ecsh(&all, env)
    }

    /// `ecsh run SCRIPT` in the background, its stdout lines delivered as they come.
    fn spawn_run(&self, script: &Path, extra: &[&str]) -> Running {
        let journal = self.journal.path().to_string_lossy().to_string();
        let script = script.to_string_lossy().to_string();
        let mut args = vec![
            "--endpoint",
            &self.sim.endpoint,
            "--journal-dir",
            &journal,
            "--yes",
        ];
        args.extend_from_slice(extra);
        args.extend(["run", script.as_str()]);
        Running::spawn(ecsh_command(&args, &self.env()))
    }

    fn client(&self) -> Client {
        let mut config = ClientConfig::new(Credentials::new(KEY_ID, SECRET), REGION);
        config.endpoint_override = Some(self.sim.endpoint.clone());
        Client::new(config).expect("client")
    }

    /// Every instance, security group, vswitch and VPC the simulator lists.
    fn inventory(&self) -> Vec<String> {
        let client = self.client();
        block_on(async move { super::support::inventory(&client, REGION).await })
    }

    fn instances(&self) -> Vec<String> {
        self.inventory()
            .into_iter()
            .filter(|i| i.starts_with("i-"))
            .collect()
    }

    /// The one run journal in the journal directory.
    fn journal_file(&self) -> Option<PathBuf> {
        std::fs::read_dir(self.journal.path())
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
    }

    /// Waits until the run's journal contains `needle` (a record the run has fsynced).
    fn wait_journal(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(p) = self.journal_file() {
                if std::fs::read_to_string(&p).is_ok_and(|t| t.contains(needle)) {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the journal never showed {needle}");
    }

    /// `ecsh cleanup` with the right credentials: clean, and nothing left.
    fn cleanup_leaves_nothing(&self) -> String {
        let out = self.ecsh(&["cleanup"]);
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{said}");
        assert_eq!(self.inventory(), Vec::<String>::new(), "{said}");
        said
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// Creates a VPC of its own (never reused by another run), says READY, then keeps busy.
const VPC_ONLY: &str = r#"
let v = call_api("vpc", "CreateVpc", #{ RegionId: "cn-hangzhou", CidrBlock: "10.1.0.0/16" }).VpcId;
print(`READY ${v}`);
wait_vpc(#{ vpc_id: v, region: "cn-hangzhou" });
for i in 0..40000000 {}
"#;

/// Creates a network and an instance, says READY, then waits (polling) for up to an hour.
pub(crate) const HOLD: &str = r#"
let spec = find_available_instance_type(#{ cores: 2, memory: 4, regions: ["cn-hangzhou"] });
let infra = create_instance_with_infra(#{ instance_type: spec.instance_type, zone_id: spec.zone_id,
    region: spec.region, image_family: "acs:ubuntu_24_04_x64", estimated_runtime: "5m" });
print(`READY ${infra.instance_id}`);
wait_instances(#{ instance_ids: [infra.instance_id], status: "Stopped", timeout: 3600 });
"#;

/// The network and instance of HOLD, then `ending`.
fn create_then(ending: &str) -> String {
    format!(
        r#"
let spec = find_available_instance_type(#{{ cores: 2, memory: 4, regions: ["cn-hangzhou"] }});
let infra = create_instance_with_infra(#{{ instance_type: spec.instance_type, zone_id: spec.zone_id,
    region: spec.region, image_family: "acs:ubuntu_24_04_x64", estimated_runtime: "5m" }});
print(`READY ${{infra.instance_id}}`);
{ending}
"#
    )
}

#[test]
fn a_throw_releases_everything() {
    let case = Case::new("0.01", &[]);
    let s = case.script("throw.rhai", &create_then(r#"throw "boom";"#));
    let out = case.ecsh(&["run", s.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("boom"));
    assert_eq!(
        case.inventory(),
        Vec::<String>::new(),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_throw_in_a_scope_releases_the_scope_and_then_the_run() {
    let case = Case::new("0.01", &[]);
    let s = case.script(
        "scope.rhai",
        &format!(
            "let outer = call_api(\"vpc\", \"CreateVpc\", #{{ RegionId: \"cn-hangzhou\", CidrBlock: \"10.9.0.0/16\" }});\nscope(|| {{ {} }});",
            create_then(r#"throw "inner boom";"#)
        ),
    );
    let out = case.ecsh(&["run", s.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("inner boom"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        case.inventory(),
        Vec::<String>::new(),
        "{}",
        text(&out.stderr)
    );
}

/// SIGINT, SIGTERM, SIGHUP once after Running: stop, release, summary, exit 128 + n.
#[test]
fn each_stopping_signal_releases_and_exits_with_its_code() {
    for (sig, code) in [
        (libc::SIGINT, 130),
        (libc::SIGTERM, 143),
        (libc::SIGHUP, 129),
    ] {
        let case = Case::new("0.01", &[]);
        let s = case.script("hold.rhai", HOLD);
        let run = case.spawn_run(&s, &[]);
        run.wait_for("READY");
        assert_eq!(case.instances().len(), 1, "running before signal {sig}");
        run.signal(sig);
        let (got, stderr) = run.finish();
        assert_eq!(got, code, "signal {sig}: {stderr}");
        assert!(
            stderr.contains("[released]"),
            "signal {sig}: the summary: {stderr}"
        );
        assert_eq!(
            case.inventory(),
            Vec::<String>::new(),
            "signal {sig}: {stderr}"
        );
    }
}

#[test]
fn a_second_signal_exits_at_once_and_cleanup_finishes_the_job() {
    // Every answer takes 400 ms, so the release is still going when the second signal comes.
    let case = Case::new("0.01", &["latency=400ms"]);
    let s = case.script("hold.rhai", HOLD);
    let run = case.spawn_run(&s, &[]);
    run.wait_for("READY");
    run.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(200));
    run.signal(libc::SIGTERM);
    let (got, stderr) = run.finish();
    assert_eq!(got, 143, "{stderr}");
    assert!(stderr.contains("exiting now"), "{stderr}");
    assert!(!case.inventory().is_empty(), "the release was cut short");
    case.cleanup_leaves_nothing();
}

#[test]
fn sigkill_during_the_wait_then_cleanup_twice() {
    let case = Case::new("0.01", &[]);
    let s = case.script("hold.rhai", HOLD);
    let mut run = case.spawn_run(&s, &[]);
    run.wait_for("READY");
    run.child.kill().expect("SIGKILL");
    let (got, _) = run.finish();
    assert_eq!(got, 1009);
    assert_eq!(
        case.inventory().len(),
        4,
        "network, group and instance left by the kill"
    );
    case.cleanup_leaves_nothing();
    let again = case.ecsh(&["cleanup"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        text(&again.stdout).contains("nothing to clean up"),
        "{}",
        text(&again.stdout)
    );
}

#[test]
fn sigkill_while_run_instances_is_in_flight_then_cleanup() {
    let case = Case::new("0.01", &["latency=500ms"]);
    let s = case.script("hold.rhai", HOLD);
    let mut run = case.spawn_run(&s, &[]);
    // The intent is fsynced before the request leaves; its answer takes 500 ms.
    case.wait_journal(r#""action":"RunInstances""#);
    run.child.kill().expect("SIGKILL");
    run.finish();
    let said = case.cleanup_leaves_nothing();
    assert!(!said.contains("NOT released"), "{said}");
}

#[test]
fn sigkill_during_the_release_then_cleanup() {
    let case = Case::new("0.01", &["latency=300ms"]);
    let s = case.script("done.rhai", &create_then(r#"print("END");"#));
    let mut run = case.spawn_run(&s, &[]);
    run.wait_for("END");
    // The instances go first; kill once their release is journalled, before the network's.
    case.wait_journal(r#""t":"released""#);
    run.child.kill().expect("SIGKILL");
    run.finish();
    case.cleanup_leaves_nothing();
}

#[test]
fn two_runs_on_one_journal_directory() {
    let case = Case::new("0.01", &[]);
    let s = case.script("done.rhai", &create_then(r#"print("END");"#));
    let a = case.spawn_run(&s, &[]);
    let b = case.spawn_run(&s, &[]);
    let (ca, ea) = a.finish();
    let (cb, eb) = b.finish();
    assert_eq!((ca, cb), (0, 0), "{ea}\n{eb}");
    assert_eq!(case.inventory(), Vec::<String>::new());
    let listed = case.ecsh(&["ledger"]);
    assert_eq!(
        text(&listed.stdout).matches(" ended ").count(),
        2,
        "{}",
        text(&listed.stdout)
    );
}

#[test]
fn a_resource_deleted_by_hand_does_not_fail_cleanup() {
    let case = Case::new("0.01", &[]);
    let s = case.script("hold.rhai", HOLD);
    let mut run = case.spawn_run(&s, &[]);
    let id = run
        .wait_for("READY")
        .trim_start_matches("READY ")
        .to_string();
    run.child.kill().expect("SIGKILL");
    run.finish();
    let client = case.client();
    block_on(async move {
        client
            .call(
                Product::Ecs,
                "DeleteInstances",
                vec![
                    ("RegionId".into(), REGION.into()),
                    ("InstanceId.1".into(), id),
                    ("Force".into(), "true".into()),
                ],
            )
            .await
            .expect("deleted by hand");
    });
    case.cleanup_leaves_nothing();
}

#[test]
fn a_deeply_nested_value_ends_in_an_error_and_a_release_not_an_abort() {
    let case = Case::new("0.01", &[]);
    let s = case.script(
        "nest.rhai",
        &create_then("let a = #{};\nfor i in 0..1000000 { a = #{ x: a }; }\nprint(\"built\");"),
    );
    let out = case.ecsh(&["run", s.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "not 134 (SIGABRT): {stderr}");
    assert!(stderr.contains("engine limit"), "{stderr}");
    assert_eq!(case.inventory(), Vec::<String>::new(), "{stderr}");
}

#[test]
fn cleanup_with_a_wrong_key_refuses_and_releases_nothing() {
    let case = Case::new("0.01", &[]);
    let s = case.script("hold.rhai", HOLD);
    let mut run = case.spawn_run(&s, &[]);
    run.wait_for("READY");
    run.child.kill().expect("SIGKILL");
    run.finish();
    let before = case.inventory();
    assert_eq!(before.len(), 4);
    let wrong = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIsomeoneElsesKey00000"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET),
    ];
    let out = case.ecsh_with(&["cleanup"], &wrong);
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("refused") && said.contains("another AccessKey"),
        "{said}"
    );
    assert!(
        !said.contains("released 4") && !said.contains("run ended"),
        "{said}"
    );
    assert_eq!(
        case.inventory(),
        before,
        "nothing released, nothing claimed"
    );
    case.cleanup_leaves_nothing();
}

#[test]
fn a_spoofed_run_tag_is_overwritten_by_the_hosts() {
    let case = Case::new("0.01", &[]);
    let s = case.script(
        "spoof.rhai",
        r#"
let spec = find_available_instance_type(#{ cores: 2, memory: 4, regions: ["cn-hangzhou"] });
let net = ensure_vpc_and_vswitch(#{ zone_id: spec.zone_id, region: spec.region });
let sg = setup_security_group(#{ vpc_id: net.vpc_id, region: spec.region });
let r = call_api("ecs", "RunInstances", #{ RegionId: spec.region, InstanceType: spec.instance_type,
    ImageFamily: "acs:ubuntu_24_04_x64", VSwitchId: net.vswitch_id, SecurityGroupId: sg,
    Tag: [#{ Key: "ecsh:run", Value: "r-20200101-000000-dead" }] });
print(`READY ${r.InstanceIdSets.InstanceIdSet[0]}`);
wait_instances(#{ instance_ids: [r.InstanceIdSets.InstanceIdSet[0]], status: "Stopped", timeout: 3600 });
"#,
    );
    let run = case.spawn_run(&s, &[]);
    let id = run
        .wait_for("READY")
        .trim_start_matches("READY ")
        .to_string();
    let journal = case.journal_file().expect("journal");
    let run_id = journal.file_stem().unwrap().to_string_lossy().to_string();
    let client = case.client();
    let tags = block_on(async move {
        client
            .call(
                Product::Ecs,
                "DescribeInstances",
                vec![
                    ("RegionId".into(), REGION.into()),
                    ("InstanceIds".into(), format!("[\"{id}\"]")),
                ],
            )
            .await
            .expect("describe")
    });
    let shown = tags["Instances"]["Instance"][0]["Tags"]["Tag"].to_string();
    assert!(shown.contains(&run_id), "{shown}");
    assert!(!shown.contains("r-20200101-000000-dead"), "{shown}");
    run.signal(libc::SIGTERM);
    let (code, stderr) = run.finish();
    assert_eq!(code, 143, "{stderr}");
    assert_eq!(case.inventory(), Vec::<String>::new());
}

#[test]
fn a_corrupt_journal_line_hides_no_run_and_blocks_no_cleanup() {
    let case = Case::new("0.01", &[]);
    // Two crashed runs; the second makes a VPC of its own, so neither needs the other's.
    for body in [HOLD, VPC_ONLY] {
        let s = case.script("crash.rhai", body);
        let mut run = case.spawn_run(&s, &[]);
        run.wait_for("READY");
        run.child.kill().expect("SIGKILL");
        run.finish();
    }
    assert_eq!(case.instances().len(), 1);
    assert_eq!(case.inventory().len(), 5);
    // Damage a middle line of one journal (the one that holds the instance's `created`).
    let mut files: Vec<PathBuf> = std::fs::read_dir(case.journal.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    let text_of = std::fs::read_to_string(&files[0]).unwrap();
    let damaged: Vec<String> = text_of
        .lines()
        .map(|l| {
            if l.contains(r#""t":"created""#) {
                "{\"t\":\"crea##garbage".to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&files[0], damaged.join("\n") + "\n").unwrap();
    let listed = case.ecsh(&["ledger"]);
    let shown = text(&listed.stdout);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    assert!(shown.contains("journal damaged"), "{shown}");
    assert_eq!(
        shown.matches("crashed").count(),
        2,
        "both runs listed: {shown}"
    );
    let said = case.cleanup_leaves_nothing();
    assert!(said.contains("searched by the run tag"), "{said}");
}

/// Under 20% throttling and 10% server errors, 28% of attempts fail. With six attempts a call
/// fails for good about once in 2,000 (0.28^6), so a ~50-call quickstart fails about one run in
/// 40: over 20 seeds about half a run is expected to fail, and more than three almost never
/// (0.2% for a Poisson mean of 0.5). A run that fails must fail with the injected fault after
/// its retries, never otherwise, and leave nothing behind either way.
///
/// Time scale 0.01, not 0.002: the five backoffs of a call that fails for good take up to
/// 15.5 s of real time, and the default 1-hour lease, computed once before the first attempt
/// (the ClientToken keeps every attempt's parameters identical), is only 30 simulated minutes
/// above the service's minimum: 18 s of real time at 0.01, 3.6 s at 0.002, where a
/// slow-retried RunInstances met `InvalidAutoReleaseTime`, a failure no real time scale shows.
#[test]
fn the_quickstart_completes_under_throttling_and_server_errors() {
    let mut completed = 0;
    let mut failures = Vec::new();
    let quickstart = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/quickstart.rhai");
    for seed in 0..20 {
        let seed = format!("seed={seed}");
        let case = Case::new("0.01", &["throttle=0.2", "5xx=0.1", &seed]);
        let out = case.ecsh(&["run", quickstart]);
        let stderr = text(&out.stderr);
        if out.status.code() == Some(0) {
            completed += 1;
        } else {
            assert!(
                stderr.contains("Throttling.User") || stderr.contains("ServiceUnavailable"),
                "{seed}: a run may only fail with the injected fault, after its retries: {stderr}"
            );
            failures.push(format!("{seed}: {stderr}"));
            // A failed run still releases; whatever a release could not finish, cleanup does.
            let _ = case.ecsh(&["cleanup"]);
        }
        assert_eq!(case.inventory(), Vec::<String>::new(), "{seed}: {stderr}");
    }
    println!("quickstart under throttle 0.2 + 5xx 0.1: {completed}/20 completed");
    assert!(
        completed >= 17,
        "{completed}/20 completed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn a_killed_runs_instance_is_released_by_its_lease_with_no_cleanup_at_all() {
    // 500x: a 30-minute lease is 3.6 s of wall time.
    let case = Case::new("0.002", &[]);
    let s = case.script("hold.rhai", HOLD);
    let mut run = case.spawn_run(&s, &["--auto-release", "30m"]);
    let id = run.wait_for("READY");
    run.child.kill().expect("SIGKILL");
    run.finish();
    assert_eq!(case.instances().len(), 1, "{id}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !case.instances().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        case.instances(),
        Vec::<String>::new(),
        "the cloud released it by AutoReleaseTime"
    );
}

#[test]
fn a_run_alive_for_several_leases_keeps_its_instance() {
    // 500x: 12 s of wall time are 100 simulated minutes, more than three 30-minute leases.
    let case = Case::new("0.002", &[]);
    let s = case.script(
        "long.rhai",
        &create_then(
            r#"
try { wait_instances(#{ instance_ids: [infra.instance_id], status: "Stopped", timeout: 12 }); } catch (e) {}
let d = describe_instances(#{ instance_ids: [infra.instance_id] });
print(`STILL ${d.Instances.Instance.len()} ${d.Instances.Instance[0].Status} ${d.Instances.Instance[0].AutoReleaseTime}`);
"#,
        ),
    );
    let out = case.ecsh(&["--auto-release", "30m", "run", s.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("STILL 1 Running 20"),
        "renewed, never cut short: {stdout}"
    );
    assert_eq!(case.inventory(), Vec::<String>::new());
}

#[test]
fn cleanup_orphans_finds_tagged_resources_with_the_journal_deleted_and_nothing_else() {
    let case = Case::new("0.01", &[]);
    let s = case.script("hold.rhai", HOLD);
    let mut run = case.spawn_run(&s, &[]);
    run.wait_for("READY");
    run.child.kill().expect("SIGKILL");
    run.finish();
    // Someone else's VPC, untagged: never touched.
    let client = case.client();
    let mine = block_on(async move {
        client
            .call(
                Product::Vpc,
                "CreateVpc",
                vec![
                    ("RegionId".into(), REGION.into()),
                    ("CidrBlock".into(), "192.168.0.0/16".into()),
                ],
            )
            .await
            .expect("untagged vpc")["VpcId"]
            .as_str()
            .unwrap()
            .to_string()
    });
    std::fs::remove_dir_all(case.journal.path()).expect("journal dir deleted");
    let out = case.ecsh(&["cleanup", "--orphans"]);
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("run r-") && said.contains("age") && said.contains("/h"),
        "{said}"
    );
    assert_eq!(case.inventory(), vec![mine], "{said}");
}

#[test]
fn the_repl_history_never_holds_the_sessions_secret_value() {
    let case = Case::new("0.01", &[]);
    let history = case.scripts.path().join("history");
    let history_s = history.to_string_lossy().to_string();
    let mut env = case.env();
    env.push(("ECSH_HISTORY", Box::leak(history_s.into_boxed_str())));
    let journal = case.journal.path().to_string_lossy().to_string();
    let mut child = ecsh_command(
        &["--endpoint", &case.sim.endpoint, "--journal-dir", &journal],
        &env,
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("repl starts");
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "let s = \"{SECRET}\";").unwrap();
        writeln!(stdin, "print(\"harmless line\");").unwrap();
        writeln!(stdin, ":quit").unwrap();
    }
    let out = child.wait_with_output().expect("repl ends");
    let saved = std::fs::read_to_string(&history).unwrap_or_default();
    assert!(
        saved.contains("harmless line"),
        "history is written: {saved:?} {}",
        text(&out.stderr)
    );
    assert!(!saved.contains(SECRET), "{saved}");
}

#[test]
fn lost_answers_leave_nothing_untracked_after_cleanup() {
    // 30% of changes are carried out and then answered 503: the run must never take one of
    // them for a refusal, and whatever it could not release, cleanup finds by journal and tag.
    let quickstart = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/quickstart.rhai");
    for seed in 1..=4 {
        let seed = format!("seed={seed}");
        let case = Case::new("0.002", &["lost=0.3", &seed]);
        let out = case.ecsh(&["run", quickstart]);
        let journal = case
            .journal_file()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .unwrap_or_default();
        assert!(
            !journal.contains(r#""t":"refused""#),
            "{seed}: a lost answer became refused:\n{journal}"
        );
        let cleanup = case.ecsh(&["cleanup"]);
        let said = format!("{}{}", text(&cleanup.stdout), text(&cleanup.stderr));
        assert_eq!(
            case.inventory(),
            Vec::<String>::new(),
            "{seed}: run said {}\ncleanup said {said}",
            text(&out.stderr)
        );
    }
}

#[test]
fn kept_resources_are_listed_and_released_by_ecsh_release() {
    let case = Case::new("0.01", &[]);
    let s = case.script("keep.rhai", &create_then("keep(infra.instance_id);"));
    let out = case.ecsh(&["run", s.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("AutoReleaseTime cleared"),
        "keep says what it did to the lease: {stderr}"
    );
    assert_eq!(case.inventory().len(), 4, "kept with its network: {stderr}");
    let client = case.client();
    let id = case.instances()[0].clone();
    let shown = block_on(async move {
        client
            .call(
                Product::Ecs,
                "DescribeInstances",
                vec![
                    ("RegionId".into(), REGION.into()),
                    ("InstanceIds".into(), format!("[\"{id}\"]")),
                ],
            )
            .await
            .expect("describe")
    });
    assert_eq!(
        shown["Instances"]["Instance"][0]["AutoReleaseTime"], "",
        "kept without a duration: no lease"
    );
    let cleanup = case.ecsh(&["cleanup"]);
    assert!(
        text(&cleanup.stdout).contains("nothing to clean up"),
        "{}",
        text(&cleanup.stdout)
    );
    let listed = text(&case.ecsh(&["ledger"]).stdout);
    assert!(
        listed.contains("retained (kept) 4") && listed.contains("age") && listed.contains("/h"),
        "{listed}"
    );
    let run = case
        .journal_file()
        .unwrap()
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert!(
        listed.contains(&format!("ecsh release --run {run}")),
        "{listed}"
    );
    // Without --yes and without a terminal, nothing is released.
    let journal = case.journal.path().to_string_lossy().to_string();
    let asked = ecsh(
        &[
            "--endpoint",
            &case.sim.endpoint,
            "--journal-dir",
            &journal,
            "release",
            "--run",
            &run,
        ],
        &case.env(),
    );
    assert_eq!(asked.status.code(), Some(1), "{}", text(&asked.stderr));
    assert_eq!(case.inventory().len(), 4);
    let released = case.ecsh(&["release", "--run", &run, "--output", "json"]);
    let said = format!("{}{}", text(&released.stdout), text(&released.stderr));
    assert_eq!(released.status.code(), Some(0), "{said}");
    assert_eq!(case.inventory(), Vec::<String>::new(), "{said}");
    // --output json: stdout is one JSON report (the listing went to stderr).
    let report: serde_json::Value = serde_json::from_slice(&released.stdout).expect("json");
    assert_eq!(report["clean"], true, "{report:#}");
    assert_eq!(
        report["runs"][0]["released"].as_array().map(Vec::len),
        Some(4),
        "{report:#}"
    );
}

#[test]
fn release_in_a_script_releases_now_and_sigterm_ends_a_repl_session_with_a_release() {
    let case = Case::new("0.01", &[]);
    let s = case.script(
        "release.rhai",
        &create_then(
            r#"
let gone = release(infra.instance_id);
let d = describe_instances(#{ instance_ids: [infra.instance_id] });
print(`GONE ${gone} LEFT ${d.Instances.Instance.len()}`);
"#,
        ),
    );
    let out = case.ecsh(&["run", s.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.contains("LEFT 0"), "{stdout}");
    assert_eq!(case.inventory(), Vec::<String>::new());

    // The REPL: SIGTERM while the session holds an instance.
    let journal = case.journal.path().to_string_lossy().to_string();
    let mut child = ecsh_command(
        &[
            "--endpoint",
            &case.sim.endpoint,
            "--journal-dir",
            &journal,
            "--yes",
        ],
        &case.env(),
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("repl starts");
    let mut stdin = child.stdin.take().expect("stdin");
    {
        use std::io::Write;
        let line = create_then("").replace('\n', " ");
        writeln!(stdin, "{line}").unwrap();
    }
    let (tx, lines) = mpsc::channel();
    let out = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline
            .checked_duration_since(Instant::now())
            .expect("READY in time");
        if lines
            .recv_timeout(left)
            .expect("repl output")
            .contains("READY")
        {
            break;
        }
    }
    assert_eq!(case.instances().len(), 1);
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: signals our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = child.wait().expect("repl ends");
    drop(stdin);
    assert_eq!(status.code(), Some(143));
    assert_eq!(case.inventory(), Vec::<String>::new());
}

#[test]
fn a_lease_that_cannot_be_renewed_is_said_on_stderr() {
    // 500x: the 30-minute lease is due for renewal about 2 s (17 simulated minutes) in.
    let case = Case::new("0.002", &[]);
    let s = case.script(
        "renew.rhai",
        r#"
let spec = find_available_instance_type(#{ cores: 2, memory: 4, regions: ["cn-hangzhou"] });
let infra = create_instance_with_infra(#{ instance_type: spec.instance_type, zone_id: spec.zone_id,
    region: spec.region, image_family: "acs:ubuntu_24_04_x64", estimated_runtime: "5m" });
print(`READY ${infra.instance_id}`);
let t = timestamp();
while t.elapsed < 8.0 { describe_regions(#{}); }
print("DONE");
"#,
    );
    let run = case.spawn_run(&s, &["--auto-release", "30m"]);
    let ready = run.wait_for("READY");
    let id = ready.trim_start_matches("READY ").trim().to_string();
    // Deleted behind the run's back: renewing its lease can only fail now.
    let client = case.client();
    let gone = id.clone();
    block_on(async move {
        client
            .call(
                Product::Ecs,
                "DeleteInstance",
                vec![("InstanceId".into(), gone), ("Force".into(), "true".into())],
            )
            .await
            .expect("deleted by hand")
    });
    run.wait_for("DONE");
    let (code, stderr) = run.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "ecsh: warning: could not renew the AutoReleaseTime lease of {id}"
        )),
        "a failed renewal is said, not silent: {stderr}"
    );
    assert_eq!(case.inventory(), Vec::<String>::new(), "{stderr}");
}
