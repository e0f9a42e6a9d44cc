//! Issue 15's resource groups through the real binary: key pairs, disks, snapshots and images,
//! elastic IPs. Each test runs a script with `ecsh run` against an in-process simulator over
//! loopback HTTP, then asks the simulator's own API what exists, and reads its request log for
//! the order in which things were released.

use crate::support::{ecsh, start_sim_with, text};
use ecsh::ops::Product;
use ecsh::rpc::{Client, ClientConfig, Credentials};
use ecsh::sim::RunningSim;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const REGION: &str = "cn-hangzhou";

struct Env {
    rt: tokio::runtime::Runtime,
    sim: RunningSim,
    client: Client,
    /// HOME of the runs (journals under it), and the scratch directory of the test.
    home: tempfile::TempDir,
    requests: PathBuf,
}

fn env() -> Env {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let home = tempfile::tempdir().expect("home");
    let requests = home.path().join("requests.jsonl");
    let log = requests.clone();
    let sim = rt.block_on(start_sim_with(move |cfg| {
        cfg.world.time = ecsh::sim::model::TimeMode::Steps(1);
        cfg.request_log = Some(log);
    }));
    let mut config = ClientConfig::new(
        Credentials::new(sim.access_key_id(), sim.access_key_secret().expose()),
        REGION,
    );
    config.endpoint_override = Some(sim.endpoint());
    let client = Client::new(config).expect("client");
    Env {
        rt,
        sim,
        client,
        home,
        requests,
    }
}

impl Env {
    /// `ecsh --endpoint SIM --yes [extra] run scripts/NAME ARGS`, as a user runs it.
    fn run(&self, extra: &[&str], name: &str, args: &[&str]) -> std::process::Output {
        let script = script(name);
        let endpoint = self.sim.endpoint();
        let journal = self.home.path().join("journal");
        let journal = journal.to_str().expect("utf-8 path").to_string();
        let mut argv = vec!["--endpoint", &endpoint, "--yes", "--journal-dir", &journal];
        argv.extend_from_slice(extra);
        argv.push("run");
        let script = script.to_str().expect("utf-8 path").to_string();
        argv.push(&script);
        argv.extend_from_slice(args);
        let home = self.home.path().to_str().expect("utf-8 home");
        ecsh(
            &argv,
            &[
                ("HOME", home),
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", self.sim.access_key_id()),
                (
                    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                    self.sim.access_key_secret().expose(),
                ),
                ("ALIBABA_CLOUD_REGION_ID", REGION),
            ],
        )
    }

    /// One call to the simulator's API (as a user's SDK would make it).
    fn api(&self, product: Product, action: &str, params: Value) -> Value {
        let params = ecsh::rpc::flatten(params.as_object().expect("an object"), &[])
            .expect("params flatten");
        self.rt
            .block_on(self.client.call(product, action, params))
            .unwrap_or_else(|e| panic!("{action}: {e}"))
    }

    /// The actions the simulator answered OK, in the order it received them.
    fn answered(&self) -> Vec<String> {
        std::fs::read_to_string(&self.requests)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["code"] == "OK")
            .filter_map(|v| v["action"].as_str().map(String::from))
            .collect()
    }

    fn key_pairs(&self) -> Vec<Value> {
        list(
            &self.api(
                Product::Ecs,
                "DescribeKeyPairs",
                json!({"RegionId": REGION}),
            ),
            "KeyPairs",
            "KeyPair",
        )
    }

    fn instances(&self) -> Vec<Value> {
        list(
            &self.api(
                Product::Ecs,
                "DescribeInstances",
                json!({"RegionId": REGION}),
            ),
            "Instances",
            "Instance",
        )
    }
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

fn list(v: &Value, outer: &str, inner: &str) -> Vec<Value> {
    v[outer][inner].as_array().cloned().unwrap_or_default()
}

/// Every file under `dir`, with its text.
fn files_in(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let body =
                    String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()).into_owned();
                out.push((p, body));
            }
        }
    }
    out
}

fn assert_ran(out: &std::process::Output) -> String {
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "the run failed:\nstdout: {stdout}\nstderr: {}",
        text(&out.stderr)
    );
    stdout
}

/// Position of the last `action` in `seq`.
fn last(seq: &[String], action: &str) -> usize {
    seq.iter()
        .rposition(|a| a == action)
        .unwrap_or_else(|| panic!("{action} never answered: {seq:?}"))
}

// ---- key pairs ----------------------------------------------------------------------------

#[test]
fn ssh_ready_server_keeps_an_instance_that_logs_in_with_its_key_pair() {
    let env = env();
    let key_file = env.home.path().join("ecsh-ssh.pem");
    let key_arg = key_file.to_str().unwrap();
    // -v: the API log lines must not carry the key either.
    let out = env.run(
        &["-v"],
        "ssh_ready_server.rhai",
        &[key_arg, "198.51.100.4/32"],
    );
    let stdout = assert_ran(&out);
    assert!(
        stdout.contains("Key pair ecsh-ssh, fingerprint "),
        "{stdout}"
    );
    assert!(
        stdout.contains("As the script sees it: <redacted: write_private_key"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Connect: ssh -i {key_arg} root@")),
        "{stdout}"
    );

    // The key is in the file, owner-only, and nowhere else: not on stdout or stderr (with -v),
    // not in the journal or anything else under HOME.
    let key = std::fs::read_to_string(&key_file).expect("the key file was written");
    assert!(key.starts_with("-----BEGIN RSA PRIVATE KEY-----"), "{key}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is owner-only");
    }
    let body_line = key.lines().nth(1).expect("a key body line");
    assert!(!stdout.contains(body_line), "the key reached stdout");
    assert!(
        !text(&out.stderr).contains(body_line),
        "the key reached stderr (-v)"
    );
    let files = files_in(env.home.path());
    assert!(
        files
            .iter()
            .any(|(p, body)| p.starts_with(env.home.path().join("journal"))
                && body.contains("CreateKeyPair")),
        "the run's journal (which records CreateKeyPair) is among the files searched"
    );
    for (path, content) in files {
        if path != key_file {
            assert!(
                !content.contains(body_line),
                "the key is in {}",
                path.display()
            );
        }
    }

    // What the simulator holds: the kept instance, bound to the key pair, which is kept too
    // (the instance's creating request named it); SSH open to the one address only.
    let running = env.instances();
    assert_eq!(running.len(), 1, "{running:#?}");
    assert_eq!(running[0]["KeyPairName"], "ecsh-ssh");
    assert_eq!(running[0]["Status"], "Running");
    assert!(
        running[0]["AutoReleaseTime"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "the kept instance carries its 24h lease"
    );
    let pairs = env.key_pairs();
    assert_eq!(pairs.len(), 1, "{pairs:#?}");
    assert_eq!(pairs[0]["KeyPairName"], "ecsh-ssh");
    let sg = running[0]["SecurityGroupIds"]["SecurityGroupId"][0]
        .as_str()
        .unwrap()
        .to_string();
    let rules = env.api(
        Product::Ecs,
        "DescribeSecurityGroupAttribute",
        json!({"RegionId": REGION, "SecurityGroupId": sg}),
    );
    let ingress: Vec<(String, String)> = list(&rules, "Permissions", "Permission")
        .iter()
        .filter(|p| p["Direction"] == "ingress")
        .map(|p| {
            (
                p["PortRange"].as_str().unwrap_or("").to_string(),
                p["SourceCidrIp"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        ingress,
        [("22/22".to_string(), "198.51.100.4/32".to_string())]
    );
}

#[test]
fn key_pairs_the_run_created_or_imported_are_deleted_after_its_instances() {
    let env = env();
    let dir = env.home.path();
    let script_path = dir.join("kp_release.rhai");
    std::fs::write(
        &script_path,
        r#"
let kp = create_key_pair(#{ key_pair_name: "ecsh-tmp" });
let spec = find_available_instance_type(#{ cores: 2, memory: 4 });
let infra = create_instance_with_infra(#{
    instance_type: spec.instance_type, zone_id: spec.zone_id, region: spec.region,
    key_pair_name: kp.KeyPairName, task_type: "shell" });
let again = describe_key_pairs(#{ key_pair_name: "ecsh-*" }).KeyPairs.KeyPair;
print(`listed: ${again.len()}`);
print(kp);
// A key made elsewhere replaces it on the instance.
import_key_pair(#{ key_pair_name: "laptop",
    public_key_body: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f me@laptop" });
let d = detach_key_pair(#{ key_pair_name: kp.KeyPairName, instance_ids: [infra.instance_id] });
let a = attach_key_pair(#{ key_pair_name: "laptop", instance_ids: [infra.instance_id] });
print(`detach failed: ${d.FailCount}, attach failed: ${a.FailCount}`);
let again = attach_key_pair(#{ key_pair_name: kp.KeyPairName, instance_ids: [infra.instance_id] });
print(`rebind: ${again.FailCount} ${again.Results.Result[0].Code}`);
print(`bound: ${describe_instances(#{ instance_ids: [infra.instance_id] }).Instances.Instance[0].KeyPairName}`);
try { import_key_pair(#{ key_pair_name: "junk", public_key_body: "not a key" }); } catch (e) { print(`import: ${e.code}`); }
"#,
    )
    .unwrap();
    let endpoint = env.sim.endpoint();
    let home = dir.to_str().unwrap();
    let out = ecsh(
        &[
            "--endpoint",
            &endpoint,
            "--yes",
            "run",
            script_path.to_str().unwrap(),
        ],
        &[
            ("HOME", home),
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", env.sim.access_key_id()),
            (
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                env.sim.access_key_secret().expose(),
            ),
            ("ALIBABA_CLOUD_REGION_ID", REGION),
        ],
    );
    let stdout = assert_ran(&out);
    assert!(stdout.contains("listed: 1"), "{stdout}");
    // Printing the whole answer shows the placeholder, not a key.
    assert!(stdout.contains("<redacted: write_private_key"), "{stdout}");
    assert!(!stdout.contains("BEGIN RSA PRIVATE KEY"), "{stdout}");
    assert!(
        stdout.contains("detach failed: 0, attach failed: 0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rebind: 1 KeyPair.AlreadyBound"),
        "{stdout}"
    );
    assert!(stdout.contains("bound: laptop"), "{stdout}");
    assert!(
        stdout.contains("import: InvalidPublicKeyBody.Malformed"),
        "{stdout}"
    );
    // Nothing is left, and the key pair went after the instance it was bound to.
    assert!(env.instances().is_empty());
    assert!(env.key_pairs().is_empty(), "{:#?}", env.key_pairs());
    let seq = env.answered();
    assert!(
        last(&seq, "DeleteInstances") < last(&seq, "DeleteKeyPairs"),
        "{seq:?}"
    );
}

/// Runs an inline script (written under HOME) through the binary, approving with --yes.
fn run_inline(env: &Env, name: &str, body: &str, yes: bool) -> std::process::Output {
    let path = env.home.path().join(name);
    std::fs::write(&path, body).expect("script written");
    let endpoint = env.sim.endpoint();
    let mut argv = vec!["--endpoint", endpoint.as_str()];
    if yes {
        argv.push("--yes");
    }
    argv.extend(["run", path.to_str().unwrap()]);
    ecsh(
        &argv,
        &[
            ("HOME", env.home.path().to_str().unwrap()),
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", env.sim.access_key_id()),
            (
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                env.sim.access_key_secret().expose(),
            ),
            ("ALIBABA_CLOUD_REGION_ID", REGION),
        ],
    )
}

impl Env {
    fn data_disks(&self) -> Vec<Value> {
        list(
            &self.api(
                Product::Ecs,
                "DescribeDisks",
                json!({"RegionId": REGION, "DiskType": "data"}),
            ),
            "Disks",
            "Disk",
        )
    }

    fn snapshots(&self) -> Vec<Value> {
        list(
            &self.api(
                Product::Ecs,
                "DescribeSnapshots",
                json!({"RegionId": REGION}),
            ),
            "Snapshots",
            "Snapshot",
        )
    }

    fn own_images(&self) -> Vec<Value> {
        list(
            &self.api(
                Product::Ecs,
                "DescribeImages",
                json!({"RegionId": REGION, "ImageOwnerAlias": "self", "Status": "Creating,Available"}),
            ),
            "Images",
            "Image",
        )
    }

    fn eips(&self) -> Vec<Value> {
        list(
            &self.api(
                Product::Vpc,
                "DescribeEipAddresses",
                json!({"RegionId": REGION}),
            ),
            "EipAddresses",
            "EipAddress",
        )
    }
}

fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{out}"))
}

#[test]
fn ecsh_call_refuses_to_create_a_key_pair_whose_private_key_it_would_lose() {
    let home = tempfile::tempdir().unwrap();
    let out = ecsh(
        &[
            "--cloud",
            "sim",
            "call",
            "ecs",
            "CreateKeyPair",
            "--KeyPairName",
            "kp1",
        ],
        &[("HOME", home.path().to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("would lose the private key") && err.contains("write_private_key"),
        "{err}"
    );
}

// ---- disks, snapshots and images ----------------------------------------------------------

#[test]
fn data_disk_snapshot_attaches_grows_snapshots_and_releases_everything() {
    let env = env();
    let out = env.run(&[], "data_disk_snapshot.rhai", &[]);
    let stdout = assert_ran(&out);
    let shown = format!("{stdout}{}", text(&out.stderr));
    assert!(
        line(&stdout, "Disk d-").contains(" is In_use on i-"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "Disk d-").ends_with("as /dev/xvdb"),
        "{stdout}"
    );
    assert!(stdout.contains(" is now 60 GiB"), "{stdout}");
    assert!(line(&stdout, "Snapshot s-").ends_with("of the data disk is accomplished"));
    assert!(
        line(&stdout, "Own images: ").starts_with("Own images: 1 (m-"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "Own images: ").ends_with(" Available)"),
        "{stdout}"
    );
    assert!(stdout
        .lines()
        .any(|l| l.starts_with("Disk d-") && l.ends_with(" is Available")));
    assert!(line(&stdout, "Disks left on ").ends_with(": 1"), "{stdout}");
    // Every chargeable step was quoted, with what it prices, and approved by --yes.
    let disk = line(&stdout, "Disk d-")
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    for decision in [
        "approved (--yes): CreateDisk cloud_essd 40 GB disk".to_string(),
        format!("approved (--yes): ResizeDisk {disk}: cloud_essd 40 GiB -> 60 GiB"),
        format!("approved (--yes): CreateSnapshot snapshot of {disk} (cloud_essd 60 GiB)"),
        "approved (--yes): CreateImage image from snapshot s-".to_string(),
    ] {
        let found = shown.lines().find(|l| l.contains(&decision));
        assert!(
            found.is_some_and(|l| l.contains("est. CNY")),
            "no quoted decision {decision:?}:\n{shown}"
        );
    }
    // Nothing is left, and the image went before the snapshot it was made from.
    assert!(env.instances().is_empty());
    assert!(env.data_disks().is_empty(), "{:#?}", env.data_disks());
    assert!(env.snapshots().is_empty(), "{:#?}", env.snapshots());
    assert!(env.own_images().is_empty(), "{:#?}", env.own_images());
    let seq = env.answered();
    assert!(
        last(&seq, "DeleteImage") < last(&seq, "DeleteSnapshot"),
        "{seq:?}"
    );
    assert!(
        last(&seq, "DetachDisk") < last(&seq, "DeleteDisk"),
        "{seq:?}"
    );
}

#[test]
fn a_disk_left_on_a_kept_instance_is_detached_before_it_is_deleted() {
    let env = env();
    let out = run_inline(
        &env,
        "kept_with_disk.rhai",
        r#"
let spec = find_available_instance_type(#{ cores: 2, memory: 4 });
let infra = create_instance_with_infra(#{
    instance_type: spec.instance_type, zone_id: spec.zone_id, region: spec.region, task_type: "service" });
let disk = create_disk(#{ zone_id: infra.zone_id, size: 40 });
attach_disk(#{ disk_id: disk, instance_id: infra.instance_id });
keep(infra.instance_id, #{ "for": "2h" });
"#,
        true,
    );
    assert_ran(&out);
    // The instance stays; the disk the run created (DeleteWithInstance=false: it would outlive
    // the instance) was detached from it, then deleted.
    assert_eq!(env.instances().len(), 1);
    assert!(env.data_disks().is_empty(), "{:#?}", env.data_disks());
    let seq = env.answered();
    let detach = last(&seq, "DetachDisk");
    assert!(detach < last(&seq, "DeleteDisk"), "{seq:?}");
    assert!(
        !seq[..detach].contains(&"DeleteInstances".to_string()),
        "{seq:?}"
    );
}

#[test]
fn a_snapshot_in_use_by_an_image_is_refused_until_the_image_is_deleted() {
    let env = env();
    let out = run_inline(
        &env,
        "snapshot_in_use.rhai",
        r#"
let spec = find_available_instance_type(#{ cores: 2, memory: 4 });
let infra = create_instance_with_infra(#{
    instance_type: spec.instance_type, zone_id: spec.zone_id, region: spec.region, task_type: "shell" });
let system = describe_disks(#{ instance_id: infra.instance_id, disk_type: "system" }).Disks.Disk[0];
let snap = create_snapshot(#{ disk_id: system.DiskId });
let image = create_image(#{ snapshot_id: snap, image_name: "ecsh-in-use" });
try { delete_snapshot(#{ snapshot_id: snap }); print("deleted?!"); } catch (e) { print(`refused: ${e.code}`); }
delete_image(#{ image_id: image });
delete_snapshot(#{ snapshot_id: snap });
print(`snapshots of the disk: ${describe_snapshots(#{ disk_id: system.DiskId }).Snapshots.Snapshot.len()}`);
"#,
        true,
    );
    let stdout = assert_ran(&out);
    assert!(stdout.contains("refused: SnapshotCreatedImage"), "{stdout}");
    assert!(stdout.contains("snapshots of the disk: 0"), "{stdout}");
    assert!(env.snapshots().is_empty() && env.own_images().is_empty());
}

// ---- elastic IPs --------------------------------------------------------------------------

#[test]
fn moving_ip_moves_an_eip_between_instances_and_releases_it() {
    let env = env();
    let out = env.run(&[], "moving_ip.rhai", &[]);
    let stdout = assert_ran(&out);
    let ip = line(&stdout, "The new instance answers at ")
        .trim_start_matches("The new instance answers at ")
        .to_string();
    assert!(ip.split('.').count() == 4, "{stdout}");
    assert!(stdout.contains(&format!("{ip} is InUse on i-")), "{stdout}");
    assert!(stdout.contains(&format!("{ip} is Available")), "{stdout}");
    let on: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(" is InUse on "))
        .collect();
    assert_eq!(on.len(), 2, "{stdout}");
    assert_ne!(on[0], on[1], "the EIP moved to another instance");
    assert!(
        text(&out.stderr).lines().any(|l| l
            .contains("approved (--yes): AllocateEipAddress 5 Mbps, PayByTraffic")
            && l.contains("est. CNY")),
        "{}",
        text(&out.stderr)
    );
    assert!(env.instances().is_empty());
    assert!(env.eips().is_empty(), "{:#?}", env.eips());
}

#[test]
fn an_eip_left_on_a_kept_instance_is_unassociated_before_it_is_released() {
    let env = env();
    let out = run_inline(
        &env,
        "kept_with_eip.rhai",
        r#"
let spec = find_available_instance_type(#{ cores: 2, memory: 4 });
let infra = create_instance_with_infra(#{
    instance_type: spec.instance_type, zone_id: spec.zone_id, region: spec.region, task_type: "service" });
let eip = allocate_eip_address(#{});
associate_eip_address(#{ allocation_id: eip.AllocationId, instance_id: infra.instance_id });
keep(infra.instance_id, #{ "for": "2h" });
"#,
        true,
    );
    assert_ran(&out);
    let kept = env.instances();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0]["EipAddress"]["IpAddress"], "",
        "the kept instance lost the run's EIP"
    );
    assert!(env.eips().is_empty(), "{:#?}", env.eips());
    let seq = env.answered();
    assert!(
        last(&seq, "UnassociateEipAddress") < last(&seq, "ReleaseEipAddress"),
        "{seq:?}"
    );
}

// ---- the guard ----------------------------------------------------------------------------

#[test]
fn every_new_chargeable_action_is_quoted_and_refused_without_approval() {
    let env = env();
    // What the refused calls would act on, made directly (as another user would).
    let disk = env.api(
        Product::Ecs,
        "CreateDisk",
        json!({"RegionId": REGION, "ZoneId": "cn-hangzhou-j", "DiskCategory": "cloud_essd", "Size": 40}),
    )["DiskId"]
        .as_str()
        .unwrap()
        .to_string();
    let snap = env.api(
        Product::Ecs,
        "CreateSnapshot",
        json!({"RegionId": REGION, "DiskId": disk}),
    )["SnapshotId"]
        .as_str()
        .unwrap()
        .to_string();
    let body = format!(
        r#"
let tries = [
    || create_disk(#{{ zone_id: "cn-hangzhou-j", size: 40 }}),
    || resize_disk(#{{ disk_id: "{disk}", new_size: 80 }}),
    || create_snapshot(#{{ disk_id: "{disk}" }}),
    || create_image(#{{ snapshot_id: "{snap}", image_name: "never" }}),
    || allocate_eip_address(#{{ bandwidth: 5 }}),
];
for t in tries {{
    try {{ t.call(); print("sent?!"); }} catch (e) {{ print(`refused: ${{e.code}}`); }}
}}
"#
    );
    let before = env.answered().len();
    // No --yes and no terminal: nobody can approve.
    let out = run_inline(&env, "refused.rhai", &body, false);
    let stdout = text(&out.stdout);
    let refused: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("refused: "))
        .collect();
    assert_eq!(
        refused,
        ["refused: Refused.NoApprover"; 5],
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let sent: Vec<String> = env.answered()[before..]
        .iter()
        .filter(|a| !a.starts_with("Describe"))
        .cloned()
        .collect();
    assert!(sent.is_empty(), "sent without approval: {sent:?}");
    // Each was quoted (an estimate, not "not quoted") before it was refused.
    let stderr = text(&out.stderr);
    for action in [
        "CreateDisk",
        "ResizeDisk",
        "CreateSnapshot",
        "CreateImage",
        "AllocateEipAddress",
    ] {
        let decision = format!("refused (no terminal): {action} ");
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(&decision) && l.contains("est. CNY")),
            "no quoted refusal of {action}:\n{stderr}"
        );
    }
    // The disk still has its size: the resize never reached the simulator.
    let d = env.api(
        Product::Ecs,
        "DescribeDisks",
        json!({"RegionId": REGION, "DiskIds": format!("[\"{disk}\"]")}),
    );
    assert_eq!(d["Disks"]["Disk"][0]["Size"], 40);
}
