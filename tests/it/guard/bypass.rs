//! The bypass suite: a hostile or careless script (and a user at `ecsh call`) against the guard,
//! one test per hole of issue 11 and per kind of attempt, all through the real `ecsh` binary.
//!
//! Every test starts a standalone `ecsh sim --request-log FILE` (a child process on loopback),
//! points `ecsh` at it with `--endpoint` and the simulator's credentials, runs real `.rhai`
//! scripts without a terminal (a new session; a pty for the prompt case), and then reads what
//! reached the "cloud" from the request log. The assertion that matters is always the same:
//! no request that needs an approval ([`ecsh::guard::needs_approval`]) was received without
//! one; refusals are told apart by their `e.code`. Where an approval is given, the test checks
//! the request did arrive, so a log that records nothing could not make these tests pass.

use crate::support::text;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const KEY_ID: &str = "LTAI5tBypassSuiteKey";
const KEY_SECRET: &str = "bypass-suite-secret-0123456789";

/// A standalone simulator, killed (its own pid) when dropped.
struct Sim {
    child: Child,
    /// Its stdout, kept open: closing it would kill the simulator with SIGPIPE.
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
    endpoint: String,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl Sim {
    fn start() -> Sim {
        Sim::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("requests.jsonl");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsh"));
        cmd.args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--access-key-id",
            KEY_ID,
            "--access-key-secret",
            KEY_SECRET,
            "--time-scale",
            "0",
            "--request-log",
        ])
        .arg(&log)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("ecsh sim starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut endpoint = None;
        loop {
            let line = lines
                .next()
                .expect("ecsh sim prints its banner")
                .expect("readable");
            if let Some(url) = line.strip_prefix("endpoint:") {
                endpoint = Some(url.trim().to_string());
            }
            if line.starts_with("serving") {
                break;
            }
        }
        let endpoint = endpoint.expect("the banner names the endpoint");
        Sim {
            child,
            _stdout: lines,
            endpoint,
            log,
            dir,
        }
    }

    /// Every request the simulator received, in order.
    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    /// The actions received that need an approval (chargeable or unknown non-reads).
    fn chargeable_received(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter_map(|r| r["action"].as_str().map(str::to_string))
            .filter(|a| ecsh::guard::needs_approval(a))
            .collect()
    }

    fn received(&self, action: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r["action"] == action)
            .count()
    }

    fn journal(&self) -> PathBuf {
        self.dir.path().join("journal")
    }

    fn script(&self, name: &str, body: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, body).expect("write script");
        path.display().to_string()
    }

    /// `ecsh --endpoint <sim> --journal-dir <dir> ARGS` with the simulator's credentials, no
    /// terminal, `stdin` as its input.
    fn ecsh_with(&self, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
        let journal = self.journal();
        let mut full: Vec<&str> = vec![
            "--endpoint",
            &self.endpoint,
            "--journal-dir",
            journal.to_str().expect("utf-8 path"),
        ];
        full.extend_from_slice(args);
        run_ecsh(
            &full,
            &[
                [("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)].as_slice(),
                &[("ALIBABA_CLOUD_ACCESS_KEY_SECRET", KEY_SECRET)],
                env,
            ]
            .concat(),
            stdin,
        )
    }

    fn ecsh(&self, args: &[&str]) -> Output {
        self.ecsh_with(args, &[], b"")
    }

    /// Runs `body` as a script with `flags` before `run`; returns (stdout, stderr, exit code).
    fn run(&self, flags: &[&str], body: &str) -> (String, String, Option<i32>) {
        let path = self.script("attempt.rhai", body);
        let mut args: Vec<&str> = flags.to_vec();
        args.extend(["run", &path]);
        let out = self.ecsh(&args);
        (text(&out.stdout), text(&out.stderr), out.status.code())
    }

    #[track_caller]
    fn assert_nothing_chargeable(&self) {
        let got = self.chargeable_received();
        assert!(got.is_empty(), "received without approval: {got:?}");
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `ecsh` binary as the other tests run it (no terminal, no developer credentials), with
/// instant simulated time, `env` and `stdin`.
fn run_ecsh(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let env = [[("ECSH_SIM_TIME_SCALE", "0")].as_slice(), env].concat();
    crate::support::ecsh_with_input(args, &env, stdin)
}

/// Free preparations a RunInstances needs (network, security group, image), as Rhai.
const PREP: &str = r#"
let net = ensure_vpc_and_vswitch(#{ zone_id: "cn-hangzhou-i" });
let sg = create_security_group(#{ vpc_id: net.vpc_id });
let img = describe_images(#{ image_family: "acs:ubuntu_24_04_x64" }).Images.Image[0].ImageId;
let base = #{ ZoneId: "cn-hangzhou-i", InstanceType: "ecs.c6.large", ImageId: img,
              VSwitchId: net.vswitch_id, SecurityGroupId: sg };
fn attempt(what, f) {
    try { f.call(); print(`${what}: SENT`); } catch (e) { print(`${what}: ${e.code}`); }
}
"#;

/// The `what: code` lines a script printed, as pairs.
fn outcomes(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[track_caller]
fn assert_all(stdout: &str, code: &str, count: usize) {
    let got = outcomes(stdout);
    assert_eq!(got.len(), count, "{stdout}");
    for (what, c) in &got {
        assert_eq!(c, code, "{what}: {stdout}");
    }
}

// --- Item 1: unknown and cost-changing actions ---------------------------------------------

const UNKNOWN_ACTIONS: &str = r#"
attempt("ModifyAutoProvisioningGroup", || call_api("ecs", "ModifyAutoProvisioningGroup", #{ AutoProvisioningGroupId: "apg-1", TotalTargetCapacity: "500" }));
attempt("CopySnapshot", || call_api("ecs", "CopySnapshot", #{ SnapshotId: "s-1", DestinationRegionId: "cn-beijing" }));
attempt("CopyImage", || call_api("ecs", "CopyImage", #{ ImageId: "m-1", DestinationRegionId: "cn-beijing" }));
attempt("ImportImage", || call_api("ecs", "ImportImage", #{ OSType: "linux" }));
attempt("ReActivateInstances", || call_api("ecs", "ReActivateInstances", #{ InstanceId: "i-1" }));
attempt("ReplaceSystemDisk", || call_api("ecs", "ReplaceSystemDisk", #{ InstanceId: "i-1", ImageId: "m-1" }));
attempt("ModifyInstanceAutoRenewAttribute", || call_api("ecs", "ModifyInstanceAutoRenewAttribute", #{ InstanceId: "i-1", AutoRenew: true }));
attempt("ModifyInstanceMetadataOptions", || call_api("ecs", "ModifyInstanceMetadataOptions", #{ InstanceId: "i-1", HttpTokens: "optional" }));
attempt("StartImagePipelineExecution", || call_api("ecs", "StartImagePipelineExecution", #{ ImagePipelineId: "ip-1" }));
attempt("ModifyDedicatedHostsChargeType", || call_api("ecs", "ModifyDedicatedHostsChargeType", #{ DedicatedHostIds: "[\"dh-1\"]" }));
attempt("ModifyNatGatewaySpec", || call_api("vpc", "ModifyNatGatewaySpec", #{ NatGatewayId: "ngw-1", Spec: "XLarge" }));
attempt("ConvertNatPublicIpToEip", || call_api("vpc", "ConvertNatPublicIpToEip", #{ InstanceId: "ngw-1" }));
attempt("CreateNatGateway", || call_api("vpc", "CreateNatGateway", #{ VpcId: "vpc-1" }));
attempt("ModifyPrepayInstanceSpec", || call_api("ecs", "ModifyPrepayInstanceSpec", #{ InstanceId: "i-1", InstanceType: "ecs.g7.8xlarge" }));
"#;
const UNKNOWN_COUNT: usize = 14;

#[test]
fn unknown_actions_need_an_approval_nobody_gave() {
    let sim = Sim::start();
    let (out, err, code) = sim.run(&[], &format!("{PREP}{UNKNOWN_ACTIONS}"));
    assert_eq!(code, Some(0), "{err}");
    assert_all(&out, "Refused.NoApprover", UNKNOWN_COUNT);
    sim.assert_nothing_chargeable();
    // Reads outside the registry still go through (default-deny is for non-reads only).
    let (out, err, _) = sim.run(
        &[],
        r#"try { call_api("ecs", "DescribeDedicatedHosts", #{}); } catch (e) { print(e.code); }"#,
    );
    assert!(!out.contains("Refused"), "{out}{err}");
    assert_eq!(sim.received("DescribeDedicatedHosts"), 1);
}

#[test]
fn unknown_actions_cannot_be_priced_so_a_budget_refuses_them() {
    let sim = Sim::start();
    let (out, err, code) = sim.run(&["--max-cost", "1000"], &format!("{PREP}{UNKNOWN_ACTIONS}"));
    assert_eq!(code, Some(0), "{err}");
    assert_all(&out, "Refused.Unpriced", UNKNOWN_COUNT);
    sim.assert_nothing_chargeable();
}

#[test]
fn with_yes_the_unknown_actions_do_reach_the_endpoint() {
    // The control for the two tests above: the log sees what is sent.
    let sim = Sim::start();
    let (out, err, code) = sim.run(&["--yes"], &format!("{PREP}{UNKNOWN_ACTIONS}"));
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.contains("Refused"), "{out}");
    assert_eq!(sim.chargeable_received().len(), UNKNOWN_COUNT, "{out}");
}

// --- Item 2: one canonical request ----------------------------------------------------------

#[test]
fn padded_signed_and_case_variant_keys_are_refused_before_anything_is_sent() {
    let sim = Sim::start();
    let script = format!(
        r#"{PREP}
let disks = #{{}};
for i in 1..=16 {{ disks[`DataDisk.+${{i}}.Size`] = 2000; disks[`DataDisk.+${{i}}.Category`] = "cloud_essd"; }}
let big = base; big += disks;
attempt("signed index", || call_api("ecs", "RunInstances", big));
let padded = base; padded["DataDisk.01.Size"] = 2000;
attempt("padded index", || call_api("ecs", "RunInstances", padded));
let zero = base; zero["DataDisk.0.Size"] = 2000;
attempt("zero index", || call_api("ecs", "RunInstances", zero));
let cased = base; cased["amount"] = 100;
attempt("cased Amount", || call_api("ecs", "RunInstances", cased));
let twice = base; twice["Amount"] = 1; twice["AMOUNT"] = 100;
attempt("Amount twice", || call_api("ecs", "RunInstances", twice));
attempt("padded rule", || call_api("ecs", "AuthorizeSecurityGroup", #{{ SecurityGroupId: sg,
    "Permissions.01.SourceCidrIp": "0.0.0.0/0", "Permissions.01.PortRange": "3306/3306",
    "Permissions.01.IpProtocol": "tcp" }}));
"#
    );
    let (out, err, code) = sim.run(&["--max-cost", "1"], &script);
    assert_eq!(code, Some(0), "{err}");
    assert_all(&out, "Refused.MalformedRequest", 6);
    sim.assert_nothing_chargeable();
    assert_eq!(sim.received("AuthorizeSecurityGroup"), 0);
}

#[test]
fn odd_spellings_of_action_and_product_are_not_other_actions() {
    let sim = Sim::start();
    let script = format!(
        r#"{PREP}
attempt("RUNINSTANCES", || call_api("ecs", "RUNINSTANCES", base));
attempt("runInstances", || call_api("ecs", "runInstances", base));
attempt("Run_Instances", || call_api("ecs", "Run_Instances", base));
attempt("ECS product", || call_api("ECS", "RunInstances", base));
attempt("spaced product", || call_api(" ecs", "RunInstances", base));
attempt("other product", || call_api("vpc", "RunInstances", base));
"#
    );
    let (out, err, code) = sim.run(&[], &script);
    assert_eq!(code, Some(0), "{err}");
    let got = outcomes(&out);
    assert_eq!(got.len(), 6, "{out}");
    for (what, code) in &got {
        match what.as_str() {
            // The product code is case-insensitive: the real action, so the guard asks.
            "ECS product" => assert_eq!(code, "Refused.NoApprover", "{out}"),
            _ => assert_eq!(code, "UnknownAction", "{what}: {out}"),
        }
    }
    sim.assert_nothing_chargeable();
}

// --- Routes around the guard: Fn, curry, closures, eval, import, stdlib -------------------

#[test]
fn every_route_from_a_script_meets_the_guard() {
    let sim = Sim::start();
    let script = format!(
        r#"{PREP}
attempt("closure", || call_api("ecs", "RunInstances", base));
let p = Fn("call_api");
attempt("Fn pointer", || p.call("ecs", "RunInstances", base));
let curried = Fn("call_api").curry("ecs").curry("RunInstances");
attempt("curry", || curried.call(base));
let nested = || {{ let inner = || call_api("ecs", "RunInstances", base); inner.call() }};
attempt("nested closure", nested);
attempt("typed function", || run_instances(#{{ instance_type: "ecs.c6.large", vswitch_id: net.vswitch_id,
    security_group_id: sg, image_id: img }}));
attempt("stdlib flow", || create_instance_with_infra(#{{ instance_type: "ecs.c6.large",
    zone_id: "cn-hangzhou-i", image_family: "acs:ubuntu_24_04_x64" }}));
"#
    );
    let (out, err, code) = sim.run(&[], &script);
    assert_eq!(code, Some(0), "{err}");
    assert_all(&out, "Refused.NoApprover", 6);
    sim.assert_nothing_chargeable();
    // eval is disabled and import has no resolver: such scripts do not even start.
    for src in [
        r#"eval("call_api(\"ecs\", \"RunInstances\", #{})");"#,
        r#"import "evil" as e; e::spend();"#,
    ] {
        let (_, err, code) = sim.run(&["--yes"], src);
        assert_ne!(code, Some(0), "{src}: {err}");
    }
    sim.assert_nothing_chargeable();
}

#[test]
fn piped_answers_and_environment_variables_approve_nothing() {
    let sim = Sim::start();
    let path = sim.script(
        "piped.rhai",
        &format!(r#"{PREP}attempt("run", || call_api("ecs", "RunInstances", base));"#),
    );
    let env: &[(&str, &str)] = &[
        ("ECSH_YES", "1"),
        ("ECSH_MAX_COST", "1000"),
        ("YES", "1"),
        ("CI", "true"),
        ("ECSH_APPROVE", "yes"),
    ];
    let out = sim.ecsh_with(&["run", &path], env, b"y\nyes\ny\n");
    assert_eq!(
        text(&out.stdout),
        "run: Refused.NoApprover\n",
        "{}",
        text(&out.stderr)
    );
    sim.assert_nothing_chargeable();
}

// --- Budgets of every form, and gamed runtimes -------------------------------------------

#[test]
fn budgets_of_every_form_and_gamed_runtimes_cannot_buy_more_than_they_allow() {
    let sim = Sim::start();
    let gamed = format!(
        r#"{PREP}
let many = base; many.Amount = 100; many.estimated_runtime = "1s";
attempt("100 for 1s", || call_api("ecs", "RunInstances", many));
let tiny = base; tiny.estimated_runtime = "0.001s";
attempt("1 for a millisecond", || call_api("ecs", "RunInstances", tiny));
"#
    );
    for budget in ["0.1", "0.1 CNY", "0.1CNY", "CNY 0.1"] {
        let (out, err, code) = sim.run(&["--max-cost", budget], &gamed);
        assert_eq!(code, Some(0), "{budget}: {err}");
        let got = outcomes(&out);
        assert_eq!(got[0].1, "Refused.Budget", "{budget}: {out}{err}");
        // One instance for a moment costs the minimum charge, within 0.1.
        assert_eq!(got[1].1, "SENT", "{budget}: {out}{err}");
        assert!(err.contains("billed as at least 1 minute"), "{err}");
    }
    assert_eq!(sim.received("RunInstances"), 4, "only the single instances");
    // A minute of 100 of the cheapest spec is CNY 0.26; the service's minimum charge makes
    // it at least CNY 1, over a budget of 0.5.
    let cheap = format!(
        r#"{PREP}
let cheap = base; cheap.InstanceType = "ecs.t6-c1m2.large"; cheap.Amount = 100; cheap.estimated_runtime = "1s";
attempt("100 cheap for 1s", || call_api("ecs", "RunInstances", cheap));
"#
    );
    let (out, err, _) = sim.run(&["--max-cost", "0.5"], &cheap);
    assert_eq!(out, "100 cheap for 1s: Refused.Budget\n", "{err}");
    assert!(err.contains("est. CNY 1.00"), "{err}");
    // A budget in another currency approves nothing; malformed budgets are usage errors.
    let before = sim.received("RunInstances");
    let (out, _, _) = sim.run(&["--max-cost", "USD 1000"], &gamed);
    assert_all(&out, "Refused.Budget", 2);
    for bad in ["-1", "lots", "1 EURO", "NaN"] {
        let (_, err, code) = sim.run(&["--max-cost", bad], &gamed);
        assert_eq!(code, Some(2), "{bad}: {err}");
    }
    let (_, err, code) = sim.run(&["--max-cost", "5", "--yes"], &gamed);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(sim.received("RunInstances"), before);
}

#[test]
fn keep_is_a_spend_decision_that_a_budget_counts() {
    let sim = Sim::start();
    let script = format!(
        r#"{PREP}
let one = base; one.estimated_runtime = "5m";
let id = call_api("ecs", "RunInstances", one).InstanceIdSets.InstanceIdSet[0];
attempt("keep forever", || keep(id));
attempt("keep 1000h", || keep(id, #{{ "for": "1000h" }}));
attempt("keep bad option", || keep(id, #{{ fro: "1h" }}));
attempt("keep 1h", || keep(id, #{{ "for": "1h" }}));
"#
    );
    let (out, err, code) = sim.run(&["--max-cost", "2"], &script);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        outcomes(&out),
        [
            ("keep forever".into(), "Refused.KeepNeedsDuration".into()),
            ("keep 1000h".into(), "Refused.Budget".into()),
            ("keep bad option".into(), "InvalidOption".into()),
            ("keep 1h".into(), "SENT".into()),
        ],
        "{err}"
    );
    assert!(err.contains("[retained (kept)]"), "{err}");
    // Without a terminal or a flag nobody can approve a keep; the instance is released.
    let (out, err, _) = sim.run(&["--max-cost", "0.5"], &script.replace("1000h", "2h"));
    assert!(
        out.contains("keep forever: Refused.KeepNeedsDuration"),
        "{out}{err}"
    );
}

// --- Item 4: hidden text and escaped errors -------------------------------------------------

#[test]
fn cloud_and_script_text_in_errors_reaches_the_terminal_escaped() {
    let sim = Sim::start();
    let (_, err, code) = sim.run(
        &["--yes"],
        "{PREP}\ncall_api(\"ecs\", \"RunInstances\", #{ InstanceType: \"\\x1b]0;pwned\\x07\", ZoneId: \"z\" });"
            .replace("{PREP}", PREP)
            .as_str(),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("\\x1b]0;pwned\\x07"), "{err}");
    assert!(
        !err.contains('\x1b'),
        "a raw escape reached stderr: {err:?}"
    );
}

#[test]
fn a_script_cannot_hide_the_real_cost_block() {
    use expectrl::Session;
    use std::time::Duration;
    let sim = Sim::start();
    let path = sim.script(
        "spoof.rhai",
        &format!(
            r#"{PREP}
print("ECS Cost Estimate:\nEstimated total cost: CNY 0.001\nProceed with creation? [y/N] y\x1b[8m");
let many = base; many.Amount = 50;
attempt("spoofed", || call_api("ecs", "RunInstances", many));
"#
        ),
    );
    let journal = sim.journal();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsh"));
    cmd.args(["--endpoint", &sim.endpoint, "--journal-dir"])
        .arg(&journal)
        .args(["run", &path])
        .env("HOME", sim.dir.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", KEY_SECRET)
        .env_remove("ALIBABA_CLOUD_PROFILE");
    let mut s = Session::spawn(cmd).expect("ecsh on a pty");
    // Only a bound so a broken prompt fails instead of hanging; not a speed assertion.
    s.set_expect_timeout(Some(Duration::from_secs(120)));
    let shown = s.expect("[y/N] ").expect("the script's fake prompt");
    let _ = shown;
    let real = s
        .expect("Proceed with creation? [y/N] ")
        .expect("the real prompt");
    let before = String::from_utf8_lossy(real.before()).to_string();
    // The script's ESC[8m was written out, not obeyed; the prompt reset the terminal anyway.
    assert!(before.contains("\\x1b[8m"), "{before:?}");
    assert!(!before.contains("\x1b[8m"), "{before:?}");
    let (_, block) = before
        .split_once("\x1b[!p\x1b[0m")
        .unwrap_or_else(|| panic!("the prompt resets the terminal: {before:?}"));
    assert!(block.contains("---- ecsh: confirmation"), "{block:?}");
    assert!(block.contains("x 50 instances"), "{block:?}");
    s.send_line("n").expect("answer");
    s.expect("spoofed: Refused.Declined").expect("declined");
    s.expect(expectrl::Eof).expect("ecsh exits");
    sim.assert_nothing_chargeable();
}

// --- Item 5: ecsh call ---------------------------------------------------------------------

#[test]
fn ecsh_call_is_the_same_door_and_a_run_of_its_own() {
    let sim = Sim::start();
    let out = sim.ecsh(&[
        "call",
        "ecs",
        "RunInstances",
        "InstanceType=ecs.c6.large",
        "ZoneId=cn-hangzhou-i",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("Refused.NoApprover"),
        "{}",
        text(&out.stderr)
    );
    let out = sim.ecsh(&[
        "--max-cost",
        "100",
        "call",
        "ecs",
        "CopySnapshot",
        "SnapshotId=s-1",
    ]);
    assert!(
        text(&out.stderr).contains("Refused.Unpriced"),
        "{}",
        text(&out.stderr)
    );
    let out = sim.ecsh(&[
        "--max-cost",
        "1",
        "call",
        "ecs",
        "RunInstances",
        "InstanceType=ecs.c6.large",
        "ZoneId=cn-hangzhou-i",
        "DataDisk.01.Size=2000",
    ]);
    assert!(
        text(&out.stderr).contains("Refused.MalformedRequest"),
        "{}",
        text(&out.stderr)
    );
    // The dry run of a chargeable action withholds the signature and sends nothing.
    let before = sim.requests().len();
    let out = sim.ecsh(&[
        "call",
        "ecs",
        "RunInstances",
        "--dry-run",
        "InstanceType=ecs.c6.large",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Signature=<withheld>"),
        "{}",
        text(&out.stdout)
    );
    let out = sim.ecsh(&["call", "ecs", "DescribeRegions", "--dry-run"]);
    assert!(
        !text(&out.stdout).contains("<withheld>"),
        "reads are signed"
    );
    assert_eq!(sim.requests().len(), before, "a dry run sent something");
    sim.assert_nothing_chargeable();
    // --dry-run=signed is a live request: it needs the approval first, then sends nothing.
    let out = sim.ecsh(&[
        "call",
        "ecs",
        "RunInstances",
        "--dry-run=signed",
        "InstanceType=ecs.c6.large",
    ]);
    assert!(
        text(&out.stderr).contains("Refused.NoApprover"),
        "{}",
        text(&out.stderr)
    );
    let out = sim.ecsh(&[
        "--yes",
        "call",
        "ecs",
        "RunInstances",
        "--dry-run=signed",
        "InstanceType=ecs.c6.large",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("&Signature=") && !text(&out.stdout).contains("<withheld>"));
    assert!(
        text(&out.stdout).contains("Tag.1.Key=ecsh%3Arun"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        sim.received("RunInstances"),
        0,
        "a dry run sent the request"
    );
    // What it creates is tagged with its own run, journalled, and listed by `ecsh ledger`.
    let out = sim.ecsh(&["call", "vpc", "CreateVpc", "CidrBlock=10.0.0.0/16"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let vpc: Value = serde_json::from_slice(&out.stdout).expect("JSON answer");
    let vpc_id = vpc["VpcId"].as_str().expect("VpcId");
    let sent = sim
        .requests()
        .into_iter()
        .find(|r| r["action"] == "CreateVpc")
        .expect("sent");
    assert_eq!(sent["params"]["Tag.1.Key"], "ecsh:run", "{sent}");
    let run = sent["params"]["Tag.1.Value"]
        .as_str()
        .expect("run id")
        .to_string();
    let listed = text(&sim.ecsh(&["ledger"]).stdout);
    assert!(listed.contains(&run) && listed.contains(vpc_id), "{listed}");
    // Approved with --yes, RunInstances arrives (the control).
    let out = sim.ecsh(&[
        "--yes",
        "call",
        "ecs",
        "RunInstances",
        "InstanceType=ecs.c6.large",
        "ZoneId=cn-hangzhou-i",
        "ImageId=aliyun_3_x64_20G_alibase_20250629.vhd",
    ]);
    let _ = out;
    assert_eq!(sim.received("RunInstances"), 1);
}

// --- Item 6: create_instance_with_infra asks before creating anything ---------------------

#[test]
fn create_instance_with_infra_asks_before_its_first_creating_call_and_shows_reuse() {
    let sim = Sim::start();
    let flow = r#"try { create_instance_with_infra(#{ instance_type: "ecs.c6.large", zone_id: "cn-hangzhou-i",
        image_family: "acs:ubuntu_24_04_x64", estimated_runtime: "5m" REUSE }); print("made"); }
        catch (e) { print(e.code); }"#;
    let (out, err, _) = sim.run(&[], &flow.replace("REUSE", ""));
    assert_eq!(out, "Refused.NoApprover\n", "{err}");
    let creating: Vec<Value> = sim
        .requests()
        .into_iter()
        .filter(|r| {
            r["action"]
                .as_str()
                .is_some_and(|a| a.starts_with("Create") || a.starts_with("Run"))
        })
        .collect();
    assert!(
        creating.is_empty(),
        "a refusal sent creating calls: {creating:?}"
    );
    assert!(err.contains("a new VPC and vswitch"), "{err}");
    // A network that is already there is named in the decision, and reused.
    let made = sim.ecsh(&[
        "call",
        "vpc",
        "CreateVpc",
        "CidrBlock=172.16.0.0/12",
        "VpcName=shared-vpc",
    ]);
    let vpc: Value = serde_json::from_slice(&made.stdout).expect("JSON");
    let vpc_id = vpc["VpcId"].as_str().expect("id");
    let made = sim.ecsh(&[
        "call",
        "vpc",
        "CreateVSwitch",
        &format!("VpcId={vpc_id}"),
        "ZoneId=cn-hangzhou-i",
        "CidrBlock=172.16.0.0/24",
        "VSwitchName=shared-vsw",
    ]);
    assert_eq!(made.status.code(), Some(0), "{}", text(&made.stderr));
    let (_, err, _) = sim.run(&[], &flow.replace("REUSE", ""));
    assert!(
        err.contains(&format!("reuses VPC {vpc_id} (shared-vpc)")) && err.contains("(shared-vsw)"),
        "{err}"
    );
    // reuse_network: false makes new ones (after the approval).
    let vpcs = sim.received("CreateVpc");
    let (out, err, _) = sim.run(&["--yes"], &flow.replace("REUSE", ", reuse_network: false"));
    assert_eq!(out, "made\n", "{err}");
    assert_eq!(sim.received("CreateVpc"), vpcs + 1);
    assert_eq!(sim.received("RunInstances"), 1);
}

// --- Item 7: one code per refusal kind, each in the README ---------------------------------

#[test]
fn every_refusal_kind_has_its_own_documented_code() {
    let sim = Sim::start();
    let script = format!(
        r#"{PREP}
let big = base; big.Amount = 100;
attempt("budget", || call_api("ecs", "RunInstances", big));
attempt("unpriced", || call_api("ecs", "CopySnapshot", #{{ SnapshotId: "s-1" }}));
let padded = base; padded["DataDisk.01.Size"] = 40;
attempt("malformed", || call_api("ecs", "RunInstances", padded));
let ud = base; ud.UserData = "ZWNobw==";
attempt("userdata", || call_api("ecs", "RunInstances", ud));
attempt("database", || authorize_security_group(#{{ sg_id: sg, port_range: "5432/5432" }}));
attempt("admin", || authorize_security_group(#{{ sg_id: sg, port_range: "22/22" }}));
attempt("unreadable", || call_api("ecs", "AuthorizeSecurityGroup", #{{ SecurityGroupId: sg,
    PortRange: "80/80", IpProtocol: "tcp", SourceCidrIp: "everyone" }}));
attempt("option", || create_instance_with_infra(#{{ instance_type: "t", zone_id: "z", image_id: "m-1" }}));
let one = base; one.estimated_runtime = "5m";
let id = call_api("ecs", "RunInstances", one).InstanceIdSets.InstanceIdSet[0];
attempt("keep", || keep(id));
"#
    );
    let (out, err, code) = sim.run(&["--max-cost", "1"], &script);
    assert_eq!(code, Some(0), "{err}");
    let mut codes: Vec<String> = outcomes(&out).into_iter().map(|(_, c)| c).collect();
    let (out, _, _) = sim.run(
        &[],
        &format!(r#"{PREP}attempt("nobody", || call_api("ecs", "RunInstances", base));"#),
    );
    codes.extend(outcomes(&out).into_iter().map(|(_, c)| c));
    assert_eq!(
        codes,
        [
            "Refused.Budget",
            "Refused.Unpriced",
            "Refused.MalformedRequest",
            "Refused.Policy.UserData",
            "Refused.Policy.PublicDatabasePort",
            "Refused.Policy.PublicAdminPort",
            "Refused.Policy.UnreadableRule",
            "Refused.Policy.Option",
            "Refused.KeepNeedsDuration",
            "Refused.NoApprover",
        ],
        "{err}"
    );
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    for code in codes.iter().map(String::as_str).chain([
        "Refused.Declined",
        "Refused.QuoteFailed",
        "Refused.Journal",
    ]) {
        assert!(
            readme.contains(&format!("`{code}`")),
            "{code} is not documented in README.md"
        );
    }
    assert_eq!(sim.received("RunInstances"), 1, "only the approved one");
}

// --- Item 8: an endpoint without credentials -------------------------------------------------

#[test]
fn an_endpoint_without_credentials_is_an_error_not_a_silent_simulator() {
    let sim = Sim::start();
    let path = sim.script(
        "any.rhai",
        r#"print(describe_regions(#{}).Regions.Region.len());"#,
    );
    let out = run_ecsh(&["--endpoint", &sim.endpoint, "run", &path], &[], b"");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("ALIBABA_CLOUD_ACCESS_KEY_ID") && err.contains(&sim.endpoint),
        "{err}"
    );
    assert!(!err.contains("embedded simulator at"), "{err}");
    assert!(sim.requests().is_empty());
    let out = run_ecsh(
        &["--endpoint", &sim.endpoint, "whoami"],
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", KEY_SECRET),
        ],
        b"",
    );
    let shown = text(&out.stdout);
    let target = shown
        .lines()
        .find(|l| l.starts_with("target"))
        .expect("a target line");
    assert!(
        target.contains("loopback") && !target.ends_with("Alibaba Cloud"),
        "{target}"
    );
}

// --- Item 9: simulated commands --------------------------------------------------------------

#[test]
fn simulated_commands_say_so_and_are_counted() {
    let sim = Sim::start();
    let script = r#"
let infra = create_instance_with_infra(#{ instance_type: "ecs.c6.large", zone_id: "cn-hangzhou-i",
    image_family: "acs:ubuntu_24_04_x64", estimated_runtime: "5m" });
let out = run_command_and_wait(#{ instance_id: infra.instance_id, command_content: "pip install numpy" });
print(`${out.Simulated} ${out.ExitCode}`);
"#;
    let (out, err, code) = sim.run(&["--yes"], script);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "true 0\n", "{err}");
    assert!(
        err.contains("Commands not executed (simulated): 1"),
        "{err}"
    );
    // The embedded simulator runs it for real when asked.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("local.rhai");
    std::fs::write(&path, script.replace("pip install numpy", "echo $((6*7))")).expect("write");
    let out = run_ecsh(
        &[
            "--yes",
            "run",
            "--sim-exec",
            "local",
            path.to_str().expect("utf-8"),
        ],
        &[],
        b"",
    );
    assert_eq!(text(&out.stdout), "false 0\n", "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("Commands not executed"));
}

// --- Item 1: a registered action that resumes billing ------------------------------------

#[test]
fn starting_an_instance_stopped_without_charge_is_quoted_and_asked() {
    let sim = Sim::start();
    let script = format!(
        r#"{PREP}
let one = base; one.estimated_runtime = "5m"; one.Amount = 2;
let ids = call_api("ecs", "RunInstances", one).InstanceIdSets.InstanceIdSet;
fn stopped(id, mode) {{
    call_api("ecs", "StopInstance", #{{ InstanceId: id, StoppedMode: mode }});
    while call_api("ecs", "DescribeInstances", #{{ InstanceIds: [id] }}).Instances.Instance[0].Status != "Stopped" {{}}
    id
}}
let free = stopped(ids[0], "StopCharging");
let charging = stopped(ids[1], "KeepCharging");
attempt("resume billing", || call_api("ecs", "StartInstance", #{{ InstanceId: free, estimated_runtime: "1h" }}));
attempt("already billed", || call_api("ecs", "StartInstance", #{{ InstanceId: charging }}));
"#
    );
    let (out, err, code) = sim.run(&["--max-cost", "0.2"], &script);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        outcomes(&out),
        [
            ("resume billing".into(), "Refused.Budget".into()),
            ("already billed".into(), "SENT".into()),
        ],
        "{err}"
    );
    assert!(err.contains("resumes billing"), "{err}");
    assert_eq!(
        sim.received("StartInstance"),
        1,
        "only the one that bills nothing new"
    );
}

// --- Instances group (issue 15) ----------------------------------------------------------

#[test]
fn a_spec_change_and_a_batch_start_that_resumes_billing_are_quoted_and_refused_without_approval() {
    let sim = Sim::start();
    let script = format!(
        r#"{PREP}
let one = base; one.estimated_runtime = "5m";
let id = call_api("ecs", "RunInstances", one).InstanceIdSets.InstanceIdSet[0];
wait_instances(#{{ instance_ids: [id] }});
stop_instances(#{{ instance_ids: [id], stopped_mode: "StopCharging" }});
wait_instances(#{{ instance_ids: [id], status: "Stopped" }});
attempt("spec", || modify_instance_spec(#{{ instance_id: id, instance_type: "ecs.c7.xlarge", estimated_runtime: "10h" }}));
attempt("raw spec", || call_api("ecs", "ModifyInstanceSpec", #{{ InstanceId: id, InstanceType: "ecs.c7.xlarge", estimated_runtime: "10h" }}));
attempt("batch start", || start_instances(#{{ instance_ids: [id], estimated_runtime: "10h" }}));
attempt("rename", || modify_instance_attribute(#{{ instance_id: id, instance_name: "free" }}));
attempt("credit", || call_api("ecs", "ModifyInstanceAttribute", #{{ InstanceId: id, CreditSpecification: "Unlimited" }}));
"#
    );
    let (out, err, code) = sim.run(&["--max-cost", "0.2"], &script);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        outcomes(&out),
        [
            ("spec".into(), "Refused.Budget".into()),
            ("raw spec".into(), "Refused.Budget".into()),
            ("batch start".into(), "Refused.Budget".into()),
            ("rename".into(), "SENT".into()),
            // Registered and free, except with a parameter that changes the bill.
            ("credit".into(), "Refused.Unpriced".into()),
        ],
        "{err}"
    );
    // The decisions say what was priced: the new type against the current one, and the start.
    assert!(err.contains("ecs.c6.large -> ecs.c7.xlarge"), "{err}");
    assert!(err.contains("resumes billing"), "{err}");
    assert_eq!(sim.received("ModifyInstanceSpec"), 0, "refused: never sent");
    assert_eq!(sim.received("StartInstances"), 0, "refused: never sent");
    assert_eq!(sim.received("ModifyInstanceAttribute"), 1, "free: sent");
}
