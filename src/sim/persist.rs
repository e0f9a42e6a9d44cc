//! `--state FILE`: the simulator's world as a JSON file, so a restart loses nothing.
//!
//! It owns loading (a missing file is a fresh world; a corrupt one is an error naming the file
//! and how to start over) and atomic saving (write a temporary file beside the target, fsync,
//! rename over it, fsync the directory), so a crash mid-save leaves the previous state intact.
//! Saves are ordered by a generation number: a snapshot taken earlier never overwrites a later
//! one, even when two requests finish out of order. It must not decide *when* to save (the
//! server does: after every action whose registry effect is not `Read`, and at shutdown).

use super::model::World;
use anyhow::{Context, Result};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Reads the world from `path`; `Ok(None)` when the file does not exist yet.
pub fn load(path: &Path) -> Result<Option<World>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| {
                format!("cannot read the simulator state file {}", path.display())
            })
        }
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        anyhow::anyhow!(
            "the simulator state file {} is corrupt or from an incompatible version ({e}); \
             move it away or delete it to start with an empty simulator",
            path.display()
        )
    })
}

/// Serializes the world (call while holding the world's lock; writing happens later).
pub fn snapshot(world: &World) -> Result<Vec<u8>> {
    serde_json::to_vec(world).context("cannot serialize the simulator state")
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("the state file path {} has no file name", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // The rename is durable only once the directory entry is.
        File::open(&dir)?.sync_all()
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        anyhow::anyhow!("cannot save the simulator state to {}: {e}", path.display())
    })
}

/// Where and in which order snapshots are written.
pub struct StateFile {
    path: PathBuf,
    /// The generation of the newest snapshot on disk.
    written: Mutex<u64>,
}

impl StateFile {
    pub fn new(path: PathBuf) -> StateFile {
        StateFile {
            path,
            written: Mutex::new(0),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes snapshot `generation` unless a newer one is already on disk.
    pub fn save(&self, generation: u64, bytes: &[u8]) -> Result<()> {
        let mut written = self
            .written
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if generation <= *written {
            return Ok(());
        }
        write_atomically(&self.path, bytes)?;
        *written = generation;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_fresh_and_corrupt_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert!(load(&path).unwrap().is_none());
        fs::write(&path, b"{ not json").unwrap();
        let Err(e) = load(&path) else {
            panic!("a corrupt file must not load")
        };
        let e = e.to_string();
        assert!(e.contains("state.json") && e.contains("delete it"), "{e}");
    }

    #[test]
    fn saves_are_atomic_round_trips_and_never_go_back_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("s.json"));
        let world = World::default();
        let snap = snapshot(&world).unwrap();
        file.save(2, &snap).unwrap();
        assert!(load(file.path()).unwrap().is_some());
        file.save(1, b"older").unwrap();
        assert_eq!(
            fs::read(file.path()).unwrap(),
            snap,
            "an older snapshot was skipped"
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn unwritable_paths_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_atomically(&dir.path().join("no/such/dir/s.json"), b"{}").unwrap_err();
        assert!(e.to_string().contains("cannot save"), "{e}");
    }
}
