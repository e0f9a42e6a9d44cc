//! The team ledger: run journals kept in PostgreSQL (`--ledger postgres://…` / `ECSH_LEDGER`),
//! so that every machine of a team sees every run, a destroyed CI runner takes nothing along,
//! and no two machines release the same run at once. Schema and behaviour are documented in
//! `docs/ledger-postgres.md`.
//!
//! This module owns the connection (one per process, on a thread of its own, reconnected when
//! the database comes back), the versioned migrations, the runs' owners and leases (a
//! heartbeat every quarter lease; a run whose lease ran out is crashed on every machine), and
//! the run locks (session advisory locks: the live run holds its own; cleanup and release take
//! it, and a dead holder's session is ended once its lease has run out).
//!
//! The connection string's password is a [`Secret`]: it is never in a message; the ledger is
//! shown as `postgres://user@host:port/db`.

use super::journal::{Readout, Record};
use super::store::{JournalStore, JournalWriter, RunOwner};
use super::{LedgerError, RunId};
use crate::secret::Secret;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The first key of every run lock (`pg_advisory_lock(RUN_LOCK, hashtext(run))`): "ecsh".
const RUN_LOCK: i32 = 0x6563_7368;
/// The lock that serializes migrations between processes starting at once.
const MIGRATION_LOCK: i64 = 0x0065_6373_686d_6967;

/// The schema, one migration per version; `ecsh_schema` records those applied. Append only:
/// a released migration is never edited.
const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "runs with owners and leases; journal records",
    "CREATE TABLE ecsh_runs (
        run text PRIMARY KEY,
        owner_user text NOT NULL,
        owner_host text NOT NULL,
        pid integer NOT NULL,
        started timestamptz NOT NULL DEFAULT now(),
        heartbeat timestamptz NOT NULL DEFAULT now(),
        lease_seconds double precision NOT NULL,
        backend_pid integer,
        ended_at timestamptz
    );
    CREATE TABLE ecsh_records (
        id bigserial PRIMARY KEY,
        run text NOT NULL REFERENCES ecsh_runs (run),
        record json NOT NULL,
        written timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX ecsh_records_by_run ON ecsh_records (run, id);",
)];

/// The schema version this ecsh writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// How a process uses the team ledger.
#[derive(Clone, Copy, Debug)]
pub struct PgOptions {
    /// How long a run stays "in progress" without a heartbeat (`--ledger-lease`).
    pub lease: Duration,
}

/// The lease when `--ledger-lease` is not given: a minute, renewed every 15 s.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            lease: DEFAULT_LEASE,
        }
    }
}

/// Run journals in a PostgreSQL database.
pub struct PgStore {
    worker: Arc<Worker>,
    shown: String,
    lease: Duration,
}

impl PgStore {
    /// Connects to the ledger at `url` and brings its schema to [`SCHEMA_VERSION`].
    pub fn connect(url: &Secret, opts: PgOptions) -> Result<PgStore, LedgerError> {
        let password = password_of(url.expose());
        let scrub = |text: String| match &password {
            Some(p) if !p.is_empty() => text.replace(p.as_str(), Secret::PLACEHOLDER),
            _ => text,
        };
        let mut config = postgres::Config::from_str(url.expose()).map_err(|e| {
            LedgerError::BadLedger(scrub(format!(
                "{e}; give postgres://USER:PASSWORD@HOST:PORT/DB (sslmode=require for TLS)"
            )))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let owner = Owner::here();
        config.application_name(&format!(
            "ecsh {}@{} pid {}",
            owner.user, owner.host, owner.pid
        ));
        let shown = shown(&config);
        let conn = Conn {
            config,
            shown: shown.clone(),
            password: password.map(Secret::new),
            client: None,
            last_ok: Instant::now(),
            held: BTreeSet::new(),
            lost: BTreeSet::new(),
            owner,
            migrated: false,
        };
        let store = PgStore {
            worker: Arc::new(Worker::start(conn)),
            shown,
            lease: opts.lease,
        };
        // Connect now: a wrong URL or a database that is down is said before anything runs.
        store.worker.call(|c| c.client().map(|_| ()))?;
        Ok(store)
    }

    /// The ledger as messages show it: `postgres://user@host:port/db`, never the password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    fn location(&self, run: &str) -> PathBuf {
        PathBuf::from(format!("ledger {} run {run}", self.shown))
    }
}

impl JournalStore for PgStore {
    fn create(&self, run: &RunId) -> Result<Box<dyn JournalWriter>, LedgerError> {
        let id = run.to_string();
        let lease = self.lease.as_secs_f64();
        let r = id.clone();
        self.worker.call(move |c| {
            let owner = c.owner.clone();
            let locked = c.run("start the run", |db| {
                let mut tx = db.transaction()?;
                tx.execute(
                    "INSERT INTO ecsh_runs (run, owner_user, owner_host, pid, lease_seconds, \
                     backend_pid) VALUES ($1, $2, $3, $4, $5, pg_backend_pid())",
                    &[&r, &owner.user, &owner.host, &(owner.pid as i32), &lease],
                )?;
                let locked: bool = tx
                    .query_one(
                        "SELECT pg_try_advisory_lock($1, hashtext($2))",
                        &[&RUN_LOCK, &r],
                    )?
                    .get(0);
                tx.commit()?;
                Ok(locked)
            })?;
            if !locked {
                return Err(LedgerError::HeldElsewhere {
                    run: r.clone(),
                    by: "another session took the new run's lock".into(),
                });
            }
            c.held.insert(r);
            Ok(())
        })?;
        let (stop, stopped) = mpsc::channel::<()>();
        let worker = self.worker.clone();
        let beat = id.clone();
        let every = (self.lease / 4).max(Duration::from_millis(200));
        std::thread::Builder::new()
            .name("ecsh-ledger-heartbeat".into())
            .spawn(move || {
                // Ends when the writer drops its sender (the run is over).
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    let run = beat.clone();
                    // A failed beat is retried at the next one; the lease says how long others
                    // wait before calling the run crashed.
                    let _ = worker.call(move |c| c.heartbeat(&run));
                }
            })
            .map_err(|e| LedgerError::Unreachable {
                ledger: self.shown.clone(),
                why: format!("cannot start the heartbeat: {e}"),
            })?;
        Ok(Box::new(PgWriter {
            worker: self.worker.clone(),
            location: self.location(&id),
            run: id,
            _heartbeat: Some(stop),
        }))
    }

    fn open_existing(&self, run: &str, force: bool) -> Result<Box<dyn JournalWriter>, LedgerError> {
        let r = run.to_string();
        self.worker.call(move |c| c.take_over(&r, force))?;
        Ok(Box::new(PgWriter {
            worker: self.worker.clone(),
            location: self.location(run),
            run: run.to_string(),
            _heartbeat: None,
        }))
    }

    fn exists(&self, run: &str) -> Result<bool, LedgerError> {
        let r = run.to_string();
        self.worker.call(move |c| {
            c.run("look up the run", |db| {
                Ok(db
                    .query_opt("SELECT 1 FROM ecsh_runs WHERE run = $1", &[&r])?
                    .is_some())
            })
        })
    }

    fn read(&self, run: &str) -> Result<Readout, LedgerError> {
        let r = run.to_string();
        let rows: Vec<(i64, String)> = self.worker.call(move |c| {
            c.run("read the run's records", |db| {
                Ok(db
                    .query(
                        "SELECT id, record::text FROM ecsh_records WHERE run = $1 ORDER BY id",
                        &[&r],
                    )?
                    .iter()
                    .map(|row| (row.get(0), row.get(1)))
                    .collect())
            })
        })?;
        let mut out = Readout::default();
        for (id, text) in rows {
            match serde_json::from_str::<Record>(&text) {
                Ok(record) => out.records.push(record),
                Err(e) => out.damaged.push(format!("record {id}: {e}")),
            }
        }
        Ok(out)
    }

    fn list_runs(&self) -> Result<Vec<String>, LedgerError> {
        self.worker.call(|c| {
            c.run("list the runs", |db| {
                Ok(db
                    .query("SELECT run FROM ecsh_runs ORDER BY run", &[])?
                    .iter()
                    .map(|row| row.get(0))
                    .collect())
            })
        })
    }

    fn is_live(&self, run: &str) -> bool {
        let r = run.to_string();
        self.worker
            .call(move |c| c.lease(&r).map(|l| l.is_some_and(|l| l.live())))
            .unwrap_or(false)
    }

    fn owner(&self, run: &str) -> Option<RunOwner> {
        let r = run.to_string();
        self.worker
            .call(move |c| c.lease(&r))
            .ok()
            .flatten()
            .map(|l| l.owner)
    }
}

/// The open journal of one run in the ledger; dropping it releases the run's lock.
struct PgWriter {
    worker: Arc<Worker>,
    run: String,
    location: PathBuf,
    /// Dropped with the writer, which stops the live run's heartbeat.
    _heartbeat: Option<mpsc::Sender<()>>,
}

impl JournalWriter for PgWriter {
    fn append(&mut self, record: &Record) -> Result<(), LedgerError> {
        let text = serde_json::to_string(record).map_err(|e| LedgerError::Corrupt {
            path: self.location.clone(),
            line: 0,
            why: format!("cannot encode record: {e}"),
        })?;
        let ends = matches!(record, Record::End { .. });
        let run = self.run.clone();
        self.worker.call(move |c| {
            if c.lost.contains(&run) {
                return Err(LedgerError::HeldElsewhere {
                    run: run.clone(),
                    by: "another ecsh, which took the run over while the ledger was unreachable"
                        .into(),
                });
            }
            c.run("append to the run's journal", |db| {
                if ends {
                    let mut tx = db.transaction()?;
                    tx.execute(
                        "INSERT INTO ecsh_records (run, record) VALUES ($1, $2::text::json)",
                        &[&run, &text],
                    )?;
                    tx.execute(
                        "UPDATE ecsh_runs SET ended_at = now() WHERE run = $1",
                        &[&run],
                    )?;
                    tx.commit()
                } else {
                    db.execute(
                        "INSERT INTO ecsh_records (run, record) VALUES ($1, $2::text::json)",
                        &[&run, &text],
                    )
                    .map(|_| ())
                }
            })
        })
    }

    fn location(&self) -> PathBuf {
        self.location.clone()
    }
}

impl Drop for PgWriter {
    fn drop(&mut self) {
        let run = self.run.clone();
        self.worker.post(move |c| c.unlock(&run));
    }
}

/// The one connection of a process, driven by its own thread so that the synchronous
/// journal calls work from inside the async runtime as from outside it.
struct Worker {
    jobs: Mutex<mpsc::Sender<Job>>,
}

type Job = Box<dyn FnOnce(&mut Conn) + Send>;

impl Worker {
    fn start(mut conn: Conn) -> Worker {
        let (tx, rx) = mpsc::channel::<Job>();
        // The thread ends when the last sender (the store and its writers) is gone.
        let _ = std::thread::Builder::new()
            .name("ecsh-ledger".into())
            .spawn(move || {
                for job in rx {
                    job(&mut conn);
                }
            });
        Worker {
            jobs: Mutex::new(tx),
        }
    }

    /// Runs `f` on the connection's thread and waits for its answer.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, LedgerError> + Send + 'static,
    ) -> Result<T, LedgerError> {
        let (answer, answered) = mpsc::channel();
        self.post(move |c| {
            let _ = answer.send(f(c));
        });
        answered.recv().unwrap_or_else(|_| {
            Err(LedgerError::Unreachable {
                ledger: "the team ledger".into(),
                why: "its connection thread stopped".into(),
            })
        })
    }

    /// Runs `f` on the connection's thread without waiting.
    fn post(&self, f: impl FnOnce(&mut Conn) + Send + 'static) {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        let _ = jobs.send(Box::new(f));
    }
}

/// Who this process is, for the runs it starts.
#[derive(Clone, Debug)]
struct Owner {
    user: String,
    host: String,
    pid: u32,
}

impl Owner {
    fn here() -> Owner {
        let user = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "unknown".into());
        Owner {
            user,
            host: hostname(),
            pid: std::process::id(),
        }
    }
}

#[cfg(unix)]
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into the buffer we own.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(not(unix))]
fn hostname() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown".into())
}

/// A run's row: its owner, and whether its lease still runs (on the database's clock).
struct Lease {
    owner: RunOwner,
    ended: bool,
    fresh: bool,
    backend_pid: Option<i32>,
}

impl Lease {
    fn live(&self) -> bool {
        !self.ended && self.fresh
    }
}

struct Conn {
    config: postgres::Config,
    shown: String,
    password: Option<Secret>,
    client: Option<postgres::Client>,
    last_ok: Instant,
    /// Runs whose lock this session holds; taken again after a reconnect.
    held: BTreeSet<String>,
    /// Runs whose lock another session took while this one was away: no more appends.
    lost: BTreeSet<String>,
    owner: Owner,
    migrated: bool,
}

/// Past this idle time, a connection is checked before use: the database may have restarted
/// in between, and a journal append must not be the request that finds out.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);

impl Conn {
    /// The connection, (re)connected and migrated, with this process's run locks held.
    fn client(&mut self) -> Result<&mut postgres::Client, LedgerError> {
        if let Some(c) = self.client.as_mut() {
            let stale = c.is_closed()
                || (self.last_ok.elapsed() > CHECK_AFTER_IDLE
                    && c.is_valid(Duration::from_secs(2)).is_err());
            if stale {
                self.client = None;
            }
        }
        if self.client.is_none() {
            // The server answered and refused (a wrong password, no such database): a setting
            // to fix, not an outage to wait out.
            let mut c = connect(&self.config).map_err(|e| match e.as_db_error() {
                Some(_) => self.failure("let this ecsh in", &e),
                None => self.unreachable(&e),
            })?;
            if !self.migrated {
                let found = migrate(&mut c).map_err(|e| self.failure("migrate the schema", &e))?;
                if found > SCHEMA_VERSION {
                    return Err(LedgerError::BadLedger(format!(
                        "{} has schema version {found}, newer than this ecsh knows ({}); \
                         upgrade ecsh on this machine",
                        self.shown, SCHEMA_VERSION
                    )));
                }
                self.migrated = true;
            }
            for run in self.held.clone() {
                let again: bool = c
                    .query_one(
                        "SELECT pg_try_advisory_lock($1, hashtext($2))",
                        &[&RUN_LOCK, &run],
                    )
                    .map_err(|e| self.unreachable(&e))?
                    .get(0);
                if again {
                    let _ = c.execute(
                        "UPDATE ecsh_runs SET backend_pid = pg_backend_pid(), heartbeat = now() \
                         WHERE run = $1 AND ended_at IS NULL",
                        &[&run],
                    );
                } else {
                    self.held.remove(&run);
                    self.lost.insert(run);
                }
            }
            self.client = Some(c);
            self.last_ok = Instant::now();
        }
        Ok(self.client.as_mut().expect("connected above"))
    }

    /// Runs `f` on the connection; a connection that broke is dropped (the next call
    /// reconnects) and said as unreachable.
    fn run<T>(
        &mut self,
        what: &'static str,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, postgres::Error>,
    ) -> Result<T, LedgerError> {
        let client = self.client()?;
        match f(client) {
            Ok(v) => {
                self.last_ok = Instant::now();
                Ok(v)
            }
            Err(e) => {
                let broken = client.is_closed() || e.as_db_error().is_none();
                if broken {
                    self.client = None;
                    Err(self.unreachable(&e))
                } else {
                    Err(self.failure(what, &e))
                }
            }
        }
    }

    fn scrub(&self, text: String) -> String {
        match &self.password {
            Some(p) if !p.is_empty() => text.replace(p.expose(), Secret::PLACEHOLDER),
            _ => text,
        }
    }

    fn unreachable(&self, e: &postgres::Error) -> LedgerError {
        LedgerError::Unreachable {
            ledger: self.shown.clone(),
            why: self.scrub(error_text(e)),
        }
    }

    fn failure(&self, what: &'static str, e: &postgres::Error) -> LedgerError {
        LedgerError::Database {
            ledger: self.shown.clone(),
            what,
            why: self.scrub(error_text(e)),
        }
    }

    fn heartbeat(&mut self, run: &str) -> Result<(), LedgerError> {
        if !self.held.contains(run) {
            return Ok(());
        }
        let r = run.to_string();
        self.run("renew the run's lease", |db| {
            db.execute(
                "UPDATE ecsh_runs SET heartbeat = now(), backend_pid = pg_backend_pid() \
                 WHERE run = $1 AND ended_at IS NULL",
                &[&r],
            )
            .map(|_| ())
        })
    }

    fn lease(&mut self, run: &str) -> Result<Option<Lease>, LedgerError> {
        let r = run.to_string();
        let row = self.run("read the run's lease", |db| {
            db.query_opt(
                "SELECT owner_user, owner_host, pid, ended_at IS NOT NULL, \
                 heartbeat + lease_seconds * interval '1 second' > now(), backend_pid, \
                 extract(epoch FROM now() - heartbeat)::float8 \
                 FROM ecsh_runs WHERE run = $1",
                &[&r],
            )
        })?;
        Ok(row.map(|row| Lease {
            owner: RunOwner {
                user: row.get(0),
                host: row.get(1),
                pid: row.get::<_, i32>(2) as u32,
                heartbeat_age: Some(row.get(6)),
            },
            ended: row.get(3),
            fresh: row.get(4),
            backend_pid: row.get(5),
        }))
    }

    /// Takes a past run's lock for cleanup or release. A run whose lease still runs is left
    /// alone unless `force`; a lock held by the run's own session after its lease ran out
    /// (its machine vanished with the connection half open) is taken by ending that session.
    fn take_over(&mut self, run: &str, force: bool) -> Result<(), LedgerError> {
        let lease = self
            .lease(run)?
            .ok_or_else(|| LedgerError::NoSuchRun(run.to_string()))?;
        if lease.live() && !force {
            return Err(LedgerError::HeldElsewhere {
                run: run.to_string(),
                by: format!(
                    "its own process ({}), whose lease was renewed {} ago",
                    lease.owner,
                    seconds(lease.owner.heartbeat_age)
                ),
            });
        }
        for attempt in 0..20 {
            let r = run.to_string();
            let got: bool = self.run("lock the run", |db| {
                Ok(db
                    .query_one(
                        "SELECT pg_try_advisory_lock($1, hashtext($2))",
                        &[&RUN_LOCK, &r],
                    )?
                    .get(0))
            })?;
            if got {
                self.held.insert(run.to_string());
                return Ok(());
            }
            let r = run.to_string();
            let holder: Option<(i32, String)> = self.run("find the run's lock holder", |db| {
                Ok(db
                    .query_opt(
                        "SELECT l.pid, coalesce(a.application_name, '') FROM pg_locks l \
                         LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
                         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 \
                         AND l.classid = $1::bigint::oid \
                         AND l.objid = (hashtext($2)::bigint & 4294967295)::oid",
                        &[&(RUN_LOCK as i64), &r],
                    )?
                    .map(|row| (row.get(0), row.get(1))))
            })?;
            let Some((pid, name)) = holder else {
                // Released between the two queries: try again.
                continue;
            };
            let the_run_itself = lease.backend_pid == Some(pid) && !lease.ended;
            if !the_run_itself {
                return Err(LedgerError::HeldElsewhere {
                    run: run.to_string(),
                    by: format!("another ecsh releasing it ({name})"),
                });
            }
            if attempt == 0 {
                self.run("end the dead run's session", |db| {
                    db.execute("SELECT pg_terminate_backend($1)", &[&pid])
                        .map(|_| ())
                })?;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(LedgerError::HeldElsewhere {
            run: run.to_string(),
            by: "a database session that did not let go of its lock".into(),
        })
    }

    fn unlock(&mut self, run: &str) {
        if self.held.remove(run) {
            if let Some(c) = self.client.as_mut() {
                let _ = c.execute(
                    "SELECT pg_advisory_unlock($1, hashtext($2))",
                    &[&RUN_LOCK, &run],
                );
            }
        }
        self.lost.remove(run);
    }
}

/// Connects with TLS (rustls, the Mozilla roots) unless `sslmode=disable` or a Unix socket.
fn connect(config: &postgres::Config) -> Result<postgres::Client, postgres::Error> {
    use postgres::config::{Host, SslMode};
    let local = config
        .get_hosts()
        .iter()
        .all(|h| !matches!(h, Host::Tcp(_)));
    if config.get_ssl_mode() == SslMode::Disable || local {
        return config.connect(postgres::NoTls);
    }
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
}

/// Brings the schema up to [`SCHEMA_VERSION`], one process at a time; returns the version
/// found (newer than ours: another ecsh migrated it, and this one must not write).
fn migrate(db: &mut postgres::Client) -> Result<i32, postgres::Error> {
    // Already migrated (the usual case): no lock, so that many runs starting at once do not
    // queue behind each other. A missing table fails this query and takes the locked path.
    if let Ok(row) = db.query_one("SELECT coalesce(max(version), 0) FROM ecsh_schema", &[]) {
        let found: i32 = row.get(0);
        if found >= SCHEMA_VERSION {
            return Ok(found);
        }
    }
    db.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let result = (|| {
        db.batch_execute(
            "CREATE TABLE IF NOT EXISTS ecsh_schema (
                version integer PRIMARY KEY,
                description text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )?;
        let current: i32 = db
            .query_one("SELECT coalesce(max(version), 0) FROM ecsh_schema", &[])?
            .get(0);
        for (version, description, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            let mut tx = db.transaction()?;
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO ecsh_schema (version, description) VALUES ($1, $2)",
                &[version, description],
            )?;
            tx.commit()?;
        }
        Ok(current)
    })();
    let _ = db.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    result
}

/// `postgres://user@host:port/db`, with no password, for messages.
fn shown(config: &postgres::Config) -> String {
    use postgres::config::Host;
    let host = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            Host::Unix(p) => p.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    let port = config
        .get_ports()
        .first()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or("");
    format!("postgres://{user}{host}{port}/{db}")
}

/// The password a connection string carries (URL or `key=value` form), to scrub it from any
/// text that might quote the string back.
fn password_of(url: &str) -> Option<String> {
    postgres::Config::from_str(url).ok().and_then(|c| {
        c.get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned())
    })
}

/// The error with its cause (`error connecting to server: Connection refused`).
fn error_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let more = s.to_string();
                if !text.contains(&more) {
                    text = format!("{text}: {more}");
                }
                source = s.source();
            }
            text
        }
    }
}

fn seconds(age: Option<f64>) -> String {
    age.map(|a| format!("{a:.0}s"))
        .unwrap_or_else(|| "an unknown time".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_is_shown_without_its_password() {
        let url = "postgres://team:hunter2@db.example:5433/ecsh?sslmode=require";
        let config = postgres::Config::from_str(url).unwrap();
        assert_eq!(shown(&config), "postgres://team@db.example:5433/ecsh");
        assert_eq!(password_of(url).as_deref(), Some("hunter2"));
        let err = PgStore::connect(
            &Secret::new("postgres://u:hunter2@[bad"),
            PgOptions::default(),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("postgres://USER:PASSWORD@HOST"), "{err}");
    }

    #[test]
    fn migrations_are_numbered_in_order() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.0, i as i32 + 1, "{}", m.1);
        }
    }
}
