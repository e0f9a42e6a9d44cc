//! How the `ecsh` binary is linked (nothing is generated here).
//!
//! On Linux with glibc 2.36 or later, the binary's relative relocations (about 40,000: every
//! pointer in its constant tables, since it is position-independent) are packed into a DT_RELR
//! table (`-z pack-relative-relocs`): the dynamic loader then applies them from a few KB instead
//! of reading about 1 MB of RELA entries at every start, which was a sixth of the instructions
//! of `ecsh run` of an empty script and a megabyte of its memory (BENCHMARKS.md, "Start-up").
//! glibc before 2.36 cannot load such a binary, so the flag is only given when the glibc of
//! the machine that builds (and, not cross-compiling, runs) ecsh is new enough; a linker that
//! does not know the flag ignores it with a warning (GNU ld before 2.38).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let native = var("HOST") == var("TARGET");
    if native
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && glibc_at_least(2, 36)
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// The glibc version `getconf GNU_LIBC_VERSION` reports (`glibc 2.36`) is at least
/// `major.minor`; false when it cannot be told.
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(version) = text.trim().strip_prefix("glibc ") else {
        return false;
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    found >= (major, minor)
}
