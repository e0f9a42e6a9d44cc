//! The one-shot flow (`scripts/quickstart.rhai`) run twice by the real `ecsh` against one
//! standalone `ecsh sim --request-log`: the second run starts its waits from what the first
//! remembered in `pace.json` beside the journals, so it polls less. Counted from the
//! simulator's request log; nothing is timed.

use crate::support::text;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const KEY_ID: &str = "LTAIflowsPaceTestKey0000";
const SECRET: &str = "flows-pace-test-secret-000000000";

/// A standalone simulator at time scale 0.1 (transitions of 0.2–3 s), killed when dropped.
struct Standalone {
    child: Child,
    endpoint: String,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for Standalone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Standalone {
    fn start() -> Standalone {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("requests.jsonl");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecsh"))
            .args(["sim", "--listen", "127.0.0.1:0", "--time-scale", "0.1"])
            .args(["--access-key-id", KEY_ID, "--access-key-secret", SECRET])
            .arg("--request-log")
            .arg(&log)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ecsh sim starts");
        let endpoint = crate::support::sim_endpoint(child.stdout.take().expect("stdout"))
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("ecsh sim printed no endpoint")
            });
        Standalone {
            child,
            endpoint,
            log,
            dir,
        }
    }

    fn journal(&self) -> PathBuf {
        self.dir.path().join("journal")
    }

    /// `ecsh --yes run scripts/quickstart.rhai` against the simulator, which must succeed.
    fn quickstart(&self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/quickstart.rhai");
        let journal = self.journal();
        let out = crate::support::ecsh(
            &[
                "--endpoint",
                &self.endpoint,
                "--journal-dir",
                journal.to_str().expect("utf-8"),
                "--yes",
                "run",
                script.to_str().expect("utf-8"),
            ],
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET),
            ],
        );
        assert!(
            out.status.success(),
            "quickstart failed: {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }

    /// The actions received so far, in order.
    fn actions(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
            .map(|r| r["action"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

/// The Describe calls of one run up to its first delete: the polls of the waits the host
/// paces (VPC, vswitch, Running, agent, invocation), and the flow's own reads, which are the
/// same in every run. The cleanup after it is left out: the ledger's release planner polls on
/// its own backoff, with jitter.
fn describes_before_cleanup(run: &[String]) -> Vec<&str> {
    run.iter()
        .take_while(|a| !a.starts_with("Delete"))
        .filter(|a| a.starts_with("Describe"))
        .map(String::as_str)
        .collect()
}

#[test]
fn a_second_quickstart_against_the_same_simulator_starts_from_the_remembered_pace_and_polls_less() {
    let sim = Standalone::start();
    sim.quickstart();
    let first = sim.actions();
    let pace = std::fs::read_to_string(sim.journal().join("pace.json")).expect("pace.json");
    let host_port = sim.endpoint.trim_start_matches("http://");
    let remembered: Value = serde_json::from_str(&pace).expect("pace.json is JSON");
    let kinds = &remembered["targets"][format!("{host_port} cn-hangzhou")];
    for kind in ["VPC to be Available", "instances to be Running"] {
        assert!(kinds[kind]["secs"].as_f64().is_some(), "{kind} in {pace}");
    }
    assert!(!pace.contains(SECRET) && !pace.contains(KEY_ID), "{pace}");
    sim.quickstart();
    let second = sim.actions()[first.len()..].to_vec();
    let (cold, warm) = (
        describes_before_cleanup(&first),
        describes_before_cleanup(&second),
    );
    assert!(
        warm.len() < cold.len(),
        "the second run polled no less: {} describes then {}\nfirst: {cold:?}\nsecond: {warm:?}",
        cold.len(),
        warm.len()
    );
}

#[test]
fn a_damaged_pace_file_is_noted_under_verbose_and_never_fails_a_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("pace.json"), "{\"version\":1,\"targ").expect("write");
    let script = dir.path().join("empty.rhai");
    std::fs::write(&script, "print(\"ran\");\n").expect("script");
    let journal = dir.path().to_str().expect("utf-8");
    let file = script.to_str().expect("utf-8");
    let out = crate::support::ecsh(
        &[
            "--cloud",
            "sim",
            "--journal-dir",
            journal,
            "-v",
            "run",
            file,
        ],
        &[],
    );
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(text(&out.stdout).trim(), "ran");
    assert!(err.contains("pace.json is damaged"), "{err}");
    let quiet = crate::support::ecsh(
        &["--cloud", "sim", "--journal-dir", journal, "run", file],
        &[],
    );
    assert!(quiet.status.success());
    assert!(
        !text(&quiet.stderr).contains("pace.json"),
        "only -v says it"
    );
}
