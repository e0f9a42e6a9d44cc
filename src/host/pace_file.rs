//! `pace.json`: how long each kind of transition took on each target, remembered across runs,
//! so the first wait of a kind in the next run starts from a good guess (see [`super::pace`]).
//!
//! It lives beside the run journals (`--journal-dir`, else `~/.local/state/ecsh/runs`) and
//! holds durations only, per target key (the endpoint's host and the region, or the embedded
//! simulator and its time scale): no ids, no credentials. A run loads its target's entries at
//! the start and merges what it learned at the end: under an exclusive lock on `pace.json.lock`
//! (so two runs ending together do not lose each other's values), written to a temporary file
//! and renamed over the old one (so a reader, or a crash, never sees half a file). A damaged
//! file is a [`PaceFileError`] for the caller to note, never a reason to fail a run: the next
//! save starts it afresh. An entry not refreshed for [`KEEP_DAYS`] is forgotten.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The file's name in its directory.
pub const FILE_NAME: &str = "pace.json";
/// A remembered duration older than this many days is forgotten (the service may have changed).
pub const KEEP_DAYS: i64 = 30;
/// Longer than this is not a transition but a wait that was interrupted or timed out; such a
/// value is not kept.
const LONGEST: Duration = Duration::from_secs(3600);
const VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum PaceFileError {
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{} is damaged ({why}); it is ignored and rewritten by the next run", path.display())]
    Damaged { path: PathBuf, why: String },
}

/// One remembered duration and when (Unix seconds) it was last refreshed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct Entry {
    secs: f64,
    at: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Book {
    version: u32,
    /// Target key → kind → entry.
    targets: BTreeMap<String, BTreeMap<String, Entry>>,
}

/// The pace file of one directory.
#[derive(Clone, Debug)]
pub struct PaceFile {
    path: PathBuf,
}

/// The target key of the embedded simulator running in `mode`: its durations depend on nothing
/// else.
pub fn embedded_key(mode: crate::sim::clock::TimeMode) -> String {
    match mode {
        crate::sim::clock::TimeMode::Scaled(f) => format!("embedded, time scale {f}"),
        crate::sim::clock::TimeMode::Steps(n) => format!("embedded, {n} steps"),
    }
}

/// The target key of a service: the endpoint's host (and port, which tells two standalone
/// simulators on one machine apart) and the region, or `aliyun` and the region when ecsh picks
/// Alibaba Cloud's endpoints itself.
pub fn endpoint_key(endpoint: Option<&str>, region: &str) -> String {
    let host = endpoint.map_or("aliyun", |url| {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        // userinfo@host is not part of the target's name (and may hold a secret).
        authority.rsplit('@').next().unwrap_or(authority)
    });
    format!("{host} {region}")
}

impl PaceFile {
    /// The pace file in `dir` (the journal directory).
    pub fn in_dir(dir: &Path) -> PaceFile {
        PaceFile {
            path: dir.join(FILE_NAME),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The durations remembered for `key` that are younger than [`KEEP_DAYS`] at `now` (Unix
    /// seconds). No file yet is no memory, not an error.
    pub fn load(&self, key: &str, now: i64) -> Result<HashMap<String, Duration>, PaceFileError> {
        let book = self.read()?;
        Ok(book
            .targets
            .get(key)
            .map(|kinds| {
                kinds
                    .iter()
                    .filter_map(|(kind, e)| usable(e, now).map(|d| (kind.clone(), d)))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Merges what a run learned on `key` into the file: a kind remembered and still fresh
    /// keeps the average of its value and the new one (one slow run moves the guess only half
    /// way), a new one is taken as it is; entries past [`KEEP_DAYS`] are dropped. A damaged
    /// file is replaced; the error says so after the new file is written.
    pub fn record(
        &self,
        key: &str,
        learned: &HashMap<String, Duration>,
        now: i64,
    ) -> Result<(), PaceFileError> {
        if learned.is_empty() {
            return Ok(());
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| self.io("create the directory of", e))?;
        let _lock = Lock::take(&self.path.with_extension("json.lock"))?;
        let (mut book, damaged) = match self.read() {
            Ok(book) => (book, None),
            Err(e @ PaceFileError::Damaged { .. }) => (Book::default(), Some(e)),
            Err(e) => return Err(e),
        };
        book.version = VERSION;
        for kinds in book.targets.values_mut() {
            kinds.retain(|_, e| usable(e, now).is_some());
        }
        book.targets.retain(|_, kinds| !kinds.is_empty());
        let kinds = book.targets.entry(key.to_string()).or_default();
        for (kind, took) in learned {
            if *took > LONGEST {
                continue;
            }
            let new = took.as_secs_f64();
            let secs = match kinds.get(kind).and_then(|e| usable(e, now)) {
                Some(old) => (old.as_secs_f64() + new) / 2.0,
                None => new,
            };
            kinds.insert(kind.clone(), Entry { secs, at: now });
        }
        self.write(&book)?;
        damaged.map_or(Ok(()), Err)
    }

    fn read(&self) -> Result<Book, PaceFileError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Book::default()),
            Err(e) => return Err(self.io("read", e)),
        };
        let book: Book = serde_json::from_str(&text).map_err(|e| PaceFileError::Damaged {
            path: self.path.clone(),
            why: e.to_string(),
        })?;
        if book.version != VERSION {
            return Err(PaceFileError::Damaged {
                path: self.path.clone(),
                why: format!("version {} where {VERSION} was expected", book.version),
            });
        }
        Ok(book)
    }

    /// Writes `book` to a file of this process's own beside the target, then renames it over.
    fn write(&self, book: &Book) -> Result<(), PaceFileError> {
        let tmp = self.path.with_extension(format!(
            "json.{}.{:08x}.tmp",
            std::process::id(),
            rand::random::<u32>()
        ));
        let text = serde_json::to_string_pretty(book).unwrap_or_default();
        let written = File::create(&tmp)
            .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(self.io("write", e));
        }
        Ok(())
    }

    fn io(&self, what: &'static str, source: std::io::Error) -> PaceFileError {
        PaceFileError::Io {
            path: self.path.clone(),
            what,
            source,
        }
    }
}

/// The entry's duration, if it is a sane one and younger than [`KEEP_DAYS`].
fn usable(e: &Entry, now: i64) -> Option<Duration> {
    let fresh = now.saturating_sub(e.at) <= KEEP_DAYS * 86_400;
    let sane = e.secs.is_finite() && e.secs >= 0.0 && e.secs <= LONGEST.as_secs_f64();
    (fresh && sane).then(|| Duration::from_secs_f64(e.secs))
}

/// An exclusive lock on a file beside the pace file, held while the value lives (released
/// when the file closes).
struct Lock {
    _file: File,
}

impl Lock {
    fn take(path: &Path) -> Result<Lock, PaceFileError> {
        let io = |what, source| PaceFileError::Io {
            path: path.to_path_buf(),
            what,
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| io("open", e))?;
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            // SAFETY: flock on a file descriptor we own; no memory is shared with the call.
            // Blocking: another run holds it only for the few milliseconds of its own merge.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
                return Err(io("lock", std::io::Error::last_os_error()));
            }
        }
        Ok(Lock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::clock::TimeMode;

    const NOW: i64 = 1_800_000_000;

    fn learned(pairs: &[(&str, f64)]) -> HashMap<String, Duration> {
        pairs
            .iter()
            .map(|(k, s)| (k.to_string(), Duration::from_secs_f64(*s)))
            .collect()
    }

    #[test]
    fn a_run_remembers_per_target_and_averages_with_what_was_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let file = PaceFile::in_dir(dir.path());
        assert!(
            file.load("x", NOW).unwrap().is_empty(),
            "no file, no memory"
        );
        let fast = embedded_key(TimeMode::Scaled(0.1));
        let real = endpoint_key(Some("https://ecs.cn-hangzhou.aliyuncs.com/"), "cn-hangzhou");
        file.record(&fast, &learned(&[("VPC to be Available", 0.3)]), NOW)
            .unwrap();
        file.record(&real, &learned(&[("VPC to be Available", 4.0)]), NOW)
            .unwrap();
        file.record(&real, &learned(&[("VPC to be Available", 2.0)]), NOW + 5)
            .unwrap();
        assert_eq!(
            file.load(&fast, NOW).unwrap()["VPC to be Available"],
            Duration::from_secs_f64(0.3)
        );
        assert_eq!(
            file.load(&real, NOW).unwrap()["VPC to be Available"],
            Duration::from_secs(3)
        );
        assert!(file
            .load(&embedded_key(TimeMode::Scaled(1.0)), NOW)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn keys_name_the_target_and_never_userinfo() {
        assert_eq!(
            endpoint_key(Some("http://127.0.0.1:8080"), "cn-hangzhou"),
            "127.0.0.1:8080 cn-hangzhou"
        );
        assert_eq!(
            endpoint_key(Some("https://me:pw@ecs.example.com/x?y"), "eu-central-1"),
            "ecs.example.com eu-central-1"
        );
        assert_eq!(endpoint_key(None, "cn-beijing"), "aliyun cn-beijing");
        assert_ne!(
            embedded_key(TimeMode::Scaled(0.1)),
            embedded_key(TimeMode::Scaled(1.0))
        );
    }

    #[test]
    fn old_entries_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let file = PaceFile::in_dir(dir.path());
        file.record("t", &learned(&[("a", 1.0)]), NOW).unwrap();
        let later = NOW + KEEP_DAYS * 86_400 + 1;
        assert!(file.load("t", later).unwrap().is_empty());
        // And a stale value is not averaged into a new one.
        file.record("t", &learned(&[("a", 5.0)]), later).unwrap();
        assert_eq!(file.load("t", later).unwrap()["a"], Duration::from_secs(5));
    }

    #[test]
    fn a_damaged_file_is_reported_ignored_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = PaceFile::in_dir(dir.path());
        std::fs::write(
            file.path(),
            "{\"version\":1,\"targets\":{\"t\":{\"a\":{\"se",
        )
        .unwrap();
        let err = file.load("t", NOW).unwrap_err();
        assert!(matches!(err, PaceFileError::Damaged { .. }), "{err}");
        assert!(
            err.to_string().contains("rewritten by the next run"),
            "{err}"
        );
        let saved = file.record("t", &learned(&[("a", 2.0)]), NOW);
        assert!(matches!(saved, Err(PaceFileError::Damaged { .. })));
        assert_eq!(file.load("t", NOW).unwrap()["a"], Duration::from_secs(2));
        // Nonsense values are not guesses.
        std::fs::write(
            file.path(),
            r#"{"version":1,"targets":{"t":{"a":{"secs":-1,"at":1800000000}}}}"#,
        )
        .unwrap();
        assert!(file.load("t", NOW).unwrap().is_empty());
    }

    #[test]
    fn concurrent_runs_leave_a_whole_file_with_every_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let writers: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let file = PaceFile::in_dir(&path);
                    for round in 0..20 {
                        let secs = 1.0 + f64::from(round);
                        file.record(&format!("target {i}"), &learned(&[("a", secs)]), NOW)
                            .unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let file = PaceFile::in_dir(&path);
        for i in 0..8 {
            let got = file.load(&format!("target {i}"), NOW).unwrap();
            assert!(got.contains_key("a"), "target {i} lost: {got:?}");
        }
        let left: Vec<_> = std::fs::read_dir(&path)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
