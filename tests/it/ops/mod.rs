//! Issue 15's operation groups (security groups, Cloud Assistant, spot, tags) through the real
//! `ecsh` binary against a standalone `ecsh sim`: each group's script run by `ecsh run`, the
//! guard's refusals through `call_api` and `ecsh call`, and what is left afterwards counted
//! through the simulator's own API. One file per group; [`Sim`] is their shared harness.

mod cloud_assistant;
mod security_groups;
mod spot;
mod tags;

use ecsh::ops::Product;
use ecsh::rpc::{CallError, Client, ClientConfig, Credentials};
use serde_json::Value;
use std::process::{Output, Stdio};

pub const REGION: &str = "cn-hangzhou";
pub const ZONE: &str = "cn-hangzhou-j";
const KEY_ID: &str = "LTAIops15TestKey00000000";
const SECRET: &str = "ops15TestSecret000000000000000";

/// A standalone `ecsh sim` (lifecycles advance per observation: fast and deterministic), a
/// journal directory for the runs against it, and a client of its API; killed when dropped.
pub struct Sim {
    child: std::process::Child,
    pub endpoint: String,
    journal: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    client: Client,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sim {
    /// Starts `ecsh sim` with `extra` flags (`--fault …`, `--sim-exec local`).
    pub fn start(extra: &[&str]) -> Sim {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ecsh"))
            .args(["sim", "--listen", "127.0.0.1:0", "--time-steps", "2"])
            .args(["--access-key-id", KEY_ID, "--access-key-secret", SECRET])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ecsh sim starts");
        let endpoint = crate::support::sim_endpoint(child.stdout.take().expect("sim stdout"))
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("ecsh sim printed no endpoint")
            });
        let mut config = ClientConfig::new(Credentials::new(KEY_ID, SECRET), REGION);
        config.endpoint_override = Some(endpoint.clone());
        Sim {
            child,
            endpoint,
            journal: tempfile::tempdir().expect("journal dir"),
            rt: tokio::runtime::Runtime::new().expect("runtime"),
            client: Client::new(config).expect("client"),
        }
    }

    /// The simulator's process id (its `--sim-exec local` scratch folders are named by it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `ecsh --endpoint … --journal-dir … ARGS…` with the simulator's keys, to completion.
    pub fn ecsh(&self, args: &[&str]) -> Output {
        let journal = self.journal.path().to_string_lossy().to_string();
        let mut all = vec!["--endpoint", &self.endpoint, "--journal-dir", &journal];
        all.extend_from_slice(args);
        crate::support::ecsh(
            &all,
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET),
            ],
        )
    }

    /// `ecsh --yes run FILE ARGS…`, which must succeed; returns its stdout lines.
    pub fn run_ok(&self, script: &std::path::Path, args: &[&str]) -> Vec<String> {
        let file = script.to_string_lossy().to_string();
        let mut all = vec!["--yes", "run", &file];
        all.extend_from_slice(args);
        let out = self.ecsh(&all);
        let stdout = crate::support::text(&out.stdout);
        assert!(
            out.status.success(),
            "ecsh run {file} failed ({:?}):\n{stdout}\n{}",
            out.status,
            crate::support::text(&out.stderr)
        );
        stdout.lines().map(str::to_string).collect()
    }

    /// One API call straight to the simulator (no guard, no ledger): for setting up and for
    /// looking at what a run left.
    pub fn call(
        &self,
        product: Product,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Value, CallError> {
        let mut p: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if !params.iter().any(|(k, _)| *k == "RegionId") {
            p.push(("RegionId".into(), REGION.into()));
        }
        self.rt.block_on(self.client.call(product, action, p))
    }

    pub fn ok(&self, product: Product, action: &str, params: &[(&str, &str)]) -> Value {
        self.call(product, action, params)
            .unwrap_or_else(|e| panic!("{action} failed: {e}"))
    }

    /// The API error code of a call that must fail.
    pub fn code(&self, product: Product, action: &str, params: &[(&str, &str)]) -> String {
        match self.call(product, action, params) {
            Ok(v) => panic!("{action} succeeded: {v}"),
            Err(CallError::Api(e)) => e.code.clone(),
            Err(e) => panic!("{action} failed without an API error: {e}"),
        }
    }

    /// Every instance, security group, vswitch and VPC the simulator lists in the region.
    pub fn inventory(&self) -> Vec<String> {
        self.rt
            .block_on(crate::support::inventory(&self.client, REGION))
    }

    /// A VPC, vswitch and security group, Available, made directly (not by a run).
    pub fn network(&self) -> (String, String, String) {
        let vpc = self.ok(
            Product::Vpc,
            "CreateVpc",
            &[("CidrBlock", "192.168.0.0/16")],
        );
        let vpc = vpc["VpcId"].as_str().expect("VpcId").to_string();
        self.until(
            Product::Vpc,
            "DescribeVpcs",
            &[("VpcId", &vpc)],
            "/Vpcs/Vpc/0/Status",
            "Available",
        );
        let vsw = self.ok(
            Product::Vpc,
            "CreateVSwitch",
            &[
                ("VpcId", &vpc),
                ("ZoneId", ZONE),
                ("CidrBlock", "192.168.1.0/24"),
            ],
        );
        let vsw = vsw["VSwitchId"].as_str().expect("VSwitchId").to_string();
        self.until(
            Product::Vpc,
            "DescribeVSwitches",
            &[("VSwitchId", &vsw)],
            "/VSwitches/VSwitch/0/Status",
            "Available",
        );
        let sg = self.ok(Product::Ecs, "CreateSecurityGroup", &[("VpcId", &vpc)]);
        let sg = sg["SecurityGroupId"]
            .as_str()
            .expect("SecurityGroupId")
            .to_string();
        (vpc, vsw, sg)
    }

    /// A Running pay-as-you-go instance in the vswitch and group, made directly.
    pub fn instance(&self, vsw: &str, sg: &str) -> String {
        let r = self.ok(
            Product::Ecs,
            "RunInstances",
            &[
                ("ImageFamily", "acs:ubuntu_24_04_x64"),
                ("InstanceType", "ecs.g7.large"),
                ("VSwitchId", vsw),
                ("SecurityGroupId", sg),
            ],
        );
        let id = r["InstanceIdSets"]["InstanceIdSet"][0]
            .as_str()
            .expect("an instance id")
            .to_string();
        let ids = format!("[\"{id}\"]");
        self.until(
            Product::Ecs,
            "DescribeInstances",
            &[("InstanceIds", &ids)],
            "/Instances/Instance/0/Status",
            "Running",
        );
        id
    }

    /// Polls a describe until the JSON pointer shows `want`.
    pub fn until(
        &self,
        product: Product,
        action: &str,
        params: &[(&str, &str)],
        at: &str,
        want: &str,
    ) {
        for _ in 0..400 {
            let v = self.ok(product, action, params);
            if v.pointer(at).and_then(Value::as_str) == Some(want) {
                return;
            }
        }
        panic!("{action}: {at} never became {want}");
    }
}

/// scripts/`name`.
pub fn script(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

/// The first line starting with `prefix`.
pub fn line<'a>(lines: &'a [String], prefix: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {lines:#?}"))
}
