//! Where run journals are kept, behind one trait: [`JournalStore`] (which runs exist, read one
//! back, create or take one over) and [`JournalWriter`] (append a record, durably, before the
//! call that depends on it goes ahead). Two implementations: [`FileStore`], one JSON-lines file
//! per run in a directory (the default, `docs/journal.md`), and [`super::pg::PgStore`], a team
//! ledger in PostgreSQL (`--ledger URL`, `docs/ledger-postgres.md`).
//!
//! The record model is the same for both; the live ledger, the release planner and recovery
//! only see these traits, so they do not know which storage they write to.

use super::journal::{self, Journal, Readout, Record};
use super::{LedgerError, RunId};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A store of run journals, shared by the live run, cleanup, release and `ecsh ledger`.
pub type Journals = Arc<dyn JournalStore>;

/// Who runs a run, as a team ledger records it (a file journal has only the pid).
#[derive(Clone, Debug, PartialEq)]
pub struct RunOwner {
    pub user: String,
    pub host: String,
    pub pid: u32,
    /// Seconds since the run's last heartbeat, on the database's clock.
    pub heartbeat_age: Option<f64>,
}

impl std::fmt::Display for RunOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{} pid {}", self.user, self.host, self.pid)
    }
}

/// The storage of run journals.
pub trait JournalStore: Send + Sync {
    /// Creates the journal of a new run and takes its lock for the run's whole life.
    fn create(&self, run: &RunId) -> Result<Box<dyn JournalWriter>, LedgerError>;

    /// Opens a past run's journal for appending, taking its lock so that no two processes
    /// release it at once. A run still in progress is [`LedgerError::InProgress`] unless
    /// `force` (then its resources are taken over).
    fn open_existing(&self, run: &str, force: bool) -> Result<Box<dyn JournalWriter>, LedgerError>;

    /// True when the store has a journal for `run`.
    fn exists(&self, run: &str) -> Result<bool, LedgerError>;

    /// What can be read of a run's journal (damaged lines reported, not fatal).
    fn read(&self, run: &str) -> Result<Readout, LedgerError>;

    /// Every run id in the store, oldest first.
    fn list_runs(&self) -> Result<Vec<String>, LedgerError>;

    /// True while the run's process is alive (holds the lock, or its lease is fresh).
    fn is_live(&self, run: &str) -> bool;

    /// Who runs `run`, when the store records it.
    fn owner(&self, _run: &str) -> Option<RunOwner> {
        None
    }

    /// The journal directory to name in retry commands (`--journal-dir DIR`), when it is not
    /// the default one.
    fn shown_dir(&self) -> Option<PathBuf> {
        None
    }
}

impl std::fmt::Debug for dyn JournalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the connection string: it may carry a password.
        f.write_str("JournalStore")
    }
}

/// The open, locked journal of one run.
pub trait JournalWriter: Send {
    /// Appends one record; it is durable (fsynced, or committed) when this returns.
    fn append(&mut self, record: &Record) -> Result<(), LedgerError>;

    /// Where the records go, for messages and tests: the file, or `ledger <db> run <id>`.
    fn location(&self) -> PathBuf;
}

/// One JSON-lines file per run in a directory (`docs/journal.md`).
pub struct FileStore {
    dir: PathBuf,
    /// Named in retry commands when it is not the default directory.
    shown: Option<PathBuf>,
}

impl FileStore {
    /// `--journal-dir DIR`, or the default directory when `None`.
    pub fn at(dir: Option<&Path>) -> Result<FileStore, LedgerError> {
        Ok(match dir {
            Some(d) => FileStore {
                dir: d.to_path_buf(),
                shown: Some(d.to_path_buf()),
            },
            None => FileStore {
                dir: journal::default_dir()?,
                shown: None,
            },
        })
    }

    /// [`FileStore::at`] as a shared [`Journals`].
    pub fn shared(dir: Option<&Path>) -> Result<Journals, LedgerError> {
        Ok(Arc::new(FileStore::at(dir)?))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, run: &str) -> PathBuf {
        journal::journal_path(&self.dir, run)
    }
}

impl JournalStore for FileStore {
    fn create(&self, run: &RunId) -> Result<Box<dyn JournalWriter>, LedgerError> {
        Ok(Box::new(Journal::create(&self.dir, run)?))
    }

    fn open_existing(&self, run: &str, force: bool) -> Result<Box<dyn JournalWriter>, LedgerError> {
        let path = self.path(run);
        match Journal::open_existing(&path) {
            // The live process keeps its flock; --force appends beside it.
            Err(LedgerError::InProgress { .. }) if force => {
                Ok(Box::new(Journal::open_unlocked(&path)?))
            }
            other => Ok(Box::new(other?)),
        }
    }

    fn exists(&self, run: &str) -> Result<bool, LedgerError> {
        Ok(self.path(run).exists())
    }

    fn read(&self, run: &str) -> Result<Readout, LedgerError> {
        journal::read_lenient(&self.path(run))
    }

    fn list_runs(&self) -> Result<Vec<String>, LedgerError> {
        journal::list_runs(&self.dir)
    }

    fn is_live(&self, run: &str) -> bool {
        journal::is_locked(&self.path(run))
    }

    fn shown_dir(&self) -> Option<PathBuf> {
        self.shown.clone()
    }
}

impl JournalWriter for Journal {
    fn append(&mut self, record: &Record) -> Result<(), LedgerError> {
        Journal::append(self, record)
    }

    fn location(&self) -> PathBuf {
        self.path().to_path_buf()
    }
}

/// The store a command uses: the team ledger when `ledger` (`--ledger URL` / `ECSH_LEDGER`)
/// is given, else the file journals in `journal_dir` (the default directory when `None`).
pub fn open(
    journal_dir: Option<&Path>,
    ledger: Option<&crate::secret::Secret>,
) -> Result<Journals, LedgerError> {
    match ledger {
        Some(url) => Ok(Arc::new(super::pg::PgStore::connect(
            url,
            super::pg::PgOptions::default(),
        )?)),
        None => FileStore::shared(journal_dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_file_journal_is_in_progress_unless_forced_and_then_appends_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::at(Some(dir.path())).unwrap();
        let run = RunId::new();
        let mut live = store.create(&run).unwrap();
        live.append(&Record::DeleteSent {
            ids: vec!["i-1".into()],
        })
        .unwrap();
        assert!(store.is_live(run.as_str()));
        assert_eq!(store.list_runs().unwrap(), vec![run.to_string()]);
        let err = store.open_existing(run.as_str(), false).err().unwrap();
        assert!(matches!(err, LedgerError::InProgress { .. }), "{err}");
        let mut forced = store.open_existing(run.as_str(), true).unwrap();
        forced
            .append(&Record::Released {
                ids: vec!["i-1".into()],
            })
            .unwrap();
        assert_eq!(store.read(run.as_str()).unwrap().records.len(), 2);
        assert_eq!(store.shown_dir().as_deref(), Some(dir.path()));
    }
}
