//! Outcomes of actions that ran, kept on disk (`STATE_DIR`) until the approval API
//! has them.
//!
//! Why: an action that ran but whose EXECUTED / FAILED report did not get through
//! (the API still down when the processor stopped, a proxy's 408, a crash between
//! the two) used to end FAILED "interrupted" on the next attempt — "it may or may
//! not have run" — which invites a person to run it a second time. Now the outcome
//! is written before it is reported (atomically: a temporary file, fsynced, renamed,
//! the directory fsynced) and removed only once the API has it. The next attempt at
//! the request, in this process or after a restart, reports the stored outcome under
//! the attempt that ran it instead of beginning again (see [`crate::process`]).
//!
//! One file per request, `<request id>.json`: request ids are 1–64 characters of
//! `A-Z a-z 0-9 - _` (the API's rule), so an id names a file as it is.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use approvals::RequestId;
use chrono::{DateTime, Utc};
use kit::{Classify, ErrorClass};
use serde::{Deserialize, Serialize};

use crate::api::Outcome;

/// An action's outcome, as it will be reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOutcome {
    pub request_id: String,
    /// The attempt that recorded EXECUTING and ran the action: the API records the
    /// outcome only for it.
    pub attempt_id: String,
    pub outcome: Outcome,
    pub output: String,
    pub finished_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum OutcomeStoreError {
    #[error("cannot {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Never written by us whole (the writes are atomic): a person edited or damaged
    /// it. Moved aside, for a person to read.
    #[error("{path} is not a stored outcome; moved aside to {aside}: {source}")]
    Unreadable {
        path: PathBuf,
        aside: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("a request id that cannot name a file (the API's rule: 1-64 of A-Z a-z 0-9 - _)")]
    UnsafeId,
    #[error("the state directory task did not finish: {0}")]
    Task(String),
}

impl Classify for OutcomeStoreError {
    fn class(&self) -> ErrorClass {
        match self {
            // A full disk or a permission fixed by a person: worth trying again.
            OutcomeStoreError::Io { .. } | OutcomeStoreError::Task(_) => ErrorClass::Retryable,
            OutcomeStoreError::Unreadable { .. } | OutcomeStoreError::UnsafeId => ErrorClass::Permanent,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            OutcomeStoreError::Io { .. } => "state_io",
            OutcomeStoreError::Unreadable { .. } => "state_unreadable",
            OutcomeStoreError::UnsafeId => "state_unsafe_id",
            OutcomeStoreError::Task(_) => "state_task",
        }
    }
}

/// The directory of stored outcomes. Cheap to clone (a path).
#[derive(Debug, Clone)]
pub struct OutcomeStore {
    dir: PathBuf,
}

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> OutcomeStoreError + use<> {
    let path = path.to_owned();
    move |source| OutcomeStoreError::Io { op, path, source }
}

impl OutcomeStore {
    /// Opens (creates) the directory and proves it writable with a durable write,
    /// so a processor that could not keep an outcome refuses to start. Leftover
    /// temporary files (a crash mid-write: never renamed, so never an outcome) go.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, OutcomeStoreError> {
        let store = Self { dir: dir.into() };
        std::fs::create_dir_all(&store.dir).map_err(io("create", &store.dir))?;
        for entry in std::fs::read_dir(&store.dir).map_err(io("read", &store.dir))? {
            let path = entry.map_err(io("read", &store.dir))?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                std::fs::remove_file(&path).map_err(io("remove", &path))?;
            }
        }
        let probe = store.dir.join(".writable");
        write_durably(&store.dir, &probe, b"ok")?;
        std::fs::remove_file(&probe).map_err(io("remove", &probe))?;
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, request_id: &str) -> Result<PathBuf, OutcomeStoreError> {
        let id = RequestId::parse(request_id).ok_or(OutcomeStoreError::UnsafeId)?;
        Ok(self.dir.join(format!("{}.json", id.as_str())))
    }

    /// The request ids with an outcome waiting to be reported.
    pub fn pending(&self) -> Result<Vec<String>, OutcomeStoreError> {
        let mut ids = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io("read", &self.dir))? {
            let path = entry.map_err(io("read", &self.dir))?.path();
            if path.extension().is_some_and(|e| e == "json") {
                if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                    ids.push(stem.to_owned());
                }
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Keeps the outcome durably (it survives a crash or power loss once this
    /// returns), replacing any earlier one for the request.
    pub async fn save(&self, outcome: &StoredOutcome) -> Result<(), OutcomeStoreError> {
        let path = self.path(&outcome.request_id)?;
        let body = serde_json::to_vec_pretty(outcome).map_err(|e| OutcomeStoreError::Task(e.to_string()))?;
        let dir = self.dir.clone();
        blocking(move || write_durably(&dir, &path, &body)).await
    }

    /// The outcome waiting for this request, if any. A file that is not one is
    /// moved aside (and the error says where).
    pub async fn load(&self, request_id: &str) -> Result<Option<StoredOutcome>, OutcomeStoreError> {
        // Nothing can have been saved under an id that cannot name a file.
        let Ok(path) = self.path(request_id) else { return Ok(None) };
        blocking(move || {
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io("read", &path)(e)),
            };
            match serde_json::from_slice(&bytes) {
                Ok(outcome) => Ok(Some(outcome)),
                Err(source) => {
                    let aside = path.with_extension("json.unreadable");
                    std::fs::rename(&path, &aside).map_err(io("move aside", &path))?;
                    Err(OutcomeStoreError::Unreadable { path, aside, source })
                }
            }
        })
        .await
    }

    /// Forgets the request's outcome (the API has it); no outcome is no error.
    pub async fn remove(&self, request_id: &str) -> Result<(), OutcomeStoreError> {
        let Ok(path) = self.path(request_id) else { return Ok(()) };
        let dir = self.dir.clone();
        blocking(move || {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(io("remove", &path)(e)),
            }
            sync_dir(&dir)
        })
        .await
    }
}

/// File work off the async workers: an fsync can take a while.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, OutcomeStoreError> + Send + 'static,
) -> Result<T, OutcomeStoreError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| OutcomeStoreError::Task(e.to_string()))?
}

/// Temporary file, fsync, rename over `path`, fsync the directory: after a crash
/// the file is the old one or the new one, whole, never half of either.
fn write_durably(dir: &Path, path: &Path, body: &[u8]) -> Result<(), OutcomeStoreError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    // Owner only: an action's output may say more about the site than others should read.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io("create", &tmp))?;
    file.write_all(body).map_err(io("write", &tmp))?;
    file.sync_all().map_err(io("fsync", &tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io("rename", &tmp))?;
    sync_dir(dir)
}

/// Makes a rename or removal in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), OutcomeStoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io("fsync", dir))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn temp() -> PathBuf {
        std::env::temp_dir().join(format!("processor-outcomes-{}", uuid::Uuid::new_v4()))
    }

    /// A store in a fresh temporary directory, for the other modules' tests.
    pub(crate) fn temp_store() -> OutcomeStore {
        OutcomeStore::open(temp()).unwrap()
    }

    fn outcome(id: &str) -> StoredOutcome {
        StoredOutcome {
            request_id: id.into(),
            attempt_id: "a1".into(),
            outcome: Outcome::Executed,
            output: "restarted".into(),
            finished_at: "2024-06-01T12:00:00Z".parse().unwrap(),
        }
    }

    #[tokio::test]
    async fn an_outcome_is_kept_across_a_reopen_until_removed() {
        let dir = temp();
        let store = OutcomeStore::open(&dir).unwrap();
        assert_eq!(store.load("r1").await.unwrap(), None);
        store.save(&outcome("r1")).await.unwrap();
        // A restart: a new store over the same directory.
        let store = OutcomeStore::open(&dir).unwrap();
        assert_eq!(store.pending().unwrap(), ["r1"]);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("r1.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the owner's only");
        assert_eq!(store.load("r1").await.unwrap(), Some(outcome("r1")));
        store.remove("r1").await.unwrap();
        store.remove("r1").await.unwrap();
        assert_eq!(store.load("r1").await.unwrap(), None);
        assert!(store.pending().unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_half_write_is_never_an_outcome_and_a_damaged_file_is_moved_aside() {
        let dir = temp();
        std::fs::create_dir_all(&dir).unwrap();
        // A crash mid-write leaves only the temporary file: swept at open.
        std::fs::write(dir.join("r1.json.tmp"), b"{\"request_id\":").unwrap();
        std::fs::write(dir.join("r2.json"), b"not json").unwrap();
        let store = OutcomeStore::open(&dir).unwrap();
        assert_eq!(store.load("r1").await.unwrap(), None);
        assert!(!dir.join("r1.json.tmp").exists());
        let e = store.load("r2").await.unwrap_err();
        assert_eq!(e.kind(), "state_unreadable");
        assert!(dir.join("r2.json.unreadable").exists(), "kept for a person");
        assert_eq!(store.load("r2").await.unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn an_id_that_could_leave_the_directory_is_refused() {
        let dir = temp();
        let store = OutcomeStore::open(&dir).unwrap();
        for id in ["../r1", "", "a/b", "x".repeat(65).as_str()] {
            assert_eq!(store.save(&outcome(id)).await.unwrap_err().kind(), "state_unsafe_id", "{id}");
            assert_eq!(store.load(id).await.unwrap(), None, "nothing can be kept under it");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_that_cannot_be_written_is_refused_at_open() {
        let dir = temp();
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a-file");
        std::fs::write(&file, b"").unwrap();
        let e = OutcomeStore::open(file.join("state")).unwrap_err();
        assert_eq!(e.kind(), "state_io", "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
