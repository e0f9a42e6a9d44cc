//! Where the measured processes run: as the scheduler places them, or all on one CPU.
//!
//! On this 2-vCPU VM a loopback request that wakes its peer on the *other* vCPU costs the
//! sender about 25–35 µs of kernel time: `perf` puts it in `_raw_spin_unlock_irqrestore` under
//! `sock_def_readable` inside `writev` (the wake-up's inter-processor interrupt, a VM exit,
//! charged to the sender with interrupts off) and in `finish_task_switch` under `epoll_wait`.
//! That is the hypervisor's price for a cross-CPU wake-up, not a client's own work: a request
//! to a real endpoint leaves through the NIC and wakes nobody. Every client pays it alike (the
//! official Python SDK too), so it hides the client's own cost. The figures are therefore
//! measured twice: as scheduled, and with the measuring process and the simulator pinned to
//! one CPU, where a wake-up is a runqueue insertion ([`Placement::OneCpu`]).

use anyhow::{bail, Context, Result};

/// The two placements, in the order the figures print them.
pub const PLACEMENTS: [Placement; 2] = [Placement::AsScheduled, Placement::OneCpu];

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// No affinity set: the scheduler spreads the threads over the cores.
    AsScheduled,
    /// This process and the simulator pinned to the first CPU this process may use.
    OneCpu,
}

impl std::fmt::Display for Placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Placement::AsScheduled => "as scheduled (client and simulator on any CPU)",
            Placement::OneCpu => "on one CPU (client and simulator pinned together)",
        })
    }
}

impl Placement {
    /// Applies the placement to every thread of this process and of `others`; the previous
    /// affinities come back when the guard drops. Threads started meanwhile inherit the
    /// placement of the thread that starts them (child processes too, e.g. the Python SDK).
    pub fn apply(self, others: &[u32]) -> Result<Pinned> {
        let mut pinned = Pinned(Vec::new());
        if self == Placement::AsScheduled {
            return Ok(pinned);
        }
        let mask = current_mask(0).context("cannot read this process's CPU affinity")?;
        let Some(cpu) =
            (0..libc::CPU_SETSIZE as usize).find(|&c| unsafe { libc::CPU_ISSET(c, &mask) })
        else {
            bail!("this process may run on no CPU");
        };
        let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        unsafe { libc::CPU_SET(cpu, &mut one) };
        for pid in std::iter::once(std::process::id()).chain(others.iter().copied()) {
            for tid in tasks(pid)? {
                // A thread that ended since the listing is not an error.
                if let Ok(before) = current_mask(tid) {
                    set_mask(tid, &one)
                        .with_context(|| format!("cannot pin thread {tid} of process {pid}"))?;
                    pinned.0.push((tid, before));
                }
            }
        }
        Ok(pinned)
    }
}

/// Restores each pinned thread's previous affinity when dropped.
pub struct Pinned(Vec<(libc::pid_t, libc::cpu_set_t)>);

impl Drop for Pinned {
    fn drop(&mut self) {
        for (tid, mask) in &self.0 {
            // A thread that has ended meanwhile has nothing to restore.
            let _ = set_mask(*tid, mask);
        }
    }
}

/// The thread ids of process `pid`, from /proc/PID/task.
fn tasks(pid: u32) -> Result<Vec<libc::pid_t>> {
    let dir = format!("/proc/{pid}/task");
    let entries = std::fs::read_dir(&dir).with_context(|| format!("cannot list {dir}"))?;
    Ok(entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect())
}

fn current_mask(tid: libc::pid_t) -> std::io::Result<libc::cpu_set_t> {
    let mut mask: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `mask` is a valid cpu_set_t of `size` bytes.
    if unsafe { libc::sched_getaffinity(tid, size, &mut mask) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(mask)
}

fn set_mask(tid: libc::pid_t, mask: &libc::cpu_set_t) -> std::io::Result<()> {
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `mask` is a valid cpu_set_t of `size` bytes.
    if unsafe { libc::sched_setaffinity(tid, size, mask) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
