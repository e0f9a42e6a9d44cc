//! Cloud Assistant (issue 15): scripts/cloud_assistant.rhai end to end (files, saved commands,
//! a stopped invocation, the commands released with the run); SendFile's limits; and what
//! `--sim-exec local` writes: the file inside the instance's scratch folder, nowhere else.

use super::{line, script, Sim};
use ecsh::ops::Product::Ecs;

#[test]
fn cloud_assistant_sends_files_invokes_and_stops_commands_and_releases_them() {
    let sim = Sim::start(&[]);
    let out = sim.run_ok(&script("cloud_assistant.rhai"), &["/etc/shop"]);
    assert_eq!(line(&out, "sent "), "sent app.conf to /etc/shop: Success");
    assert_eq!(
        line(&out, "second copy: "),
        "second copy: UnexpectedState (FileAlreadyExists)"
    );
    assert_eq!(line(&out, "overwritten: "), "overwritten: Success");
    assert_eq!(line(&out, "show-conf: "), "show-conf: Success, exit 0");
    assert_eq!(
        line(&out, "command show-conf: "),
        "command show-conf: invoked 1 time(s), parameters [\"dir\"]"
    );
    assert_eq!(line(&out, "reindex: "), "reindex: Terminated");
    assert_eq!(line(&out, "saved commands now: "), "saved commands now: 1");
    // The command the script left was the run's: released with everything else.
    let commands = sim.ok(Ecs, "DescribeCommands", &[]);
    assert_eq!(commands["Commands"]["Command"], serde_json::json!([]));
    assert_eq!(sim.inventory(), Vec::<String>::new());
}

#[test]
fn send_file_refuses_what_the_service_refuses_and_says_what_to_do() {
    let sim = Sim::start(&[]);
    let (_, vsw, sg) = sim.network();
    let id = sim.instance(&vsw, &sg);
    let big = "x".repeat(25 * 1024);
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("limits.rhai");
    std::fs::write(&file, big.as_bytes()).ok();
    let big_file = dir.path().join("big.bin");
    std::fs::write(&big_file, big.as_bytes()).expect("big file");
    std::fs::write(
        &file,
        format!(
            r#"
let id = "{id}";
wait_cloud_assistant(#{{ instance_ids: [id] }});
for attempt in [
    || send_file(#{{ instance_id: id, local_path: "{big}", target_dir: "/tmp" }}),
    || send_file(#{{ instance_id: id, content: "x", target_dir: "/tmp" }}),
    || send_file(#{{ instance_id: id, content: "x", name: "a", local_path: "{big}", target_dir: "/tmp" }}),
    || send_file(#{{ instance_id: id, content: "x", name: "a", target_dir: "/tmp/../etc" }}),
    || send_file(#{{ instance_id: id, content: "x", name: "a", target_dir: "tmp" }}),
    || send_file(#{{ instance_id: id, content: "x", name: "a", target_dir: "/tmp", file_mode: "rwx" }}),
    || call_api("ecs", "SendFile", #{{ InstanceId: [id], Name: "a", TargetDir: "/tmp", Content: "{payload}" }}),
] {{
    try {{ attempt.call(); print("sent"); }} catch (e) {{ print(`${{e.code}}: ${{e.message}}`); }}
}}
"#,
            big = big_file.display(),
            payload = "y".repeat(33 * 1024),
        ),
    )
    .expect("script written");
    let out = sim.run_ok(&file, &[]);
    let lines: Vec<&String> = out.iter().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 7, "{out:#?}");
    assert!(
        lines[0].starts_with("InvalidOption: send_file: the file is 25600 bytes"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("at most 32768 bytes of Base64"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("with content, give the file's name"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("give local_path or content, not both"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].contains("TargetDir") && lines[3].contains("`..`"),
        "{}",
        lines[3]
    );
    assert!(lines[4].contains("not an absolute folder"), "{}", lines[4]);
    assert!(lines[5].contains("FileMode"), "{}", lines[5]);
    assert!(lines[6].contains("32 KB"), "{}", lines[6]);
    let sent = sim.ok(Ecs, "DescribeSendFileResults", &[]);
    assert_eq!(
        sent["Invocations"]["Invocation"],
        serde_json::json!([]),
        "a refused file was recorded"
    );
}

#[test]
fn with_sim_exec_local_a_sent_file_lands_in_the_instance_scratch_folder_only() {
    let sim = Sim::start(&["--sim-exec", "local"]);
    let (_, vsw, sg) = sim.network();
    let id = sim.instance(&vsw, &sg);
    let target = format!("/etc/ecsh-ops15-{}", sim.pid());
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("local.rhai");
    std::fs::write(
        &file,
        format!(
            r#"
let id = "{id}";
wait_cloud_assistant(#{{ instance_ids: [id] }});
let sent = send_file(#{{ instance_id: id, content: "listen = 8080\n", name: "app.conf", target_dir: "{target}", file_mode: "0640" }});
print(`sent: ${{sent.InvocationStatus}}`);
// Local scripts run in the same scratch folder, so the file is at a relative path there.
let r = run_command_and_wait(#{{ instance_id: id, command_content: "cat .{target}/app.conf" }});
let text = r.DecodedOutput;
text.trim();
print(`read: ${{text}}`);
"#
        ),
    )
    .expect("script written");
    let out = sim.run_ok(&file, &[]);
    assert_eq!(line(&out, "sent: "), "sent: Success");
    assert!(
        out.iter().any(|l| l.trim() == "read: listen = 8080"),
        "{out:#?}"
    );
    let scratch = std::env::temp_dir()
        .join(format!("ecsh-sim-{}", sim.pid()))
        .join(&id);
    let written = scratch
        .join(target.trim_start_matches('/'))
        .join("app.conf");
    assert_eq!(
        std::fs::read_to_string(&written).expect("the file is in the scratch folder"),
        "listen = 8080\n"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&written)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
    assert!(
        !std::path::Path::new(&target).exists(),
        "{target} was written outside the scratch folder"
    );
    let _ = std::fs::remove_dir_all(scratch);
}

#[test]
fn a_kept_command_outlives_its_run_and_ecsh_release_deletes_it_verified() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("keep.rhai");
    std::fs::write(
        &file,
        r#"let c = create_command(#{ name: "nightly", command_content: "echo nightly" }); keep(c); print(c);"#,
    )
    .expect("script written");
    let out = sim.run_ok(&file, &[]);
    let id = out.last().expect("the command id").trim().to_string();
    assert!(id.starts_with("c-"), "{out:#?}");
    let listed = |sim: &Sim| {
        sim.ok(Ecs, "DescribeCommands", &[("CommandId", &id)])["Commands"]["Command"]
            .as_array()
            .map_or(0, Vec::len)
    };
    assert_eq!(
        listed(&sim),
        1,
        "the kept command was released with the run"
    );
    let ledger = sim.ecsh(&["ledger"]);
    assert!(
        crate::support::text(&ledger.stdout).contains(&id),
        "ecsh ledger does not list {id}: {}",
        crate::support::text(&ledger.stdout)
    );
    let out = sim.ecsh(&["--yes", "release", &id]);
    assert!(
        out.status.success(),
        "{}",
        crate::support::text(&out.stderr)
    );
    assert_eq!(listed(&sim), 0, "ecsh release left the command");
}
