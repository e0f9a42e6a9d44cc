//! The terminal prompt through a pseudo-terminal.
//!
//! Each test re-runs this test binary as a child on a fresh pty (expectrl), selecting only
//! [`child`] (an ignored test that does nothing unless `ECSH_PTY_CHILD` is set). The child opens
//! its controlling terminal exactly as `ecsh` does, asks with a cost block, and prints the
//! verdict; the parent plays the user.

use ecsh::guard::block::{CostBlock, Money};
use ecsh::guard::prompt::{Prompter, TerminalPrompter};
use expectrl::Session;
use std::process::Command;
use std::time::Duration;

const CHILD_ENV: &str = "ECSH_PTY_CHILD";
const PROMPT: &str = "Proceed with creation? [y/N] ";

/// A block whose image name tries to clear the screen and fake an answer.
fn hostile_block() -> CostBlock {
    CostBlock {
        action: "RunInstances".into(),
        title: "ECS Cost Estimate:".into(),
        details: vec![
            ("Spec".into(), "ecs.t6-c1m2.large (2 vCPU, 4 GB)".into()),
            ("Image".into(), "Ubuntu\x1b[2J\x1b[H y\r\n".into()),
            ("System disk".into(), "cloud_essd 40 GB".into()),
        ],
        unit_price: "CNY 0.017/hour (trade price)".into(),
        runtime: "~5 minutes".into(),
        total: "CNY 0.002".into(),
        billing: "pay-as-you-go (PostPaid)".into(),
        notes: vec![],
        estimate: Some(Money {
            amount: 0.0015,
            currency: "CNY".into(),
        }),
        hourly: None,
        summary: "ecs.t6-c1m2.large x 1".into(),
        keep: None,
    }
}

#[test]
#[ignore = "the child process of the pty tests; runs only when ECSH_PTY_CHILD is set"]
fn child() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    if mode == "pretype" {
        println!("READY");
        wait_for_pending_input();
    }
    let mut prompter = TerminalPrompter::open().expect("the pty is the controlling terminal");
    let verdict = prompter.confirm(&hostile_block());
    println!(
        "VERDICT approved={} interrupted={} reason={}",
        verdict.approved, verdict.interrupted, verdict.reason
    );
}

/// Blocks until a typed line is waiting on stdin (the pty, still in line mode), so the test
/// knows the early answer is queued before the prompt is opened.
fn wait_for_pending_input() {
    let mut fds = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for stdin; -1 waits without a deadline.
    let n = unsafe { libc::poll(&mut fds, 1, -1) };
    assert_eq!(n, 1, "poll on stdin failed");
}

fn spawn(mode: &str) -> Session {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    // The child test's name as libtest knows it: this module's path without the crate name.
    let module = module_path!().split_once("::").map_or("", |(_, rest)| rest);
    let child = format!("{module}::child");
    cmd.args([
        child.as_str(),
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, mode);
    let mut session = Session::spawn(cmd).expect("spawn the child on a pty");
    // Not a speed assertion: only a bound so a broken prompt fails instead of hanging CI.
    session.set_expect_timeout(Some(Duration::from_secs(120)));
    session
}

fn verdict(session: &mut Session) -> String {
    session.expect("VERDICT ").expect("the child reports");
    let line = session.expect("\n").expect("verdict line");
    String::from_utf8_lossy(line.before()).trim().to_string()
}

#[test]
fn typing_yes_approves() {
    let mut s = spawn("ask");
    s.expect(PROMPT).expect("the prompt");
    s.send_line("yes").unwrap();
    let v = verdict(&mut s);
    assert!(v.starts_with("approved=true"), "{v}");
}

#[test]
fn a_lone_y_approves_and_the_block_is_escaped() {
    let mut s = spawn("ask");
    let shown = s.expect(PROMPT).expect("the prompt");
    let raw = String::from_utf8_lossy(shown.before()).to_string();
    // The prompt's own reset (DECSTR + SGR 0) comes first; after it, nothing raw.
    let (_, text) = raw
        .split_once("\x1b[!p\x1b[0m\x1b[?25h")
        .unwrap_or_else(|| panic!("the prompt resets the terminal first: {raw:?}"));
    let text = text.to_string();
    assert!(text.contains("---- ecsh: confirmation"), "{text}");
    assert!(text.contains("ECS Cost Estimate:"), "{text}");
    assert!(
        text.contains(r"Image: Ubuntu\x1b[2J\x1b[H y\x0d\x0a"),
        "{text:?}"
    );
    assert!(
        !text.contains('\x1b'),
        "raw escape reached the terminal: {text:?}"
    );
    s.send("y\r").unwrap();
    let v = verdict(&mut s);
    assert!(v.starts_with("approved=true"), "{v}");
}

#[test]
fn typing_no_refuses() {
    let mut s = spawn("ask");
    s.expect(PROMPT).expect("the prompt");
    s.send_line("no").unwrap();
    let v = verdict(&mut s);
    assert!(v.starts_with("approved=false"), "{v}");
    assert!(v.contains("declined"), "{v}");
}

#[test]
fn anything_but_y_or_yes_refuses() {
    let mut s = spawn("ask");
    s.expect(PROMPT).expect("the prompt");
    s.send_line("yep").unwrap();
    let v = verdict(&mut s);
    assert!(v.starts_with("approved=false"), "{v}");
}

#[test]
fn end_of_input_refuses() {
    let mut s = spawn("ask");
    s.expect(PROMPT).expect("the prompt");
    s.send("\x04").unwrap();
    let v = verdict(&mut s);
    assert!(v.starts_with("approved=false interrupted=false"), "{v}");
    assert!(v.contains("end of input"), "{v}");
}

#[test]
fn ctrl_c_refuses() {
    let mut s = spawn("ask");
    s.expect(PROMPT).expect("the prompt");
    s.send("\x03").unwrap();
    let v = verdict(&mut s);
    assert!(v.starts_with("approved=false interrupted=true"), "{v}");
    assert!(v.contains("Ctrl-C"), "{v}");
}

#[test]
fn backspace_edits_the_answer() {
    let mut s = spawn("ask");
    s.expect(PROMPT).expect("the prompt");
    s.send("n\x7fy\r").unwrap();
    let v = verdict(&mut s);
    assert!(v.starts_with("approved=true"), "{v}");
}

#[test]
fn input_typed_before_the_prompt_does_not_answer_it() {
    let mut s = spawn("pretype");
    s.expect("READY")
        .expect("the child is waiting for early input");
    // Typed before the prompt exists: must be discarded, not taken as the answer.
    s.send_line("y").unwrap();
    s.expect(PROMPT).expect("the prompt");
    s.send_line("n").unwrap();
    let v = verdict(&mut s);
    assert!(
        v.starts_with("approved=false"),
        "the early `y` answered: {v}"
    );
    assert!(v.contains("answer `n`"), "{v}");
}
