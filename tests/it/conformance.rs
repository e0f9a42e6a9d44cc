//! The fidelity gate: every row of `tests/data/conformance.json` is one documented rule of the
//! real service (its `source` names the API reference section or the SDK model field it comes
//! from), sent to the real simulator over HTTP with signature v1 and checked for the expected
//! HTTP status, error code and fields. The simulator is strict unless a row says `lenient`.
//!
//! A row: `given` names a starting point the harness builds (`none`, `network`: a VPC, a
//! vswitch and a security group, all Available; `instance`: plus a Running pay-as-you-go
//! instance with a public IP; `prepaid`: plus a Running subscription instance), then `steps`
//! are sent in order. `{{name}}` in a parameter or an expected value is replaced by a saved
//! value (`vpc`, `vsw`, `sg`, `zone`, `instance`, `in7days` — the ExpiredTime of a one-week
//! subscription bought now — or what a step's `save` took from its answer). The rows are
//! written in `tests/data/gen_conformance.py`, which regenerates the JSON.

use crate::support::{encode, sign_v1, start_sim_with, v1_params};
use ecsh::ops::Product;
use ecsh::sim::model::{ExecMode, Fidelity, TimeMode, WorldOptions};
use ecsh::sim::RunningSim;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    id: String,
    rule: String,
    source: String,
    #[serde(default = "none")]
    given: String,
    #[serde(default)]
    lenient: bool,
    /// `local`: time scaled 0.01 and commands really run (`--sim-exec local`); else the
    /// deterministic Steps(1) world with simulated commands.
    #[serde(default)]
    world: String,
    steps: Vec<Step>,
}

fn none() -> String {
    "none".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    #[serde(default = "ecs")]
    product: String,
    action: String,
    #[serde(default)]
    params: BTreeMap<String, String>,
    /// `JSON` (the default), `XML`, or `none` to send no Format parameter.
    #[serde(default = "json")]
    format: String,
    #[serde(default)]
    expect: Expect,
    /// Saves answer fields (dotted paths) under names for later steps.
    #[serde(default)]
    save: BTreeMap<String, String>,
    /// Repeats the step until `expect.fields` hold (lifecycles), at most this many times.
    #[serde(default)]
    poll: u32,
}

fn ecs() -> String {
    "ecs".into()
}

fn json() -> String {
    "JSON".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default = "ok")]
    status: u16,
    code: Option<String>,
    /// A substring of the error's Message (what the user reads to fix the request).
    message: Option<String>,
    /// Dotted path → exact JSON value.
    #[serde(default)]
    fields: BTreeMap<String, Value>,
    /// Dotted paths that must be present (any value).
    #[serde(default)]
    present: Vec<String>,
    /// For XML answers: substrings the document must contain.
    #[serde(default)]
    xml: Vec<String>,
}

fn ok() -> u16 {
    200
}

impl Default for Expect {
    /// No `expect`: a plain success.
    fn default() -> Expect {
        Expect {
            status: ok(),
            code: None,
            message: None,
            fields: BTreeMap::new(),
            present: Vec::new(),
            xml: Vec::new(),
        }
    }
}

struct Answer {
    status: u16,
    text: String,
    json: Option<Value>,
}

/// Where requests go and the credentials that sign them.
struct Target {
    endpoint: String,
    access_key_id: String,
    secret: String,
}

impl From<&RunningSim> for Target {
    fn from(sim: &RunningSim) -> Target {
        Target {
            endpoint: sim.endpoint(),
            access_key_id: sim.access_key_id().to_owned(),
            secret: sim.access_key_secret().expose().to_owned(),
        }
    }
}

async fn send(sim: &RunningSim, step: &Step, vars: &BTreeMap<String, String>) -> Answer {
    send_to(&Target::from(sim), step, vars).await
}

async fn send_to(sim: &Target, step: &Step, vars: &BTreeMap<String, String>) -> Answer {
    let product = Product::from_code(&step.product).expect("product is ecs or vpc");
    let params: Vec<(String, String)> = step
        .params
        .iter()
        .map(|(k, v)| (k.clone(), substitute(v, vars)))
        .collect();
    let extra: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut p = v1_params(&sim.access_key_id, product, &step.action, &extra);
    p.retain(|(k, _)| k != "Format");
    if step.format != "none" {
        p.push(("Format".into(), step.format.clone()));
    }
    let signed = sign_v1("GET", p, &sim.secret);
    let url = format!("{}/?{}", sim.endpoint, encode(&signed));
    let resp = reqwest::get(url).await.expect("the simulator answers");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("a body");
    let json = serde_json::from_str(&text).ok();
    Answer { status, text, json }
}

fn substitute(value: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = value.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}

fn at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .try_fold(v, |cur, k| match k.parse::<usize>() {
            Ok(i) => cur.get(i),
            Err(_) => cur.get(k),
        })
}

/// What is wrong with `answer` for `expect`, if anything.
fn mismatch(answer: &Answer, expect: &Expect, vars: &BTreeMap<String, String>) -> Option<String> {
    if answer.status != expect.status {
        return Some(format!(
            "status {} instead of {}",
            answer.status, expect.status
        ));
    }
    if let Some(code) = &expect.code {
        let got = answer
            .json
            .as_ref()
            .and_then(|j| j["Code"].as_str())
            .map(str::to_owned)
            .or_else(|| xml_code(&answer.text));
        if got.as_deref() != Some(code) {
            return Some(format!("code {got:?} instead of {code}"));
        }
    }
    if let Some(want) = &expect.message {
        let got = answer.json.as_ref().and_then(|j| j["Message"].as_str());
        if !got.is_some_and(|m| m.contains(want.as_str())) {
            return Some(format!("the message {got:?} does not say {want:?}"));
        }
    }
    for (path, want) in &expect.fields {
        let got = answer.json.as_ref().and_then(|j| at(j, path));
        let want = &match want {
            Value::String(s) => Value::String(substitute(s, vars)),
            other => other.clone(),
        };
        if got != Some(want) {
            return Some(format!("{path} is {got:?}, not {want}"));
        }
    }
    for path in &expect.present {
        if answer.json.as_ref().and_then(|j| at(j, path)).is_none() {
            return Some(format!("{path} is missing"));
        }
    }
    for needle in &expect.xml {
        let needle = substitute(needle, vars);
        if !answer.text.contains(needle.as_str()) {
            return Some(format!("the XML lacks {needle}"));
        }
    }
    None
}

fn xml_code(text: &str) -> Option<String> {
    let start = text.find("<Code>")? + "<Code>".len();
    let end = start + text[start..].find("</Code>")?;
    Some(text[start..end].to_string())
}

impl Step {
    /// A JSON request expecting plain success (the harness's own fixtures and probes).
    fn plain(product: &str, action: &str, params: &[(&str, &str)]) -> Step {
        Step {
            product: product.into(),
            action: action.into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            format: json(),
            expect: Expect::default(),
            save: BTreeMap::new(),
            poll: 0,
        }
    }
}

async fn step_ok(sim: &RunningSim, action: &str, product: &str, params: &[(&str, &str)]) -> Value {
    let step = Step::plain(product, action, params);
    let a = send(sim, &step, &BTreeMap::new()).await;
    assert_eq!(a.status, 200, "fixture {action} failed: {}", a.text);
    a.json.expect("JSON")
}

async fn wait_for(
    sim: &RunningSim,
    product: &str,
    action: &str,
    params: &[(&str, &str)],
    path: &str,
    want: &str,
) {
    for _ in 0..500 {
        let v = step_ok(sim, action, product, params).await;
        if at(&v, path).and_then(Value::as_str) == Some(want) {
            return;
        }
        // Steps worlds move per call; a scaled-time world needs the clock to run.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    panic!("{action}: {path} never became {want}");
}

const HZ: (&str, &str) = ("RegionId", "cn-hangzhou");
const ZONE: &str = "cn-hangzhou-j";

/// Builds the row's starting point and returns its named values.
async fn given(sim: &RunningSim, what: &str) -> BTreeMap<String, String> {
    let in7days = time::OffsetDateTime::now_utc() + time::Duration::days(7);
    let in7days = format!(
        "{:04}-{:02}-{:02}T16:00Z",
        in7days.year(),
        u8::from(in7days.month()),
        in7days.day()
    );
    // AutoReleaseTime values relative to now (Steps worlds keep the real wall clock).
    let at = |d: time::Duration, second: u8| {
        let t = time::OffsetDateTime::now_utc() + d;
        ecsh::rpc::format_timestamp(t.replace_second(second).expect("a second of the minute"))
    };
    let in2h = at(time::Duration::hours(2), 42);
    let in2h_minute = format!("{}00Z", &in2h[..in2h.len() - 3]);
    let mut vars = BTreeMap::from([
        ("zone".to_string(), ZONE.to_string()),
        ("in7days".to_string(), in7days),
        ("in10min".to_string(), at(time::Duration::minutes(10), 0)),
        ("in4years".to_string(), at(time::Duration::days(4 * 365), 0)),
        ("in2h".to_string(), in2h),
        ("in2h_minute".to_string(), in2h_minute),
    ]);
    if what == "none" {
        return vars;
    }
    let vpc = step_ok(
        sim,
        "CreateVpc",
        "vpc",
        &[HZ, ("CidrBlock", "192.168.0.0/16")],
    )
    .await;
    let vpc = vpc["VpcId"].as_str().expect("VpcId").to_string();
    wait_for(
        sim,
        "vpc",
        "DescribeVpcs",
        &[HZ, ("VpcId", &vpc)],
        "Vpcs.Vpc.0.Status",
        "Available",
    )
    .await;
    let vsw = step_ok(
        sim,
        "CreateVSwitch",
        "vpc",
        &[
            HZ,
            ("VpcId", &vpc),
            ("ZoneId", ZONE),
            ("CidrBlock", "192.168.1.0/24"),
        ],
    )
    .await;
    let vsw = vsw["VSwitchId"].as_str().expect("VSwitchId").to_string();
    wait_for(
        sim,
        "vpc",
        "DescribeVSwitches",
        &[HZ, ("VSwitchId", &vsw)],
        "VSwitches.VSwitch.0.Status",
        "Available",
    )
    .await;
    let sg = step_ok(sim, "CreateSecurityGroup", "ecs", &[HZ, ("VpcId", &vpc)]).await;
    let sg = sg["SecurityGroupId"]
        .as_str()
        .expect("SecurityGroupId")
        .to_string();
    vars.insert("vpc".into(), vpc);
    vars.insert("vsw".into(), vsw.clone());
    vars.insert("sg".into(), sg.clone());
    let charge: &[(&str, &str)] = match what {
        "network" => return vars,
        "instance" => &[
            ("InstanceChargeType", "PostPaid"),
            ("InternetMaxBandwidthOut", "5"),
        ],
        "prepaid" => &[
            ("InstanceChargeType", "PrePaid"),
            ("Period", "1"),
            ("PeriodUnit", "Month"),
        ],
        other => panic!("unknown `given`: {other}"),
    };
    let mut params = vec![
        HZ,
        ("ImageFamily", "acs:ubuntu_24_04_x64"),
        ("InstanceType", "ecs.g7.large"),
        ("VSwitchId", vsw.as_str()),
        ("SecurityGroupId", sg.as_str()),
    ];
    params.extend_from_slice(charge);
    let run = step_ok(sim, "RunInstances", "ecs", &params).await;
    let id = run["InstanceIdSets"]["InstanceIdSet"][0]
        .as_str()
        .expect("an id")
        .to_string();
    let ids = format!("[\"{id}\"]");
    wait_for(
        sim,
        "ecs",
        "DescribeInstances",
        &[HZ, ("InstanceIds", &ids)],
        "Instances.Instance.0.Status",
        "Running",
    )
    .await;
    vars.insert("instance".into(), id);
    vars
}

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/conformance.json");
    let text = std::fs::read_to_string(path).expect("tests/data/conformance.json is readable");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("tests/data/conformance.json: {e}"))
}

async fn run_case(case: &Case) -> Result<(), String> {
    let lenient = case.lenient;
    let local = match case.world.as_str() {
        "" => false,
        "local" => true,
        other => return Err(format!("unknown world `{other}`")),
    };
    let sim = start_sim_with(|cfg| {
        if lenient {
            cfg.fidelity = Fidelity::Lenient;
        }
        if local {
            cfg.world = WorldOptions {
                time: TimeMode::Scaled(0.01),
                exec: ExecMode::Local,
            };
        }
    })
    .await;
    let mut vars = given(&sim, &case.given).await;
    for (n, step) in case.steps.iter().enumerate() {
        let mut answer = send(&sim, step, &vars).await;
        for _ in 0..step.poll {
            if mismatch(&answer, &step.expect, &vars).is_none() {
                break;
            }
            // Only the local world's time flows by the clock; Steps worlds move per call.
            if local {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            answer = send(&sim, step, &vars).await;
        }
        if let Some(why) = mismatch(&answer, &step.expect, &vars) {
            return Err(format!(
                "step {} ({}): {why}\n  answer: {}",
                n + 1,
                step.action,
                answer.text.chars().take(600).collect::<String>()
            ));
        }
        for (name, path) in &step.save {
            let v = answer.json.as_ref().and_then(|j| at(j, path));
            let v = match v {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return Err(format!("step {}: nothing at {path} to save", n + 1)),
            };
            vars.insert(name.clone(), v);
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_rule_holds() {
    let cases = cases();
    assert!(cases.len() >= 30, "the table lost rows: {}", cases.len());
    let mut failures = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for case in &cases {
        assert!(ids.insert(case.id.clone()), "duplicate row id {}", case.id);
        assert!(!case.source.trim().is_empty(), "{} has no source", case.id);
        if let Err(why) = run_case(case).await {
            failures.push(format!("{} — {}\n  {why}", case.id, case.rule));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} conformance rows failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// `ecsh sim` as a user starts it: strict unless `--lenient`, and the banner says which. The
/// same request (a CreateDisk with DryRun, which CreateDisk does not define) creates the disk
/// on the strict simulator and is only dry-run on the lenient one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecsh_sim_is_strict_unless_lenient() {
    for lenient in [false, true] {
        let id = format!("LTAI{}", &crate::support::nonce()[..20]);
        let secret = crate::support::nonce();
        let out = tempfile::NamedTempFile::new().expect("a temporary file");
        let mut args = vec!["sim", "--listen", "127.0.0.1:0", "--time-steps", "1"];
        args.extend(["--access-key-id", &id, "--access-key-secret", &secret]);
        if lenient {
            args.push("--lenient");
        }
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ecsh"))
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(out.reopen().expect("stdout file"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("`ecsh sim` starts");
        let mut banner = String::new();
        for _ in 0..1500 {
            banner = std::fs::read_to_string(out.path()).unwrap_or_default();
            if banner.contains("serving ECS") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let field = |name: &str| {
            banner
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
                .unwrap_or_else(|| panic!("no `{name}` line in the banner:\n{banner}"))
        };
        let rules = field("rules:");
        let target = Target {
            endpoint: field("endpoint:"),
            access_key_id: id,
            secret,
        };
        let step = Step::plain(
            "ecs",
            "CreateDisk",
            &[
                ("RegionId", "cn-hangzhou"),
                ("ZoneId", ZONE),
                ("Size", "20"),
                ("DryRun", "true"),
            ],
        );
        let answer = send_to(&target, &step, &BTreeMap::new()).await;
        let _ = child.kill();
        let _ = child.wait();
        if lenient {
            assert!(rules.starts_with("lenient"), "{rules}");
            assert_eq!(answer.status, 400, "{}", answer.text);
            assert!(answer.text.contains("DryRunOperation"), "{}", answer.text);
        } else {
            assert!(rules.starts_with("strict"), "{rules}");
            assert_eq!(answer.status, 200, "{}", answer.text);
            assert!(answer.text.contains("\"DiskId\":\"d-"), "{}", answer.text);
        }
    }
}
