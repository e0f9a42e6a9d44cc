//! A throwaway PostgreSQL server for the team-ledger tests and benchmark: `initdb` into a
//! temporary directory, `pg_ctl` on a free loopback port (and a Unix socket in that directory),
//! password authentication, removed when dropped. Run as root (CI), the server runs as the
//! unprivileged `postgres` user (or `nobody`) through `runuser`, since `initdb` refuses root.
//!
//! Without PostgreSQL on the machine [`PgCluster::start_or_skip`] says the test was skipped and
//! returns `None`; under CI (`CI`) or with `ECSH_REQUIRE_PG` set it fails instead. `.ci/run`
//! installs it from the system's packages. Self-contained (the benchmark includes this file).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The role and password of every throwaway cluster (the password is checked never to show).
pub const PG_USER: &str = "ecsh";
pub const PG_PASSWORD: &str = "pg-S3cret-never-shown";

/// A running throwaway cluster.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    run_as: Option<&'static str>,
    pub port: u16,
}

impl PgCluster {
    /// Starts a cluster, or says why the test `test` is skipped (`None`).
    pub fn start_or_skip(test: &str) -> Option<PgCluster> {
        let required = ["CI", "ECSH_REQUIRE_PG"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
        let Some(bin) = find_bin() else {
            let why =
                "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin); \
                       install it (`apt-get install -y postgresql`) to run the team-ledger tests";
            if required {
                panic!("{test}: {why} (CI or ECSH_REQUIRE_PG is set, so this fails)");
            }
            eprintln!("skipped {test}: {why}");
            return None;
        };
        Some(PgCluster::start(bin))
    }

    fn start(bin: PathBuf) -> PgCluster {
        use std::os::unix::fs::PermissionsExt;
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        // As root, under /tmp: the server's user must be able to reach it, and a TMPDIR inside
        // root's home would not let it.
        let dir = if root {
            tempfile::Builder::new()
                .prefix("ecsh-pg")
                .tempdir_in("/tmp")
        } else {
            tempfile::tempdir()
        }
        .expect("cluster dir");
        let run_as = root.then(unprivileged_user);
        // The server's user must write its data, socket and log here.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("cluster dir mode");
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, PG_PASSWORD).expect("pwfile");
        std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o644)).expect("mode");
        let data = dir.path().join("data");
        let mut initdb = Self::tool(&bin, run_as, "initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                PG_USER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["-E", "UTF8", "--no-instructions"]);
        check(initdb, "initdb");
        let port = free_port();
        let cluster = PgCluster {
            dir,
            bin,
            run_as,
            port,
        };
        cluster.start_server();
        cluster
    }

    fn tool(bin: &Path, run_as: Option<&str>, name: &str) -> Command {
        let program = bin.join(name);
        let mut cmd = match run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        };
        cmd.stdin(Stdio::null()).env("LC_ALL", "C");
        cmd
    }

    /// (Re)starts the server on the same port, waiting until it accepts connections.
    pub fn start_server(&self) {
        let mut ctl = Self::tool(&self.bin, self.run_as, "pg_ctl");
        ctl.arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .arg("-o")
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
                self.port,
                self.dir.path().display()
            ))
            .args(["-w", "-t", "60", "start"]);
        check(ctl, "pg_ctl start");
    }

    /// Stops the server at once (`-m immediate`: as if its machine went away).
    pub fn stop_server(&self) {
        let mut ctl = Self::tool(&self.bin, self.run_as, "pg_ctl");
        ctl.arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "-w", "stop"]);
        check(ctl, "pg_ctl stop");
    }

    /// The connection string ecsh gets (`--ledger` / `ECSH_LEDGER`), password included.
    pub fn url(&self) -> String {
        format!(
            "postgres://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{}/postgres",
            self.port
        )
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let mut ctl = Self::tool(&self.bin, self.run_as, "pg_ctl");
        ctl.arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = ctl.status();
    }
}

fn check(mut cmd: Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The directory of `initdb` and `pg_ctl`: on PATH, else the newest Debian server package.
fn find_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p).find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").is_file())
            .collect();
        versions.sort_by_key(|b| {
            b.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        });
        versions.pop()
    })
}

/// Who runs the server when the tests run as root.
fn unprivileged_user() -> &'static str {
    let exists = |u: &str| {
        Command::new("id")
            .arg(u)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if exists("postgres") {
        "postgres"
    } else {
        "nobody"
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
