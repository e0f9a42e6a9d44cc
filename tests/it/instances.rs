//! The Instances group (issue 15) as a user meets it: `ecsh run scripts/stop_start.rhai`
//! through the real binary against a standalone simulator, then the simulator's own API says
//! what is left; and the batch forms' answers over HTTP (AllTogether, SuccessFirst, DryRun).

use crate::ledger::{client_for, standalone_sim, STANDALONE_KEY_ID, STANDALONE_SECRET};
use crate::support::{ecsh, inventory, text};
use ecsh::ops::{Product, A};
use ecsh::rpc::Client;
use serde_json::Value;

fn script() -> String {
    format!("{}/scripts/stop_start.rhai", env!("CARGO_MANIFEST_DIR"))
}

fn run_against(endpoint: &str, args: &[&str]) -> std::process::Output {
    let mut full = vec!["--endpoint", endpoint];
    full.extend_from_slice(args);
    ecsh(
        &full,
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", STANDALONE_KEY_ID),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", STANDALONE_SECRET),
        ],
    )
}

#[test]
fn stop_start_stops_without_charge_resizes_starts_reboots_and_releases_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = standalone_sim(&dir.path().join("state.json"));
    let journal = dir.path().join("journal");
    let out = run_against(
        &sim.endpoint,
        &[
            "--yes",
            "--journal-dir",
            journal.to_str().expect("utf-8"),
            "run",
            &script(),
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let has = |prefix: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .copied()
            .unwrap_or_else(|| panic!("no {prefix:?} in:\n{stdout}\n{stderr}"))
    };
    assert!(has("Instance ").contains("(ecs.g7.large) is Running"));
    assert_eq!(has("Stop: "), "Stop: Running -> Stopping");
    assert_eq!(
        has("Stopped: "),
        "Stopped: Stopped, StoppedMode StopCharging"
    );
    assert_eq!(has("Resized: "), "Resized: build-box-xl is ecs.g7.xlarge");
    assert!(has("Status: ").ends_with(" Running"), "{stdout}");
    // The guard asked (and --yes approved) the instance, the bigger type priced against the
    // current one, and the start that resumes billing: the run's cost decisions say so.
    let approved: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("- approved (--yes): "))
        .collect();
    assert_eq!(approved.len(), 3, "{stderr}");
    assert!(
        approved[0].contains("RunInstances ecs.g7.large"),
        "{stderr}"
    );
    assert!(
        approved[1].contains("ModifyInstanceSpec")
            && approved[1].contains("ecs.g7.large -> ecs.g7.xlarge"),
        "{stderr}"
    );
    assert!(
        approved[2].contains("StartInstances") && approved[2].contains("resumes billing"),
        "{stderr}"
    );
    // Nothing is left, as the simulator's own API lists it, in either region the script may
    // have chosen.
    let client = client_for(&sim.endpoint, STANDALONE_KEY_ID, STANDALONE_SECRET);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for region in ["cn-hangzhou", "cn-shanghai"] {
        let left = rt.block_on(inventory(&client, region));
        assert!(left.is_empty(), "left in {region}: {left:?}");
    }
}

/// One call to the standalone simulator, as any SDK sends it.
fn call(
    rt: &tokio::runtime::Runtime,
    client: &Client,
    action: &str,
    params: &[(&str, &str)],
) -> Result<Value, String> {
    let mut p: Vec<(String, String)> = vec![("RegionId".into(), "cn-hangzhou".into())];
    p.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    rt.block_on(client.call(Product::Ecs, action, p))
        .map_err(|e| e.to_string())
}

#[test]
fn batch_forms_answer_all_together_success_first_and_dry_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = standalone_sim(&dir.path().join("state.json"));
    // One Running instance, made by a script and kept (the approvals are --yes's).
    let journal = dir.path().join("journal");
    let journal = journal.to_str().expect("utf-8");
    let make = dir.path().join("make.rhai");
    std::fs::write(
        &make,
        "let infra = create_instance_with_infra(#{ instance_type: \"ecs.c6.large\", \
         zone_id: \"cn-hangzhou-i\", estimated_runtime: \"5m\" });\n\
         keep(infra.instance_id);\nprint(infra.instance_id);\n",
    )
    .expect("write");
    let made = run_against(
        &sim.endpoint,
        &[
            "--yes",
            "--journal-dir",
            journal,
            "run",
            make.to_str().expect("utf-8"),
        ],
    );
    let id = text(&made.stdout).trim().to_string();
    assert!(
        id.starts_with("i-"),
        "{}{}",
        text(&made.stdout),
        text(&made.stderr)
    );
    let client = client_for(&sim.endpoint, STANDALONE_KEY_ID, STANDALONE_SECRET);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let stop = A::STOP_INSTANCES.name;
    // AllTogether (the default): one id that cannot stop fails the call and stops nothing.
    let e = call(
        &rt,
        &client,
        stop,
        &[
            ("InstanceId.1", &id),
            ("InstanceId.2", "i-bp1nosuchinstance000"),
        ],
    )
    .unwrap_err();
    assert!(e.contains("InvalidInstanceId.NotFound"), "{e}");
    // A dry run checks and says so.
    let e = call(
        &rt,
        &client,
        stop,
        &[("InstanceId.1", &id), ("DryRun", "true")],
    )
    .unwrap_err();
    assert!(e.contains("DRYRUN.SUCCESS"), "{e}");
    // SuccessFirst: the one that can, stops; the other is reported in the answer.
    let ok = call(
        &rt,
        &client,
        stop,
        &[
            ("InstanceId.1", &id),
            ("InstanceId.2", "i-bp1nosuchinstance000"),
            ("BatchOptimization", "SuccessFirst"),
            ("StoppedMode", "StopCharging"),
        ],
    )
    .expect("SuccessFirst answers");
    let rows = ok["InstanceResponses"]["InstanceResponse"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rows.len(), 2, "{ok}");
    assert_eq!(rows[0]["Code"], "200", "{ok}");
    assert_eq!(rows[0]["PreviousStatus"], "Running", "{ok}");
    assert_eq!(rows[1]["Code"], "InvalidInstanceId.NotFound", "{ok}");
    // Stopping again is refused by status (the instance is Stopping or Stopped now).
    let e = call(&rt, &client, stop, &[("InstanceId.1", &id)]).unwrap_err();
    assert!(e.contains("IncorrectInstanceStatus"), "{e}");
    // A Running-only type change is refused until the instance is Stopped.
    let status = |rt: &tokio::runtime::Runtime| {
        call(
            rt,
            &client,
            A::DESCRIBE_INSTANCE_ATTRIBUTE.name,
            &[("InstanceId", &id)],
        )
        .expect("attribute")["Status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    while status(&rt) != "Stopped" {}
    let attr = call(
        &rt,
        &client,
        A::DESCRIBE_INSTANCE_ATTRIBUTE.name,
        &[("InstanceId", &id)],
    )
    .expect("attribute");
    assert_eq!(attr["StoppedMode"], "StopCharging", "{attr}");
    // Release it (it was kept), so the simulator is left empty.
    let released = run_against(
        &sim.endpoint,
        &["--yes", "--journal-dir", journal, "release", &id],
    );
    assert!(released.status.success(), "{}", text(&released.stderr));
    let left = rt.block_on(inventory(&client, "cn-hangzhou"));
    assert!(
        !left.contains(&id),
        "{id} is still listed after ecsh release: {left:?}"
    );
}
