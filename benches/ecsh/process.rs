//! Measuring processes: a standalone `ecsh sim` child (started, read, stopped), and the CPU
//! time and memory of this process and of children, from getrusage and /proc.
//!
//! Linux only (/proc); every reading that fails says which file or call failed.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The release `ecsh` binary cargo built for this bench, or the one `ECSH_BENCH_BINARY` names
/// (to measure another build, e.g. main's, beside this one with the same load generator).
pub fn ecsh_binary() -> String {
    std::env::var("ECSH_BENCH_BINARY").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ecsh").to_string())
}

/// A standalone simulator (`ecsh sim`), stopped with SIGTERM when dropped.
pub struct SimProcess {
    child: Child,
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: String,
}

impl SimProcess {
    /// Starts `ecsh sim --listen 127.0.0.1:0 --time-scale SCALE` and reads the endpoint and
    /// credentials from its banner.
    pub fn start(time_scale: f64) -> Result<SimProcess> {
        let mut child = Command::new(ecsh_binary())
            .args(["sim", "--listen", "127.0.0.1:0", "--time-scale"])
            .arg(time_scale.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {} sim", ecsh_binary()))?;
        let stdout = child.stdout.take().context("no stdout from ecsh sim")?;
        let mut lines = BufReader::new(stdout).lines();
        let (mut endpoint, mut id, mut secret) = (None, None, None);
        for line in lines.by_ref() {
            let line = line.context("reading the banner of ecsh sim")?;
            let value = |prefix: &str| line.strip_prefix(prefix).map(|v| v.trim().to_string());
            endpoint = endpoint.or_else(|| value("endpoint:"));
            id = id.or_else(|| value("access key id:"));
            secret = secret.or_else(|| value("access key secret:"));
            if line.starts_with("serving") {
                break;
            }
        }
        // Keep draining stdout so the simulator never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let sim = SimProcess {
            child,
            endpoint: endpoint.context("ecsh sim printed no endpoint")?,
            access_key_id: id.context("ecsh sim printed no access key id")?,
            access_key_secret: secret.context("ecsh sim printed no access key secret")?,
        };
        Ok(sim)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `host:port` of the endpoint (for SDKs that want no scheme).
    pub fn host_port(&self) -> &str {
        self.endpoint.trim_start_matches("http://")
    }

    /// (VmRSS, VmHWM) in bytes.
    pub fn memory(&self) -> Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .context("cannot read /proc/PID/status of ecsh sim")?;
        let field = |name: &str| -> Result<u64> {
            let line = status
                .lines()
                .find(|l| l.starts_with(name))
                .with_context(|| format!("no {name} in /proc/PID/status"))?;
            let kb: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse().ok())
                .with_context(|| format!("cannot parse {line:?}"))?;
            Ok(kb * 1024)
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// CPU time (user + system) the simulator has used so far.
    pub fn cpu(&self) -> Result<Duration> {
        proc_cpu(self.pid())
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        // SIGTERM is ecsh sim's clean stop; the pid is our own child's.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

/// CPU time (utime + stime) of process `pid`, from /proc/PID/stat.
pub fn proc_cpu(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of the full line, so utime (14) and stime (15) are 11 and 12.
    let (Some(u), Some(s)) = (fields.get(11), fields.get(12)) else {
        bail!("cannot parse /proc/{pid}/stat");
    };
    let ticks: u64 = u.parse::<u64>()? + s.parse::<u64>()?;
    let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok(Duration::from_secs_f64(ticks as f64 / per_sec))
}

/// CPU time (user + system) of this process so far.
pub fn self_cpu() -> Duration {
    rusage_cpu(&rusage(libc::RUSAGE_SELF))
}

pub fn rusage(who: libc::c_int) -> libc::rusage {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::getrusage(who, &mut usage);
    }
    usage
}

pub fn rusage_cpu(u: &libc::rusage) -> Duration {
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// The machine, for the record: cores, CPU model, load average.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "{cores} cores, {model}, load average {} (other work shares the machine)",
        load.join(" ")
    )
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
