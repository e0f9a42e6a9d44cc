//! The run journal: one append-only JSON-lines file per run, every record fsynced before the
//! call that depends on it goes ahead, so that a crash or `kill -9` leaves enough on disk for
//! `ecsh cleanup` to finish the job. The format is documented in `docs/journal.md`.
//!
//! This module owns the file (create, lock, append, read back) and the record types; the
//! [`super::store`] trait puts it beside the PostgreSQL team ledger. It does
//! not interpret records beyond parsing them: folding them into a run's state is `state.rs`'s job.
//! It never talks to the cloud.

use super::{HourlyCost, LedgerError, RunId};
use crate::ops::ResourceKind;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The journal format version written in the `run` record.
pub const FORMAT_VERSION: u32 = 1;

/// The tag key every resource a run creates carries; its value is the run id.
pub const RUN_TAG_KEY: &str = "ecsh:run";

/// Who ended a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndedBy {
    /// The run itself, after releasing its last scope.
    Run,
    /// `ecsh cleanup`, after a crash or a kill.
    Cleanup,
}

/// One line of the journal. `t` names the record type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Record {
    /// First line of every journal.
    Run {
        v: u32,
        run: String,
        started: String,
        pid: u32,
        tag_key: String,
        /// What the run talks to (`sim`, `aliyun cn-hangzhou`, ...), for `ecsh ledger`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<String>,
        /// The endpoint, region and account the run's resources live in; cleanup and release
        /// refuse to act through another (journals before this field have none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        home: Option<super::target::RunTarget>,
    },
    /// A scope opened (the run's own scope has no parent).
    ScopeOpen {
        scope: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent: Option<u32>,
        label: String,
    },
    /// A scope ended and its release was attempted.
    ScopeClose { scope: u32 },
    /// Written and fsynced BEFORE a creating request is sent.
    Intent {
        seq: u64,
        scope: u32,
        product: String,
        action: String,
        region: String,
        kind: ResourceKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_token: Option<String>,
        /// True when the request carries the run tag (`ecsh:run=<run>`).
        tagged: bool,
        /// The request's parameters with secrets redacted and long values cut.
        params: serde_json::Map<String, serde_json::Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost: Option<HourlyCost>,
    },
    /// The creating request succeeded and created these ids.
    Created { seq: u64, ids: Vec<String> },
    /// The API refused the creating request: nothing was created.
    Refused { seq: u64, code: String },
    /// The outcome of a creating request is unknown (transport failure, answer without ids):
    /// something may have been created, to be found by the run tag.
    Unknown { seq: u64, error: String },
    /// Resources found by the run tag that no `created` record names: the outcome of the
    /// listed unresolved intents.
    Found {
        kind: ResourceKind,
        region: String,
        ids: Vec<String>,
        seqs: Vec<u64>,
    },
    /// The script asked to keep this resource: it is retained, never released. `needed_by`
    /// names the kept resource this one was retained for (its network, its security group).
    Keep {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        needed_by: Option<String>,
    },
    /// The script itself deleted these ids (the delete was accepted, not yet verified).
    DeleteSent { ids: Vec<String> },
    /// These ids were deleted and verified gone.
    Released { ids: Vec<String> },
    /// Releasing this id failed; it is still held.
    ReleaseFailed {
        id: String,
        code: String,
        message: String,
    },
    /// The run is over: nothing it created is held any more except what it kept or what failed
    /// to release (listed by `ecsh ledger`).
    End { by: EndedBy, at: String },
}

impl Record {
    /// True for the records that tell of resources (a creating request, its outcome, a keep,
    /// a release). Until the first of them a journal holds only the run's header, scopes and
    /// end: a run that has sent nothing that creates, which a crash cannot leave anything
    /// behind for, so those records are not synced on their own (the first resource record's
    /// sync makes them durable with it).
    fn tells_of_resources(&self) -> bool {
        !matches!(
            self,
            Record::Run { .. }
                | Record::ScopeOpen { .. }
                | Record::ScopeClose { .. }
                | Record::End { .. }
        )
    }
}

/// The open journal of a live run (or of a run being cleaned up): holds an exclusive lock on
/// the file so that two processes never release the same run at once.
pub struct Journal {
    file: File,
    path: PathBuf,
    /// True once the file and its directory entry are on disk: from the first record that
    /// tells of resources on (a journal opened again is already there). Before that, appends
    /// are written but not synced, so a run that creates nothing never waits for the disk.
    synced: bool,
}

impl Journal {
    /// Creates the journal of a new run in `dir` (creating `dir` if needed) and locks it.
    pub fn create(dir: &Path, run: &RunId) -> Result<Journal, LedgerError> {
        std::fs::create_dir_all(dir).map_err(|e| LedgerError::io(dir, "create directory", e))?;
        let path = journal_path(dir, run.as_str());
        let file = OpenOptions::new()
            .append(true)
            .read(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| LedgerError::io(&path, "create journal", e))?;
        try_lock(&file, &path)?;
        // Neither the file nor its directory entry is synced yet: see `append`.
        Ok(Journal {
            file,
            path,
            synced: false,
        })
    }

    /// Opens an existing journal for appending, taking its lock. Fails with
    /// [`LedgerError::InProgress`] when the run's process still holds it.
    pub fn open_existing(path: &Path) -> Result<Journal, LedgerError> {
        let file = OpenOptions::new()
            .append(true)
            .read(true)
            .open(path)
            .map_err(|e| LedgerError::io(path, "open journal", e))?;
        try_lock(&file, path)?;
        cut_torn_tail(&file, path)?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
            synced: true,
        })
    }

    /// Opens a journal for appending WITHOUT its lock: `ecsh cleanup --force` on a run whose
    /// process still holds it (the user said the run is to be taken over).
    pub fn open_unlocked(path: &Path) -> Result<Journal, LedgerError> {
        let file = OpenOptions::new()
            .append(true)
            .read(true)
            .open(path)
            .map_err(|e| LedgerError::io(path, "open journal", e))?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
            synced: true,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record as one line and, from the first record that tells of resources on
    /// (an `intent` before its request is sent), fdatasyncs it before returning. The first
    /// such sync also syncs the directory, so that the new file's entry survives a crash.
    pub fn append(&mut self, record: &Record) -> Result<(), LedgerError> {
        let mut line = serde_json::to_string(record).map_err(|e| LedgerError::Corrupt {
            path: self.path.clone(),
            line: 0,
            why: format!("cannot encode record: {e}"),
        })?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| LedgerError::io(&self.path, "append to journal", e))?;
        if !self.synced && !record.tells_of_resources() {
            return Ok(());
        }
        self.file
            .sync_data()
            .map_err(|e| LedgerError::io(&self.path, "append to journal", e))?;
        if !self.synced {
            // Some file systems refuse to sync a directory; the record itself is on disk, so
            // that is no reason to refuse the call (nor was it when this ran at creation).
            if let Some(Ok(dir)) = self.path.parent().map(File::open) {
                let _ = dir.sync_all();
            }
            self.synced = true;
        }
        Ok(())
    }
}

/// Cuts a last line that has no newline (the process died, or the disk filled, while writing
/// it), so that the next record starts on a line of its own instead of being glued to the torn
/// one, which would turn a harmless torn tail into a corrupt middle line.
fn cut_torn_tail(file: &File, path: &Path) -> Result<(), LedgerError> {
    use std::io::{Read, Seek, SeekFrom};
    let len = file
        .metadata()
        .map_err(|e| LedgerError::io(path, "read journal", e))?
        .len();
    if len == 0 {
        return Ok(());
    }
    let mut reader = file;
    let mut last = [0u8];
    reader
        .seek(SeekFrom::Start(len - 1))
        .and_then(|_| reader.read_exact(&mut last))
        .map_err(|e| LedgerError::io(path, "read journal", e))?;
    if last[0] == b'\n' {
        return Ok(());
    }
    // Find the end of the last whole line, reading backwards in blocks.
    let mut end = len;
    let mut keep = 0;
    let mut block = vec![0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(block.len() as u64);
        let n = (end - start) as usize;
        reader
            .seek(SeekFrom::Start(start))
            .and_then(|_| reader.read_exact(&mut block[..n]))
            .map_err(|e| LedgerError::io(path, "read journal", e))?;
        if let Some(i) = block[..n].iter().rposition(|b| *b == b'\n') {
            keep = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    file.set_len(keep)
        .and_then(|()| file.sync_data())
        .map_err(|e| LedgerError::io(path, "cut the torn last line of", e))
}

/// The journal file of `run` in `dir`.
pub fn journal_path(dir: &Path, run: &str) -> PathBuf {
    dir.join(format!("{run}.jsonl"))
}

/// The default journal directory: `$XDG_STATE_HOME/ecsh/runs` (`~/.local/state/ecsh/runs`),
/// or the local data directory where the platform has no state directory.
pub fn default_dir() -> Result<PathBuf, LedgerError> {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("ecsh").join("runs"))
        .ok_or(LedgerError::NoJournalDir)
}

/// Reads every record of a journal. A torn last line (the process died while writing it) is
/// ignored; a bad line anywhere else is an error, since records after it would be misread.
pub fn read(path: &Path) -> Result<Vec<Record>, LedgerError> {
    let file = File::open(path).map_err(|e| LedgerError::io(path, "read journal", e))?;
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| LedgerError::io(path, "read journal", e))?;
    let mut records = Vec::with_capacity(lines.len());
    for (n, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => records.push(r),
            Err(_) if n + 1 == lines.len() => break,
            Err(e) => {
                return Err(LedgerError::Corrupt {
                    path: path.to_path_buf(),
                    line: n + 1,
                    why: e.to_string(),
                })
            }
        }
    }
    Ok(records)
}

/// A journal read as far as it could be: the records of every line that parses, and the
/// lines that did not (a torn last line is not damage: the process died while writing it).
#[derive(Debug, Default)]
pub struct Readout {
    pub records: Vec<Record>,
    /// `line N: why` for every damaged line.
    pub damaged: Vec<String>,
}

/// Reads what can be read of a journal, so that one damaged run never hides the others and
/// can still be cleaned (by its run tag). Only an unreadable file is an error.
pub fn read_lenient(path: &Path) -> Result<Readout, LedgerError> {
    let bytes = std::fs::read(path).map_err(|e| LedgerError::io(path, "read journal", e))?;
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = Readout::default();
    for (n, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => out.records.push(r),
            // The last piece with no newline after it is a torn write, not damage.
            Err(_) if n + 1 == lines.len() => {}
            Err(e) => out.damaged.push(format!("line {}: {e}", n + 1)),
        }
    }
    Ok(out)
}

/// The run ids that have a journal in `dir`, oldest first (run ids sort by start time).
pub fn list_runs(dir: &Path) -> Result<Vec<String>, LedgerError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(LedgerError::io(dir, "list journals", e)),
    };
    let mut runs: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let run = name.strip_suffix(".jsonl")?;
            RunId::parse(run).ok().map(|r| r.as_str().to_string())
        })
        .collect();
    runs.sort();
    Ok(runs)
}

/// True when another process holds the journal's lock (its run is still going).
pub fn is_locked(path: &Path) -> bool {
    match OpenOptions::new().read(true).open(path) {
        Ok(f) => matches!(try_lock(&f, path), Err(LedgerError::InProgress { .. })),
        Err(_) => false,
    }
}

#[cfg(unix)]
fn try_lock(file: &File, path: &Path) -> Result<(), LedgerError> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a file descriptor we own; no memory is shared with the call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Err(LedgerError::InProgress {
            path: path.to_path_buf(),
        })
    } else {
        Err(LedgerError::io(path, "lock journal", err))
    }
}

#[cfg(not(unix))]
fn try_lock(_file: &File, _path: &Path) -> Result<(), LedgerError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(seq: u64) -> Record {
        Record::Intent {
            seq,
            scope: 0,
            product: "ecs".into(),
            action: "RunInstances".into(),
            region: "cn-hangzhou".into(),
            kind: ResourceKind::Instance,
            client_token: Some("tok".into()),
            tagged: true,
            params: serde_json::Map::new(),
            cost: None,
        }
    }

    #[test]
    fn records_round_trip_one_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunId::new();
        let mut j = Journal::create(dir.path(), &run).unwrap();
        j.append(&intent(1)).unwrap();
        j.append(&Record::Created {
            seq: 1,
            ids: vec!["i-1".into()],
        })
        .unwrap();
        let text = std::fs::read_to_string(j.path()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.starts_with(r#"{"t":"intent","seq":1,"#), "{text}");
        assert_eq!(read(j.path()).unwrap()[0], intent(1));
    }

    #[test]
    fn a_journal_is_synced_from_its_first_resource_record_on() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunId::new();
        let mut j = Journal::create(dir.path(), &run).unwrap();
        j.append(&Record::ScopeOpen {
            scope: 0,
            parent: None,
            label: "script empty.rhai".into(),
        })
        .unwrap();
        assert!(!j.synced, "a run that created nothing waits for no disk");
        j.append(&intent(1)).unwrap();
        assert!(j.synced, "an intent is on disk before its request is sent");
        assert_eq!(read(j.path()).unwrap().len(), 2, "nothing unsynced is lost");
        let path = j.path().to_path_buf();
        drop(j);
        assert!(Journal::open_existing(&path).unwrap().synced);
    }

    #[test]
    fn a_torn_last_line_is_ignored_but_a_bad_middle_line_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        let good = serde_json::to_string(&intent(1)).unwrap();
        std::fs::write(&p, format!("{good}\n{{\"t\":\"crea")).unwrap();
        assert_eq!(read(&p).unwrap().len(), 1);
        std::fs::write(&p, format!("{good}\nnot json\n{good}\n")).unwrap();
        let err = read(&p).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn a_torn_tail_is_cut_before_the_next_append_and_damage_is_reported_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunId::new();
        let path = {
            let mut j = Journal::create(dir.path(), &run).unwrap();
            j.append(&intent(1)).unwrap();
            j.path().to_path_buf()
        };
        // A disk-full torn write, then another process appends.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"t\":\"crea");
        std::fs::write(&path, &text).unwrap();
        let mut j = Journal::open_existing(&path).unwrap();
        j.append(&intent(2)).unwrap();
        drop(j);
        assert_eq!(read(&path).unwrap(), vec![intent(1), intent(2)]);

        let good = serde_json::to_string(&intent(1)).unwrap();
        std::fs::write(&path, format!("{good}\nnot json\n{good}\n{{\"t\":")).unwrap();
        let r = read_lenient(&path).unwrap();
        assert_eq!(r.records.len(), 2);
        assert_eq!(r.damaged.len(), 1, "{:?}", r.damaged);
        assert!(r.damaged[0].starts_with("line 2:"), "{:?}", r.damaged);
    }

    #[test]
    fn a_locked_journal_cannot_be_opened_twice() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunId::new();
        let j = Journal::create(dir.path(), &run).unwrap();
        assert!(is_locked(j.path()));
        let err = Journal::open_existing(j.path()).err().unwrap();
        assert!(matches!(err, LedgerError::InProgress { .. }), "{err}");
        let path = j.path().to_path_buf();
        drop(j);
        assert!(!is_locked(&path));
        Journal::open_existing(&path).unwrap();
    }

    #[test]
    fn listing_finds_only_run_journals() {
        let dir = tempfile::tempdir().unwrap();
        assert!(list_runs(&dir.path().join("missing")).unwrap().is_empty());
        let run = RunId::new();
        Journal::create(dir.path(), &run).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        std::fs::write(dir.path().join("bogus.jsonl"), "x").unwrap();
        assert_eq!(
            list_runs(dir.path()).unwrap(),
            vec![run.as_str().to_string()]
        );
    }
}
