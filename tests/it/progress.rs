//! The progress display of `ecsh run`: a spinner on stderr while a wait lasts, on a terminal
//! only. Driven through a real pseudo-terminal (expectrl), and through a pipe.

use crate::support::{ecsh, text};
use expectrl::Session;
use std::process::Command;
use std::time::Duration;

/// A script whose VPC takes a few polls to become Available (the simulator runs at a tenth
/// of real speed, so the wait lasts about half a second).
const WAITS: &str = r#"let vpc = call_api("vpc", "CreateVpc", #{ CidrBlock: "10.0.0.0/16" }).VpcId;
wait_vpc(#{ vpc_id: vpc });
print("vpc ready");"#;

fn script(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("waits.rhai");
    std::fs::write(&path, WAITS).expect("script");
    path.display().to_string()
}

#[test]
fn a_spinner_shows_what_is_awaited_on_a_terminal() {
    let dir = tempfile::tempdir().expect("dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsh"));
    cmd.args(["run", &script(&dir)])
        .env("HOME", dir.path())
        .env("ECSH_SIM_TIME_SCALE", "0.1")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .env_remove("ALIBABA_CLOUD_PROFILE");
    let mut session = Session::spawn(cmd).expect("ecsh on a pty");
    // Only a bound so a broken display fails instead of hanging CI; not a speed assertion.
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    session
        .expect("waiting for vpc-")
        .expect("the spinner names the VPC it waits for");
    session.expect("Pending").expect("and its last status");
    let rest = session.expect("vpc ready").expect("the script goes on");
    // The finished spinner is erased and leaves no line of its own behind.
    let before = String::from_utf8_lossy(rest.before()).to_string();
    assert!(!before.contains("waited"), "{before:?}");
}

#[test]
fn no_progress_is_drawn_when_stderr_is_piped() {
    let dir = tempfile::tempdir().expect("dir");
    let out = ecsh(&["run", &script(&dir)], &[("ECSH_SIM_TIME_SCALE", "0.1")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("waiting for"), "{stderr}");
    assert!(!stderr.contains("waited"), "{stderr}");
    assert_eq!(text(&out.stdout), "vpc ready\n");
}

#[test]
fn quiet_turns_the_display_off_on_a_terminal_too() {
    let dir = tempfile::tempdir().expect("dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsh"));
    cmd.args(["--quiet", "run", &script(&dir)])
        .env("HOME", dir.path())
        .env("ECSH_SIM_TIME_SCALE", "0.1")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .env_remove("ALIBABA_CLOUD_PROFILE");
    let mut session = Session::spawn(cmd).expect("ecsh on a pty");
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    let seen = session.expect("vpc ready").expect("the script finishes");
    let before = String::from_utf8_lossy(seen.before()).to_string();
    assert!(!before.contains("waiting for"), "{before}");
}
