//! Running Cloud Assistant scripts for real, only when asked (`ExecMode::Local`): each
//! RunShellScript runs with `/bin/sh` in a scratch folder per instance under the system temp
//! directory, in its own process group, killed when the invocation's timeout passes. Output
//! (stdout and stderr together) is capped at 24 KB; the rest is counted as dropped.
//!
//! The scratch folder is always the working directory and the script runs as the simulator's
//! own user: the invocation's `WorkingDir` and `Username` are recorded but not honoured, so a
//! script cannot be pointed at the user's own folders by a parameter.
//!
//! The process runs on a background thread; the model polls its [`Outcome`] when the
//! invocation is described; StopInvocation kills it ([`Runs::stop`]). Live handles are not
//! part of a snapshot.
//!
//! Must not: run anything in `ExecMode::Simulated` (the default), or block the caller.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Whether Cloud Assistant commands really run on this machine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecMode {
    /// Never executed: results say plainly that the run was simulated.
    #[default]
    Simulated,
    /// RunShellScript runs with /bin/sh in a scratch folder per instance.
    Local,
}

/// Output kept per run, as on the real service.
pub const OUTPUT_CAP: usize = 24 * 1024;

/// How a real run ended.
#[derive(Debug)]
pub struct Outcome {
    pub exit_code: i64,
    pub output: Vec<u8>,
    pub dropped: u64,
    pub timed_out: bool,
    /// The run could not start (the message says why).
    pub failed_to_start: Option<String>,
}

/// Live runs by (invoke id, instance id), each with the flag that stops it (StopInvocation).
#[derive(Default)]
pub struct Runs {
    live: HashMap<(String, String), (Receiver<Outcome>, Arc<AtomicBool>)>,
}

/// What polling a run found.
pub enum Poll {
    Running,
    Done(Outcome),
    /// No live process (the simulator restarted while it ran).
    Lost,
}

impl Runs {
    pub fn start(
        &mut self,
        invoke_id: &str,
        instance_id: &str,
        script: Vec<u8>,
        timeout: Duration,
    ) {
        let (tx, rx) = mpsc::channel();
        let dir = scratch_dir(instance_id);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::spawn(move || {
            let _ = tx.send(run(dir, script, timeout, &stopped));
        });
        self.live
            .insert((invoke_id.to_string(), instance_id.to_string()), (rx, stop));
    }

    /// Kills a live run with its process group (StopInvocation); its outcome is dropped.
    pub fn stop(&mut self, invoke_id: &str, instance_id: &str) {
        let key = (invoke_id.to_string(), instance_id.to_string());
        if let Some((_, stop)) = self.live.remove(&key) {
            stop.store(true, Ordering::SeqCst);
        }
    }

    pub fn poll(&mut self, invoke_id: &str, instance_id: &str) -> Poll {
        let key = (invoke_id.to_string(), instance_id.to_string());
        let Some((rx, _)) = self.live.get(&key) else {
            return Poll::Lost;
        };
        match rx.try_recv() {
            Ok(outcome) => {
                self.live.remove(&key);
                Poll::Done(outcome)
            }
            Err(TryRecvError::Empty) => Poll::Running,
            Err(TryRecvError::Disconnected) => {
                self.live.remove(&key);
                Poll::Lost
            }
        }
    }
}

/// The per-instance scratch folder (created on first use).
pub fn scratch_dir(instance_id: &str) -> PathBuf {
    std::env::temp_dir()
        .join(format!("ecsh-sim-{}", std::process::id()))
        .join(instance_id)
}

fn run(dir: PathBuf, script: Vec<u8>, timeout: Duration, stop: &AtomicBool) -> Outcome {
    let failed = |why: String| Outcome {
        exit_code: -1,
        output: Vec::new(),
        dropped: 0,
        timed_out: false,
        failed_to_start: Some(why),
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return failed(format!(
            "cannot create the scratch folder {}: {e}",
            dir.display()
        ));
    }
    let path = dir.join(format!("script-{}.sh", rand::random::<u32>()));
    if let Err(e) = std::fs::write(&path, &script) {
        return failed(format!("cannot write the script: {e}"));
    }
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg("exec /bin/sh \"$0\" 2>&1")
        .arg(&path)
        .current_dir(&dir)
        // A clean environment: the simulator's own (which may hold real cloud credentials)
        // must not leak into a script's output.
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", &dir)
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failed(format!("cannot start /bin/sh: {e}")),
    };
    let (out_tx, out_rx) = mpsc::channel();
    if let Some(mut stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut dropped = 0u64;
            let mut buf = [0u8; 8192];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let room = OUTPUT_CAP.saturating_sub(kept.len()).min(n);
                kept.extend_from_slice(&buf[..room]);
                dropped += (n - room) as u64;
            }
            let _ = out_tx.send((kept, dropped));
        });
    }
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                kill_group(&mut child);
                break child.wait().ok();
            }
            Ok(None) if stop.load(Ordering::SeqCst) => {
                kill_group(&mut child);
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    // A background process may keep the pipe open; do not wait for it forever.
    let (output, dropped) = out_rx
        .recv_timeout(Duration::from_secs(2))
        .unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    Outcome {
        exit_code: status.and_then(|s| s.code()).map_or(-1, i64::from),
        output,
        dropped,
        timed_out,
        failed_to_start: None,
    }
}

fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: kill(2) with a negative pid signals the process group we created for
            // this child; it has no memory-safety preconditions.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
    let _ = child.kill();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_past_its_timeout_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let o = run(
            dir.path().to_path_buf(),
            b"echo started; sleep 30 & sleep 30".to_vec(),
            Duration::from_secs(1),
            &AtomicBool::new(false),
        );
        assert!(o.timed_out);
        assert_eq!(o.output, b"started\n");
    }

    #[test]
    fn output_beyond_the_cap_is_counted_as_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let o = run(
            dir.path().to_path_buf(),
            b"head -c 30000 /dev/zero".to_vec(),
            Duration::from_secs(10),
            &AtomicBool::new(false),
        );
        assert_eq!(
            (o.exit_code, o.output.len(), o.dropped),
            (0, OUTPUT_CAP, 30000 - OUTPUT_CAP as u64)
        );
    }

    #[test]
    fn scripts_do_not_see_the_simulators_environment() {
        std::env::set_var("ECSH_EXEC_TEST_SECRET", "do-not-leak");
        let dir = tempfile::tempdir().unwrap();
        let o = run(
            dir.path().to_path_buf(),
            b"env".to_vec(),
            Duration::from_secs(10),
            &AtomicBool::new(false),
        );
        let out = String::from_utf8_lossy(&o.output);
        assert!(!out.contains("do-not-leak"), "{out}");
        assert!(out.contains("PATH="), "{out}");
    }
}
