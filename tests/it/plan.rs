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

/// The kinds of the plan's resources with `status` (`new`, `reused`, …), in plan order.
fn kinds_with_status(plan: &Value, status: &str) -> Vec<String> {
    kinds(plan)
        .into_iter()
        .filter(|(_, s)| s == status)
        .map(|(k, _)| k)
        .collect()
}

/// The quickstart's plan creates a VPC, a vswitch, a security group and an instance, in order.
#[track_caller]
fn assert_quickstart_resources(plan: &Value) {
    let new = |k: &str| (k.to_string(), "new".to_string());
    // In creation order: the security group is made while the VPC becomes Available.
    assert_eq!(
        kinds(plan),
        [new("VPC"), new("SecurityGroup"), new("VSwitch"), new("ECS")],
        "{plan:#}"
    );
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
    assert_quickstart_resources(&plan);
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
    let (v, s) = (entry_of(&plan, &vpc), entry_of(&plan, &vsw));
    assert_eq!(
        (v["kind"].as_str(), v["status"].as_str(), v["name"].as_str()),
        (Some("VPC"), Some("reused"), Some("team-vpc"))
    );
    assert_eq!(
        (s["kind"].as_str(), s["status"].as_str(), s["name"].as_str()),
        (Some("VSwitch"), Some("reused"), Some("team-vsw"))
    );
    let new = kinds_with_status(&plan, "new");
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

/// `ecsh run --plan FILE ARGS…` against `sim` on a pseudo-terminal, so the guard asks as it
/// asks a person.
fn run_plan_on_a_pty(sim: &Sim, file: &str, args: &[&str]) -> expectrl::Session {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ecsh"));
    cmd.args(["--endpoint", &sim.endpoint, "--journal-dir"])
        .arg(sim.dir.path().join("journal"))
        .args(["run", "--plan", file])
        .args(args)
        .env("HOME", sim.dir.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", crate::guard::bypass::KEY_ID)
        .env(
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            crate::guard::bypass::KEY_SECRET,
        )
        .env("ECSH_SIM_TIME_SCALE", "0")
        .env_remove("ALIBABA_CLOUD_PROFILE");
    let mut s = expectrl::Session::spawn(cmd).expect("ecsh on a pty");
    // Only a bound so a broken prompt fails instead of hanging; not a speed assertion.
    s.set_expect_timeout(Some(std::time::Duration::from_secs(180)));
    s
}

#[test]
fn run_with_plan_asks_once_for_the_fallback_script_then_runs_it() {
    let sim = Sim::start_with(&["--fault", NOSTOCK]);
    let mut s = run_plan_on_a_pty(&sim, &repo_script("nostock_fallback.rhai"), &FALLBACK_ARGS);
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
    let sim = Sim::start_with(&["--sim-exec", "local"]);
    let path = sim.script("more.rhai", MORE_THAN_PLANNED);
    let mut s = run_plan_on_a_pty(&sim, &path, &[]);
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

/// A catalogue the shadow's embedded one lacks: a zone of its own in cn-hangzhou selling only a
/// new 2 vCPU / 4 GiB type (the cheapest, so the quickstart picks it), and a newer Ubuntu 24.04
/// image (so create_instance_with_infra picks it as the family's latest).
const EXTRA_CATALOGUE: &str = r#"{
  "regions": [{ "RegionId": "cn-hangzhou", "zones": [
    { "ZoneId": "cn-hangzhou-z", "LocalNameEn": "China (Hangzhou) Zone Z",
      "instance_types": ["ecs.g9z.large"] } ] }],
  "instance_types": [{ "id": "ecs.g9z.large", "family": "ecs.g9z", "generation": "ecs-9",
    "cores": 2, "memory": 4.0, "gpu_amount": 0, "gpu_spec": "", "gpu_memory": 0,
    "level": "EnterpriseLevel", "arch": "X86", "processor": "Test Processor 9",
    "disk_categories": ["cloud_essd", "cloud_auto"], "launched": "2026-06-01" }],
  "prices": { "cn-hangzhou": { "ecs.g9z.large": { "hour": 0.013, "month": 5.2 } } },
  "images": [{ "ImageId": "ubuntu_24_04_x64_20G_alibase_20261101.vhd",
    "ImageName": "ubuntu_24_04_x64_20G_alibase_20261101.vhd",
    "ImageFamily": "acs:ubuntu_24_04_x64", "ImageVersion": "20261101",
    "OSName": "Ubuntu  24.04 64位", "OSNameEn": "Ubuntu  24.04 64 bit", "OSType": "linux",
    "Platform": "Ubuntu", "Architecture": "x86_64", "Size": 20,
    "CreationTime": "2026-11-01T08:00:00Z" }]
}"#;

/// A standalone target started with [`EXTRA_CATALOGUE`].
fn target_with_extra_catalogue(extra: &[&str]) -> (Sim, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("catalogue.json");
    std::fs::write(&file, EXTRA_CATALOGUE).expect("write the catalogue");
    let mut args = vec!["--catalogue", file.to_str().expect("utf-8")];
    args.extend_from_slice(extra);
    (Sim::start_with(&args), dir)
}

#[test]
fn the_shadow_learns_a_zone_type_and_image_only_the_target_has() {
    let (sim, _dir) = target_with_extra_catalogue(&[]);
    let (plan, err) = plan(&sim, &repo_script("quickstart.rhai"));
    assert!(plan["error"].is_null(), "{plan:#}\n{err}");
    assert_quickstart_resources(&plan);
    let instance = &plan["resources"][3];
    assert_eq!(instance["zone"], "cn-hangzhou-z", "{instance}");
    assert_eq!(instance["spec"], "ecs.g9z.large x 1", "{instance}");
    assert_eq!(plan["resources"][2]["zone"], "cn-hangzhou-z", "the vswitch");
    // The cost block names the target's type (its vCPUs and memory) and its newer image.
    let details = &plan["charges"][0]["details"];
    let line = |label: &str| -> String {
        details
            .as_array()
            .expect("details")
            .iter()
            .find(|d| d[0] == label)
            .map(|d| d[1].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("no {label} in {details}"))
    };
    assert!(
        line("Spec").starts_with("ecs.g9z.large (2 vCPU, 4 GB)"),
        "{details}"
    );
    assert!(line("Image").contains("24.04"), "{details}");
    let run = sim
        .requests()
        .into_iter()
        .rfind(|r| r["action"] == "DescribePrice")
        .expect("the target quoted the run");
    assert_eq!(run["params"]["InstanceType"], "ecs.g9z.large", "{run}");
    assert_eq!(
        run["params"]["ZoneId"], "cn-hangzhou-z",
        "the guard quoted the target's zone: {run}"
    );
    // The target's price: its catalogue's 0.013/hour for the type, plus the disk.
    let hourly = plan["charges"][0]["hourly"]["amount"]
        .as_f64()
        .expect("hourly");
    assert!(hourly > 0.013 && hourly < 0.19, "{hourly}");
    assert_only_reads(&sim);
    assert_no_instances(&sim);
}

#[test]
fn run_with_plan_runs_for_real_on_the_target_with_its_own_catalogue() {
    let (sim, _dir) = target_with_extra_catalogue(&[]);
    let out = sim.ecsh(&["run", "--plan", "--yes", &repo_script("quickstart.rhai")]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("is Running in cn-hangzhou-z"), "{stdout}");
    assert!(
        format!("{stdout}{stderr}").contains("approved (the plan)"),
        "{stdout}{stderr}"
    );
    let run = sim
        .requests()
        .into_iter()
        .find(|r| r["action"] == "RunInstances")
        .expect("the run bought its instance");
    assert_eq!(run["params"]["InstanceType"], "ecs.g9z.large");
    assert_eq!(
        run["params"]["ImageId"],
        "ubuntu_24_04_x64_20G_alibase_20261101.vhd"
    );
    assert_eq!(run["code"], "OK", "{run}");
    assert_no_instances(&sim);
}

#[test]
fn a_bad_catalogue_file_stops_the_simulator_naming_the_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("catalogue.json");
    std::fs::write(
        &file,
        EXTRA_CATALOGUE.replace("\"cores\": 2,", "\"vcpus\": 2,"),
    )
    .expect("write");
    let out = crate::support::ecsh(&["sim", "--catalogue", file.to_str().expect("utf-8")], &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("instance_types[0]") && err.contains("vcpus"),
        "{err}"
    );
}

/// The team's resources, made on the target by a real run and kept: a key pair, a tagged
/// instance using it with its network and security group (one SSH rule from the office), and
/// an EIP bound to it.
const TEAM_SETUP: &str = r#"create_key_pair(#{ key_pair_name: "team-key" });
let infra = create_instance_with_infra(#{ instance_type: "ecs.g7.large", zone_id: "cn-hangzhou-i",
    region: "cn-hangzhou", estimated_runtime: "5m", key_pair_name: "team-key", instance_name: "team-web" });
tag_resources(#{ resource_type: "instance", resource_ids: [infra.instance_id], tags: #{ team: "web" } });
authorize_security_group(#{ sg_id: infra.security_group_id, ip_protocol: "TCP", port_range: "22/22",
    source_cidr_ip: "203.0.113.0/24" });
let eip = allocate_eip_address(#{ bandwidth: 5 });
associate_eip_address(#{ allocation_id: eip.AllocationId, instance_id: infra.instance_id });
for id in ["team-key", infra.instance_id, eip.AllocationId] { keep(id); }
print(`team-web=${infra.instance_id} eip=${eip.AllocationId} sg=${infra.security_group_id}`);
"#;

/// Finds the team's instance by name and checks its tag, its EIP and its group's rule (each a
/// read the shadow answers from what it imported), runs a command on it, and starts a worker
/// with the team's key pair.
const TEAM_WORKER: &str = r#"let found = describe_instances(#{ instance_name: "team-web" }).Instances.Instance;
if found.len() != 1 { throw `the team's instance is not there (${found.len()} found)`; }
let web = found[0];
let tagged = web.Tags.Tag.filter(|t| t.TagKey == "team" && t.TagValue == "web");
if tagged.is_empty() { throw `team-web has no team tag: ${web.Tags}`; }
let eips = describe_eip_addresses(#{}).EipAddresses.EipAddress.filter(|e| e.InstanceId == web.InstanceId);
if eips.is_empty() { throw "team-web has no EIP"; }
let sg = web.SecurityGroupIds.SecurityGroupId[0];
let rules = call_api("ecs", "DescribeSecurityGroupAttribute", #{ RegionId: "cn-hangzhou", SecurityGroupId: sg })
    .Permissions.Permission.filter(|r| r.PortRange == "22/22" && r.SourceCidrIp == "203.0.113.0/24");
if rules.is_empty() { throw "the office's SSH rule is not in the group"; }
// The same rule again: a no-op on the target, so in the plan too.
authorize_security_group(#{ sg_id: sg, ip_protocol: "TCP", port_range: "22/22", source_cidr_ip: "203.0.113.0/24" });
let keys = describe_key_pairs(#{}).KeyPairs.KeyPair.filter(|k| k.KeyPairName == "team-key");
if keys.is_empty() { throw "no team-key"; }
run_command_and_wait(#{ instance_id: web.InstanceId, command_content: "uptime" });
let worker = create_instance_with_infra(#{ instance_type: "ecs.g7.large", zone_id: "cn-hangzhou-i",
    region: "cn-hangzhou", estimated_runtime: "5m", key_pair_name: "team-key", instance_name: "team-worker" });
"#;

#[test]
fn the_accounts_instances_eips_key_pairs_tags_and_rules_are_imported_into_the_plan() {
    let sim = Sim::start();
    let setup = sim.script("setup.rhai", TEAM_SETUP);
    let out = sim.ecsh(&["--yes", "run", &setup]);
    let made = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{made}{}", text(&out.stderr));
    let id_of = |key: &str| -> String {
        made.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in {made}"))
            .to_string()
    };
    let (web, sg) = (id_of("team-web"), id_of("sg"));
    let before = sim.requests().len();
    let worker = sim.script("worker.rhai", TEAM_WORKER);
    let (plan, err) = plan(&sim, &worker);
    assert!(plan["error"].is_null(), "{plan:#}\n{err}");
    let entry = |id: &str| entry_of(&plan, id);
    let (w, k) = (entry(&web), entry("team-key"));
    assert_eq!(
        (w["kind"].as_str(), w["status"].as_str(), w["name"].as_str()),
        (Some("ECS"), Some("reused"), Some("team-web")),
        "{plan:#}"
    );
    assert_eq!(
        (k["kind"].as_str(), k["status"].as_str()),
        (Some("KeyPair"), Some("reused")),
        "{plan:#}"
    );
    assert_eq!(
        entry(&sg)["status"],
        "reused",
        "the rule went to the team's group"
    );
    // The worker's own group and instance are new; its network is the team's.
    let new = kinds_with_status(&plan, "new");
    assert_eq!(new, ["SecurityGroup", "ECS"], "{plan:#}");
    // Planning sent the target only reads, and no key material was asked for.
    let planned: Vec<Value> = sim.requests().split_off(before);
    for r in &planned {
        let action = r["action"].as_str().unwrap_or_default();
        assert!(
            ecsh::ops::ACTIONS
                .iter()
                .any(|a| a.name == action && a.effect == ecsh::ops::Effect::Read),
            "the target received {action} while planning"
        );
        assert!(r["params"].get("IncludePublicKey").is_none(), "{r}");
    }
    for read in [
        "DescribeInstances",
        "DescribeDisks",
        "DescribeEipAddresses",
        "DescribeKeyPairs",
        "DescribeSecurityGroupAttribute",
    ] {
        assert!(
            planned.iter().any(|r| r["action"] == read),
            "the plan did not import with {read}"
        );
    }
    // A plan that would delete the team's instance says so.
    let delete = sim.script(
        "delete.rhai",
        &format!("delete_instances(#{{ instance_ids: [\"{web}\"], force: true }});\n"),
    );
    let (deleting, err) = super::plan::plan(&sim, &delete);
    assert!(deleting["error"].is_null(), "{deleting:#}\n{err}");
    let gone = entry_of(&deleting, &web);
    assert_eq!(
        (gone["kind"].as_str(), gone["status"].as_str()),
        (Some("ECS"), Some("deleted")),
        "{deleting:#}"
    );
    assert_eq!(
        listed(
            &sim,
            "ecs",
            "DescribeInstances",
            "Instances.Instance[].InstanceId"
        ),
        [web],
        "the target still holds the team's instance"
    );
}

/// The plan's first resource entry whose `field` is `value`.
fn entry_where(plan: &Value, field: &str, value: &str) -> Value {
    plan["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r[field] == value)
        .cloned()
        .unwrap_or_else(|| panic!("no resource with {field} {value} in the plan: {plan:#}"))
}

/// The plan's resource entry with this (account) id.
fn entry_of(plan: &Value, id: &str) -> Value {
    entry_where(plan, "id", id)
}

#[test]
fn the_import_reads_every_page_of_the_account() {
    let sim = Sim::start();
    // 51 key pairs: DescribeKeyPairs pages 50 at most, so the last is on the second page.
    let setup = sim.script(
        "keys.rhai",
        "for n in 0..51 { let name = if n < 10 { `key-0${n}` } else { `key-${n}` };\n\
         create_key_pair(#{ key_pair_name: name }); keep(name); }\n",
    );
    let out = sim.ecsh(&["--yes", "run", &setup]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let before = sim.requests().len();
    let uses = sim.script(
        "uses.rhai",
        "let infra = create_instance_with_infra(#{ instance_type: \"ecs.g7.large\", \
         zone_id: \"cn-hangzhou-i\", region: \"cn-hangzhou\", estimated_runtime: \"5m\", \
         key_pair_name: \"key-50\" });\n",
    );
    let (plan, err) = plan(&sim, &uses);
    assert!(plan["error"].is_null(), "{plan:#}\n{err}");
    assert_eq!(entry_of(&plan, "key-50")["status"], "reused", "{plan:#}");
    let pages: Vec<Value> = sim
        .requests()
        .split_off(before)
        .into_iter()
        .filter(|r| r["action"] == "DescribeKeyPairs")
        .collect();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert_eq!(pages[0]["params"]["PageSize"], "50", "{pages:?}");
    assert_eq!(pages[1]["params"]["PageNumber"], "2", "{pages:?}");
}

/// A script that names the target's zone, type and image outright, with no catalogue read of
/// its own.
const HARD_CODED: &str = r#"let net = ensure_vpc_and_vswitch(#{ region: "cn-hangzhou", zone_id: "cn-hangzhou-z" });
let sg = create_security_group(#{ vpc_id: net.vpc_id });
run_instances(#{ instance_type: "ecs.g9z.large", image_id: "ubuntu_24_04_x64_20G_alibase_20261101.vhd",
    vswitch_id: net.vswitch_id, security_group_id: sg, estimated_runtime: "5m" });
"#;

#[test]
fn a_type_and_image_written_into_the_script_are_read_from_the_target() {
    let (sim, _dir) = target_with_extra_catalogue(&[]);
    let path = sim.script("hard.rhai", HARD_CODED);
    let (plan, err) = plan(&sim, &path);
    assert!(plan["error"].is_null(), "{plan:#}\n{err}");
    let instance = entry_where(&plan, "kind", "ECS");
    assert_eq!(instance["spec"], "ecs.g9z.large x 1", "{plan:#}");
    assert_eq!(plan["charges"][0]["outcome"], "created", "{plan:#}");
    assert_only_reads(&sim);
}
