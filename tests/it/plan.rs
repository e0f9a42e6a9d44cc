//! `ecsh plan` and `ecsh run --plan`, through the real binary, against a standalone
//! `ecsh sim --request-log` playing "the cloud": what the plan shows, what the target received
//! (only reads while planning), what the target holds afterwards, and how a real run is held
//! to its plan (one question; an extra chargeable action stopped).

use crate::guard::bypass::Sim;
use crate::support::text;
use serde_json::Value;
use std::path::Path;

fn repo_script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
        .display()
        .to_string()
}

/// `ecsh plan --output json FILE [ARGS…]` against `sim`: the plan, and stderr.
fn plan(sim: &Sim, file: &str) -> (Value, String) {
    plan_with(sim, &[file])
}

fn plan_with(sim: &Sim, script: &[&str]) -> (Value, String) {
    let mut args = vec!["plan", "--output", "json"];
    args.extend_from_slice(script);
    let out = sim.ecsh(&args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}\n{}", text(&out.stdout));
    let plan = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("plan JSON: {e}: {}", text(&out.stdout)));
    (plan, err)
}

/// The plan's resources as (kind, status) pairs.
fn kinds(plan: &Value) -> Vec<(String, String)> {
    plan["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or("").to_string(),
                r["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Every action the target received, and asserts each one is a read in the registry.
#[track_caller]
fn assert_only_reads(sim: &Sim) -> Vec<String> {
    let actions: Vec<String> = sim
        .requests()
        .iter()
        .map(|r| r["action"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(!actions.is_empty(), "the plan read nothing from the target");
    for action in &actions {
        let read = ecsh::ops::ACTIONS
            .iter()
            .any(|a| a.name == action && a.effect == ecsh::ops::Effect::Read);
        assert!(
            read,
            "the target received {action}, which is not a read: {actions:?}"
        );
    }
    actions
}

/// The ids the target lists for a describe call (through `ecsh call`).
fn listed(sim: &Sim, product: &str, action: &str, query: &str) -> Vec<String> {
    let out = sim.ecsh(&[
        "call",
        product,
        action,
        "RegionId=cn-hangzhou",
        "--query",
        query,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON list")
}

/// The target holds no instance (none was created, or what was created was released).
#[track_caller]
fn assert_no_instances(sim: &Sim) {
    let ids = listed(
        sim,
        "ecs",
        "DescribeInstances",
        "Instances.Instance[].InstanceId",
    );
    assert!(ids.is_empty(), "{ids:?}");
}

#[test]
fn the_quickstart_plan_lists_what_it_would_create_at_the_targets_price_and_sends_only_reads() {
    let sim = Sim::start();
    let (plan, err) = plan(&sim, &repo_script("quickstart.rhai"));
    let new = |k: &str| (k.to_string(), "new".to_string());
    // In creation order: the security group is made while the VPC becomes Available.
    assert_eq!(
        kinds(&plan),
        [new("VPC"), new("SecurityGroup"), new("VSwitch"), new("ECS")],
        "{plan:#}"
    );
    let instance = &plan["resources"][3];
    assert!(
        instance["spec"].as_str().unwrap_or("").ends_with(" x 1"),
        "{instance}"
    );
    // Each entry names the script line that caused it: create_instance_with_infra's.
    let source = std::fs::read_to_string(repo_script("quickstart.rhai")).expect("script");
    let line = source
        .lines()
        .position(|l| l.contains("= create_instance_with_infra("))
        .expect("the call")
        + 1;
    assert_eq!(instance["line"], line, "{instance}");
    let charges = plan["charges"].as_array().expect("charges");
    assert_eq!(charges.len(), 1, "{plan:#}");
    assert_eq!(charges[0]["action"], "RunInstances");
    assert_eq!(charges[0]["outcome"], "created");
    assert_eq!(plan["total"], charges[0]["estimate"]);
    assert_eq!(plan["peak_hourly"], charges[0]["hourly"]);
    // The price is the one the target quotes for the request the plan sent it.
    let actions = assert_only_reads(&sim);
    let quote = sim
        .requests()
        .into_iter()
        .rfind(|r| r["action"] == "DescribePrice")
        .expect("the target was asked for the price");
    let mut args: Vec<String> = vec!["call".into(), "ecs".into(), "DescribePrice".into()];
    for (k, v) in quote["params"].as_object().expect("logged params") {
        if ecsh::rpc::params::RESERVED.contains(&k.as_str()) {
            continue;
        }
        args.push(format!("{k}={}", v.as_str().unwrap_or_default()));
    }
    args.extend(["--query".into(), "PriceInfo.Price.TradePrice".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sim.ecsh(&args);
    let trade: f64 = text(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{}{}", text(&out.stdout), text(&out.stderr)));
    let hourly = charges[0]["hourly"]["amount"].as_f64().expect("hourly");
    assert!(
        (hourly - trade).abs() < 1e-9,
        "{hourly} vs the target's {trade}"
    );
    assert_eq!(plan["reads_sent"], actions.len(), "{err}");
    // Nothing was created on the target.
    assert!(listed(&sim, "vpc", "DescribeVpcs", "Vpcs.Vpc[].VpcId").is_empty());
    assert_no_instances(&sim);
}

#[test]
fn a_network_already_in_the_target_is_reused_in_the_plan() {
    let sim = Sim::start();
    let (first, _) = plan(&sim, &repo_script("quickstart.rhai"));
    let zone = first["resources"][3]["zone"]
        .as_str()
        .expect("the instance's zone")
        .to_string();
    let call = |args: &[&str], query: &str| -> String {
        let mut full = vec!["call"];
        full.extend_from_slice(args);
        full.extend(["--query", query]);
        let out = sim.ecsh(&full);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice::<String>(&out.stdout).expect("an id")
    };
    let vpc = call(
        &[
            "vpc",
            "CreateVpc",
            "RegionId=cn-hangzhou",
            "CidrBlock=10.0.0.0/16",
            "VpcName=team-vpc",
        ],
        "VpcId",
    );
    let vsw = call(
        &[
            "vpc",
            "CreateVSwitch",
            "RegionId=cn-hangzhou",
            &format!("VpcId={vpc}"),
            &format!("ZoneId={zone}"),
            "CidrBlock=10.0.1.0/24",
            "VSwitchName=team-vsw",
        ],
        "VSwitchId",
    );
    let (plan, _) = plan(&sim, &repo_script("quickstart.rhai"));
    let reused = |id: &str| {
        plan["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} is not in the plan: {plan:#}"))
    };
    let (v, s) = (reused(&vpc), reused(&vsw));
    assert_eq!(
        (v["kind"].as_str(), v["status"].as_str(), v["name"].as_str()),
        (Some("VPC"), Some("reused"), Some("team-vpc"))
    );
    assert_eq!(
        (s["kind"].as_str(), s["status"].as_str(), s["name"].as_str()),
        (Some("VSwitch"), Some("reused"), Some("team-vsw"))
    );
    let new: Vec<String> = kinds(&plan)
        .into_iter()
        .filter(|(_, status)| status == "new")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(new, ["SecurityGroup", "ECS"], "{plan:#}");
    // The plan's table says it too.
    let out = sim.ecsh(&["plan", "--output", "table", &repo_script("quickstart.rhai")]);
    let table = text(&out.stdout);
    assert!(
        table.contains(&format!("reused {vpc}")) && table.contains("team-vpc"),
        "{table}"
    );
    assert_eq!(
        listed(&sim, "vpc", "DescribeVpcs", "Vpcs.Vpc[].VpcId"),
        [vpc]
    );
}

/// Sold out on the target only (the catalogue has it in stock there), so only a plan that
/// sees the target's stock plans the fallback.
const NOSTOCK: &str = "nostock=ecs.g7.xlarge@cn-hangzhou-i";
/// nostock_fallback.rhai's ARGS: the type and its preferred zone.
const FALLBACK_ARGS: [&str; 2] = ["ecs.g7.xlarge", "cn-hangzhou-i"];

/// The zones of the plan's instances, and the outcomes of its chargeable actions.
fn zones_and_outcomes(plan: &Value) -> (Vec<String>, Vec<String>) {
    let field = |list: &str, filter: &dyn Fn(&Value) -> bool, key: &str| -> Vec<String> {
        plan[list]
            .as_array()
            .expect("a list")
            .iter()
            .filter(|v| filter(v))
            .map(|v| v[key].as_str().unwrap_or_default().to_string())
            .collect()
    };
    (
        field("resources", &|r| r["kind"] == "ECS", "zone"),
        field("charges", &|_| true, "outcome"),
    )
}

#[test]
fn with_the_preferred_zone_sold_out_in_the_target_the_plan_shows_the_fallback() {
    let script = repo_script("nostock_fallback.rhai");
    let args = [script.as_str(), FALLBACK_ARGS[0], FALLBACK_ARGS[1]];
    // In stock on the target: the preferred zone.
    let plain = Sim::start();
    let (plan, _) = plan_with(&plain, &args);
    assert_eq!(
        zones_and_outcomes(&plan),
        (
            vec!["cn-hangzhou-i".to_string()],
            vec!["created".to_string()]
        ),
        "{plan:#}"
    );
    // Sold out there on the target: the sold-out attempt, then the next zone with stock.
    let sim = Sim::start_with(&["--fault", NOSTOCK]);
    let (plan, _) = plan_with(&sim, &args);
    assert_eq!(
        zones_and_outcomes(&plan),
        (
            vec!["cn-hangzhou-h".to_string()],
            vec![
                "failed: OperationDenied.NoStock".to_string(),
                "created".to_string()
            ]
        ),
        "{plan:#}"
    );
    let instance = plan["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["kind"] == "ECS")
        .cloned()
        .expect("an instance");
    assert_eq!(instance["spec"], "ecs.g7.xlarge x 1");
    assert_eq!(
        plan["total"], plan["charges"][1]["estimate"],
        "only what is created counts"
    );
    assert_only_reads(&sim);
}

#[test]
fn run_with_plan_asks_once_for_the_fallback_script_then_runs_it() {
    use expectrl::Session;
    use std::process::Command;
    use std::time::Duration;
    let sim = Sim::start_with(&["--fault", NOSTOCK]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsh"));
    cmd.args(["--endpoint", &sim.endpoint, "--journal-dir"])
        .arg(sim.dir.path().join("journal"))
        .args(["run", "--plan", &repo_script("nostock_fallback.rhai")])
        .args(FALLBACK_ARGS)
        .env("HOME", sim.dir.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", crate::guard::bypass::KEY_ID)
        .env(
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            crate::guard::bypass::KEY_SECRET,
        )
        .env("ECSH_SIM_TIME_SCALE", "0")
        .env_remove("ALIBABA_CLOUD_PROFILE");
    let mut s = Session::spawn(cmd).expect("ecsh on a pty");
    // Only a bound so a broken prompt fails instead of hanging; not a speed assertion.
    s.set_expect_timeout(Some(Duration::from_secs(180)));
    let asked = s
        .expect("Proceed with creation? [y/N] ")
        .expect("the plan's question");
    let block = String::from_utf8_lossy(asked.before()).to_string();
    assert!(block.contains("for the whole run"), "{block}");
    assert!(block.contains("OperationDenied.NoStock"), "{block}");
    assert_eq!(
        sim.received("RunInstances"),
        0,
        "nothing is bought before the answer"
    );
    s.send_line("y").expect("answer");
    let rest = s.expect(expectrl::Eof).expect("ecsh exits");
    // At the end of output, expectrl hands what was left as the match, not as `before`.
    let rest: String = std::iter::once(rest.before())
        .chain(rest.matches())
        .map(String::from_utf8_lossy)
        .collect();
    assert!(
        !rest.contains("Proceed with creation?"),
        "asked again: {rest}"
    );
    assert!(rest.contains("Ran in cn-hangzhou-h"), "{rest}");
    assert!(rest.contains("approved (the plan)"), "{rest}");
    // The sold-out attempt and the fallback, both within the plan.
    assert_eq!(sim.received("RunInstances"), 2);
    assert_no_instances(&sim);
}

/// A script whose second RunInstances depends on a command's real output, which the plan's
/// shadow only simulates: the plan holds one instance, the run wants two.
const MORE_THAN_PLANNED: &str = r#"let infra = create_instance_with_infra(#{ instance_type: "ecs.g7.large", zone_id: "cn-hangzhou-i",
    region: "cn-hangzhou", estimated_runtime: "5m" });
let out = run_command_and_wait(#{ instance_id: infra.instance_id, command_content: "echo $((40 + 2))" });
if out.DecodedOutput.contains("42") {
    try {
        run_instances(#{ instance_type: "ecs.g7.large", vswitch_id: infra.vswitch_id,
            security_group_id: infra.security_group_id, image_family: "acs:ubuntu_24_04_x64" });
        print("extra: created");
    } catch (e) {
        print(`extra: ${e.code}`);
        print(e.message);
    }
}
"#;

#[test]
fn a_run_that_creates_more_than_its_plan_is_stopped_at_the_extra_action() {
    // The target runs commands for real; the plan's shadow only simulates them, so the
    // script's branch on the output is not in the plan.
    let sim = Sim::start_with(&["--sim-exec", "local"]);
    let path = sim.script("more.rhai", MORE_THAN_PLANNED);
    let out = sim.ecsh(&["run", "--plan", "--yes", &path]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("Unknown to the plan: 1 Cloud Assistant command"),
        "{stderr}"
    );
    assert!(
        stdout.contains("extra: Refused.BeyondPlan"),
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains("beyond the approved plan"),
        "the error shows the difference: {stdout}"
    );
    assert_eq!(sim.received("RunInstances"), 1, "the planned one only");
    assert_no_instances(&sim);
}

#[test]
fn plan_works_on_the_embedded_simulator_and_says_when_the_script_fails() {
    let out = crate::support::ecsh(
        &["plan", "--output", "json", &repo_script("quickstart.rhai")],
        &[("ECSH_SIM_TIME_SCALE", "0")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("embedded simulator"),
        "{}",
        text(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    assert_eq!(plan["target"], "sim (embedded)");
    assert_eq!(kinds(&plan).len(), 4, "{plan:#}");
    assert!(
        plan["total"]["amount"].as_f64().is_some_and(|a| a > 0.0),
        "{plan:#}"
    );
    // A script that fails in the shadow: exit 1, and the plan says why.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fails.rhai");
    std::fs::write(
        &path,
        "let zones = describe_zones(#{ region: \"cn-hangzhou\" });\nthrow \"no network for this\";\n",
    )
    .expect("write");
    let out = crate::support::ecsh(
        &["plan", "--output", "json", path.to_str().expect("utf-8")],
        &[("ECSH_SIM_TIME_SCALE", "0")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let plan: Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    let error = plan["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("no network for this") && error.contains(":2"),
        "{plan:#}"
    );
}

#[test]
fn on_a_terminal_the_action_beyond_the_plan_is_asked_again_showing_the_difference() {
    use expectrl::Session;
    use std::process::Command;
    use std::time::Duration;
    let sim = Sim::start_with(&["--sim-exec", "local"]);
    let path = sim.script("more.rhai", MORE_THAN_PLANNED);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsh"));
    cmd.args(["--endpoint", &sim.endpoint, "--journal-dir"])
        .arg(sim.dir.path().join("journal"))
        .args(["run", "--plan", &path])
        .env("HOME", sim.dir.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", crate::guard::bypass::KEY_ID)
        .env(
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            crate::guard::bypass::KEY_SECRET,
        )
        .env("ECSH_SIM_TIME_SCALE", "0")
        .env_remove("ALIBABA_CLOUD_PROFILE");
    let mut s = Session::spawn(cmd).expect("ecsh on a pty");
    // Only a bound so a broken prompt fails instead of hanging; not a speed assertion.
    s.set_expect_timeout(Some(Duration::from_secs(180)));
    s.expect("Proceed with creation? [y/N] ")
        .expect("the plan's question");
    s.send_line("y").expect("answer");
    let again = s
        .expect("Proceed with creation? [y/N] ")
        .expect("the extra action is asked");
    let block = String::from_utf8_lossy(again.before()).to_string();
    assert!(block.contains("beyond the approved plan"), "{block}");
    assert!(
        block.contains("nothing more"),
        "the plan had nothing left: {block}"
    );
    s.send_line("n").expect("answer");
    s.expect("extra: Refused.Declined").expect("declined");
    s.expect(expectrl::Eof).expect("ecsh exits");
    assert_eq!(sim.received("RunInstances"), 1, "the planned one only");
    assert_no_instances(&sim);
}
