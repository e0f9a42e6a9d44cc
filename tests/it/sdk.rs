//! The official Alibaba Cloud SDKs, unchanged, against the simulator.
//!
//! Each SDK has a workflow script in `tests/sdk/` (the legacy Python SDK with signature v1 in
//! the query, the Tea Python SDK with signature v3 in headers, npm `@alicloud/pop-core` with v1
//! in a form body) that drives the seed's whole workflow and exits 0 only if every step looked
//! like the real service. A test here starts a simulator with fast time and real (`echo`-only)
//! command execution, runs one script against it as a subprocess, then lists every instance,
//! security group, vswitch and VPC through ecsh's own client to prove nothing was left behind.
//! One test per SDK uses an in-process simulator; one more runs the standalone `ecsh sim`
//! command, as a user of the SDKs would, and stops it with SIGTERM.
//!
//! The SDKs come from `bash tests/sdk/install.sh`. Without them a test prints how to install
//! them and passes, so a newcomer's plain `cargo test` works offline; with `CI` or
//! `ECSH_REQUIRE_SDK` set in the environment a missing SDK fails the test instead.

use ecsh::rpc::{Client, ClientConfig, Credentials, Product};
use ecsh::sim::model::{ExecMode, TimeMode};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const INSTALL: &str = "bash tests/sdk/install.sh";
const REGION: &str = "cn-hangzhou";
/// A whole workflow takes seconds at the test time scale; this bound only stops a hung run.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(300);
/// Simulated durations are multiplied by this: an instance's ~30 s boot takes ~0.3 s.
const TIME_SCALE: f64 = 0.01;

#[derive(Clone, Copy, Debug)]
enum Runtime {
    Python,
    Node,
}

/// One official SDK and the script that drives it.
struct Workflow {
    sdk: &'static str,
    runtime: Runtime,
    script: &'static str,
}

const LEGACY_PYTHON: Workflow = Workflow {
    sdk: "aliyun-python-sdk-core/-ecs/-vpc (signature v1)",
    runtime: Runtime::Python,
    script: "legacy_workflow.py",
};
const TEA_PYTHON: Workflow = Workflow {
    sdk: "alibabacloud-ecs20140526/-vpc20160428 (signature v3)",
    runtime: Runtime::Python,
    script: "tea_workflow.py",
};
const POP_CORE: Workflow = Workflow {
    sdk: "@alicloud/pop-core (signature v1, form body)",
    runtime: Runtime::Node,
    script: "node/workflow.js",
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_python_sdk_drives_the_whole_workflow() {
    run(&LEGACY_PYTHON).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tea_python_sdk_with_signature_v3_drives_the_whole_workflow() {
    run(&TEA_PYTHON).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop_core_node_sdk_drives_the_whole_workflow() {
    run(&POP_CORE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_ecsh_sim_serves_the_current_official_sdk() {
    let Some(program) = installed_or_skip(&TEA_PYTHON) else {
        return;
    };
    let sim = Standalone::start();
    check_workflow(&program, &TEA_PYTHON, &sim.target).await;
    sim.stop();
}

async fn run(workflow: &Workflow) {
    let Some(program) = installed_or_skip(workflow) else {
        return;
    };
    let sim = crate::support::start_sim_with(|config| {
        config.world.time = TimeMode::Scaled(TIME_SCALE);
        // The workflows only `echo` a marker; running it for real proves Output carries the
        // command's own output through each SDK's Base64 decoding.
        config.world.exec = ExecMode::Local;
    })
    .await;
    let target = Target {
        endpoint: sim.endpoint(),
        access_key_id: sim.access_key_id().to_owned(),
        access_key_secret: sim.access_key_secret().expose().to_owned(),
    };
    check_workflow(&program, workflow, &target).await;
    sim.shutdown().await.expect("the simulator stops cleanly");
}

/// A simulator's address and the credentials it accepts.
struct Target {
    endpoint: String,
    access_key_id: String,
    access_key_secret: String,
}

/// Runs the workflow against `target`; it must pass and leave the region as it found it.
async fn check_workflow(program: &Path, workflow: &Workflow, target: &Target) {
    let client = ecsh_client(target);
    let before = inventory(&client).await;
    let outcome = run_script(program, workflow, target).await;
    assert!(
        outcome.status.success() && outcome.stdout.contains("PASS ("),
        "the {} workflow failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        workflow.sdk,
        outcome.status,
        outcome.stdout,
        outcome.stderr
    );
    let after = inventory(&client).await;
    assert_eq!(
        after, before,
        "the {} workflow left resources behind in {REGION}",
        workflow.sdk
    );
}

// ------------------------------------------------------------------------------------------------
// Finding the installed SDKs

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk")
}

/// True when a missing SDK must fail the test (CI, or a developer who asked for it).
fn sdk_required() -> bool {
    ["CI", "ECSH_REQUIRE_SDK"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// The interpreter that runs `workflow`, or `None` (after saying why) when its SDK is missing.
fn installed_or_skip(workflow: &Workflow) -> Option<PathBuf> {
    match find_runtime(workflow.runtime) {
        Ok(program) => Some(program),
        Err(missing) if sdk_required() => panic!(
            "{}: {missing}. Install the official SDKs with `{INSTALL}` (CI or ECSH_REQUIRE_SDK is set, so this fails)",
            workflow.sdk
        ),
        Err(missing) => {
            eprintln!(
                "skipped {}: {missing}; run `{INSTALL}` to check the simulator against it",
                workflow.sdk
            );
            None
        }
    }
}

fn find_runtime(runtime: Runtime) -> Result<PathBuf, String> {
    match runtime {
        Runtime::Python => {
            let python = std::env::var_os("ECSH_SDK_PYTHON")
                .map(PathBuf::from)
                .unwrap_or_else(|| sdk_dir().join(".venv/bin/python"));
            let modules = "import aliyunsdkcore, aliyunsdkecs, aliyunsdkvpc, \
                           alibabacloud_ecs20140526, alibabacloud_vpc20160428";
            probe(&python, &["-c", modules], "the Python SDK packages")?;
            Ok(python)
        }
        Runtime::Node => {
            let node = std::env::var_os("ECSH_SDK_NODE")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("node"));
            let package = sdk_dir().join("node/node_modules/@alicloud/pop-core/package.json");
            if !package.is_file() {
                return Err(format!("{} is not installed", package.display()));
            }
            probe(&node, &["--version"], "Node.js")?;
            Ok(node)
        }
    }
}

/// Runs `program args` and succeeds when it exits 0.
fn probe(program: &Path, args: &[&str], what: &str) -> Result<(), String> {
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{} cannot load {what} ({s})", program.display())),
        Err(e) => Err(format!("{} cannot run ({e})", program.display())),
    }
}

// ------------------------------------------------------------------------------------------------
// Running a workflow script

struct Outcome {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs the script against `sim` with its output in temporary files (no pipe can fill up) and
/// kills it if it outlives [`SCRIPT_DEADLINE`].
async fn run_script(program: &Path, workflow: &Workflow, target: &Target) -> Outcome {
    let stdout = tempfile::NamedTempFile::new().expect("a temporary file for stdout");
    let stderr = tempfile::NamedTempFile::new().expect("a temporary file for stderr");
    let mut command = Command::new(program);
    command
        .arg(sdk_dir().join(workflow.script))
        .env("ECSH_SIM_ENDPOINT", &target.endpoint)
        .env("ECSH_SIM_ACCESS_KEY_ID", &target.access_key_id)
        .env("ECSH_SIM_ACCESS_KEY_SECRET", &target.access_key_secret)
        .env("ECSH_SDK_REGION", REGION)
        .env("ECSH_SDK_WAIT_SECONDS", "60")
        .env("ECSH_SDK_REQUIRE_EXECUTION", "1")
        .stdin(Stdio::null())
        .stdout(stdout.reopen().expect("stdout file"))
        .stderr(stderr.reopen().expect("stderr file"));
    // The SDKs honour proxy variables; loopback traffic must not go through one.
    for proxy in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(proxy);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the script's status") {
            break status;
        }
        if started.elapsed() > SCRIPT_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the {} workflow was still running after {SCRIPT_DEADLINE:?}; output so far:\n{}\n{}",
                workflow.sdk,
                read(&stdout),
                read(&stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    Outcome {
        status,
        stdout: read(&stdout),
        stderr: read(&stderr),
    }
}

fn read(file: &tempfile::NamedTempFile) -> String {
    std::fs::read_to_string(file.path()).unwrap_or_else(|e| format!("(unreadable: {e})"))
}

// ------------------------------------------------------------------------------------------------
// What exists in the region, through ecsh's own client

fn ecsh_client(target: &Target) -> Client {
    let credentials = Credentials::new(&target.access_key_id, &target.access_key_secret);
    let mut config = ClientConfig::new(credentials, REGION);
    config.endpoint_override = Some(target.endpoint.clone());
    Client::new(config).expect("an ecsh client for the simulator")
}

/// Every (kind, id) of the resources the workflow creates that exists in [`REGION`].
async fn inventory(client: &Client) -> BTreeSet<(&'static str, String)> {
    let listings = [
        (
            Product::Ecs,
            "DescribeInstances",
            "Instances",
            "Instance",
            "InstanceId",
        ),
        (
            Product::Ecs,
            "DescribeSecurityGroups",
            "SecurityGroups",
            "SecurityGroup",
            "SecurityGroupId",
        ),
        (
            Product::Vpc,
            "DescribeVSwitches",
            "VSwitches",
            "VSwitch",
            "VSwitchId",
        ),
        (Product::Vpc, "DescribeVpcs", "Vpcs", "Vpc", "VpcId"),
    ];
    let mut found = BTreeSet::new();
    for (product, action, outer, inner, id_key) in listings {
        let params = vec![("PageSize".to_owned(), "50".to_owned())];
        let answer: Value = client
            .call(product, action, params)
            .await
            .unwrap_or_else(|e| panic!("{action} through ecsh's client: {e}"));
        let listed = answer[outer][inner]
            .as_array()
            .unwrap_or_else(|| panic!("{action} has no {outer}.{inner} list: {answer}"));
        assert!(
            answer["TotalCount"].as_u64() == Some(listed.len() as u64),
            "{action} lists more than one page; the inventory needs paging: {answer}"
        );
        for entry in listed {
            let id = entry[id_key]
                .as_str()
                .unwrap_or_else(|| panic!("{action} entry without {id_key}: {entry}"));
            found.insert((inner, id.to_owned()));
        }
    }
    found
}

// ------------------------------------------------------------------------------------------------
// The standalone `ecsh sim` command

/// `ecsh sim` running as a child process; killed if a test panics before stopping it.
struct Standalone {
    child: Child,
    stdout: tempfile::NamedTempFile,
    stderr: tempfile::NamedTempFile,
    target: Target,
}

impl Standalone {
    /// Starts `ecsh sim` on a free loopback port with fresh credentials and reads the endpoint
    /// from the banner it prints.
    fn start() -> Standalone {
        let access_key_id = format!("LTAI{}", &crate::support::nonce()[..20]);
        let access_key_secret = crate::support::nonce();
        let stdout = tempfile::NamedTempFile::new().expect("a temporary file for stdout");
        let stderr = tempfile::NamedTempFile::new().expect("a temporary file for stderr");
        let child = Command::new(env!("CARGO_BIN_EXE_ecsh"))
            .args(["sim", "--listen", "127.0.0.1:0", "--sim-exec", "local"])
            .args(["--time-scale", &TIME_SCALE.to_string()])
            .args(["--access-key-id", &access_key_id])
            .args(["--access-key-secret", &access_key_secret])
            .stdin(Stdio::null())
            .stdout(stdout.reopen().expect("stdout file"))
            .stderr(stderr.reopen().expect("stderr file"))
            .spawn()
            .expect("`ecsh sim` starts");
        let mut sim = Standalone {
            child,
            stdout,
            stderr,
            target: Target {
                endpoint: String::new(),
                access_key_id,
                access_key_secret,
            },
        };
        sim.target.endpoint = sim.wait_for_banner();
        sim
    }

    /// The endpoint from the `endpoint:` line, once the banner is complete.
    fn wait_for_banner(&mut self) -> String {
        let started = Instant::now();
        loop {
            let banner = read(&self.stdout);
            if banner.contains("serving ECS") {
                let field = |name: &str| {
                    banner
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim().to_owned())
                        .unwrap_or_else(|| panic!("`ecsh sim` printed no `{name}` line:\n{banner}"))
                };
                assert_eq!(field("access key id:"), self.target.access_key_id);
                return field("endpoint:");
            }
            if let Some(status) = self.child.try_wait().expect("`ecsh sim` status") {
                panic!(
                    "`ecsh sim` exited ({status}) before serving:\n{}",
                    read(&self.stderr)
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "`ecsh sim` printed no banner within 30 s:\n{banner}\n{}",
                read(&self.stderr)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, as a service manager would send; the simulator must exit 0 saying it stopped.
    fn stop(mut self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid fits in pid_t");
        // SAFETY: kill(2) with a pid this test spawned and still owns (not yet reaped).
        assert_eq!(
            unsafe { libc::kill(pid, libc::SIGTERM) },
            0,
            "SIGTERM to `ecsh sim`"
        );
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("`ecsh sim` status") {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "`ecsh sim` ignored SIGTERM for 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = read(&self.stderr);
        assert!(
            status.success() && stderr.contains("stopped"),
            "`ecsh sim` did not stop cleanly on SIGTERM ({status}):\n{stderr}"
        );
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
