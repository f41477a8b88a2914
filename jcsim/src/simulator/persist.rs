//! Keeping the directory between runs: a snapshot plus a log of changes, so consecutive
//! runs of the embedded simulator see each other's changes without rewriting the whole
//! organisation on every call.

use serde_json::{Value, json};

use super::Simulator;
use crate::{ApiError, Directory, Request};

/// Where an embedded simulator keeps its directory between runs: a snapshot of the whole
/// directory and a log of the changes made since. Each change appends one entry (a cost
/// that does not grow with the organisation); the snapshot is rewritten only once the log
/// outweighs it, and after a restart has replayed the log.
pub trait SnapshotStore: Send + Sync {
    /// The last snapshot, if any, and the changes logged after it, oldest first.
    fn load(&self) -> Result<Persistent, String>;
    /// Replaces the snapshot and drops the logged changes, atomically (they are in it).
    fn save(&self, snapshot: &[u8]) -> Result<(), String>;
    /// Logs one change after the snapshot.
    fn append(&self, change: &[u8]) -> Result<(), String>;
}

/// What a [`SnapshotStore`] holds: the snapshot, if any, and the changes logged after it.
pub type Persistent = (Option<Vec<u8>>, Vec<Vec<u8>>);

/// One logged change: the request and the time it was handled at (microseconds since
/// the epoch), enough to replay it.
#[derive(serde::Deserialize)]
pub(super) struct Change {
    pub(super) at: i64,
    pub(super) request: Request,
}

/// A [`Change`] as written.
#[derive(serde::Serialize)]
struct ChangeRef<'a> {
    at: i64,
    request: &'a Request,
}

/// Now, at the change log's precision (so a replay sets exactly the same timestamps).
pub(super) fn change_time() -> chrono::DateTime<chrono::Utc> {
    let micros = chrono::Utc::now().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros).unwrap_or_else(chrono::Utc::now)
}

/// Sizes of what is persisted, to decide when the log is rewritten as a snapshot.
#[derive(Debug, Default)]
pub(super) struct Persisted {
    pub(super) snapshot_bytes: usize,
    pub(super) log_bytes: usize,
    /// A change was not persisted (the store failed, or a logged change did not replay):
    /// the next change writes a whole snapshot instead of leaving a gap in the log.
    pub(super) must_fold: bool,
}

/// Requests that change nothing: reads, searches and Directory Insights queries.
pub(super) fn is_read_only(req: &Request) -> bool {
    req.method == "GET"
        || (req.method == "POST"
            && (req.path.starts_with("/api/search/") || req.path.starts_with("/insights/")))
}

/// What a logged request keeps of a password: the simulator checks only that one was given
/// and that it meets the policy, and a password must never rest on disk.
const LOGGED_PASSWORD: &str = "Redacted-in-the-log-1!";

/// `req` as the change log keeps it: any password replaced.
fn loggable(req: &Request) -> std::borrow::Cow<'_, Request> {
    match &req.body {
        Some(Value::Object(m)) if m.contains_key("password") => {
            let mut r = req.clone();
            if let Some(Value::Object(m)) = &mut r.body {
                m.insert("password".into(), json!(LOGGED_PASSWORD));
            }
            std::borrow::Cow::Owned(r)
        }
        _ => std::borrow::Cow::Borrowed(req),
    }
}

/// The log is folded into a new snapshot once it outweighs the snapshot and this.
pub(super) const MIN_LOG_BYTES: usize = 4 << 20;

impl Simulator {
    /// Writes the whole directory as the snapshot (dropping the change log).
    pub(super) fn save(&self, d: &Directory) -> Result<(), String> {
        let Some(p) = &self.persist else {
            return Ok(());
        };
        let bytes = serde_json::to_vec(d).map_err(|e| e.to_string())?;
        p.save(&bytes)?;
        *self.persisted.lock().unwrap_or_else(|p| p.into_inner()) = Persisted {
            snapshot_bytes: bytes.len(),
            log_bytes: 0,
            must_fold: false,
        };
        Ok(())
    }

    /// Persists a change just made to `d` by `req` at `at`: one log entry, or a new
    /// snapshot when the log has grown past it (or the change replaced the directory).
    pub(super) fn persist_change(
        &self,
        d: &Directory,
        req: &Request,
        at: chrono::DateTime<chrono::Utc>,
        replaced: bool,
    ) -> Result<(), ApiError> {
        let Some(p) = &self.persist else {
            return Ok(());
        };
        let saving = |e: String| {
            // The directory in memory has the change and the store does not: the next
            // change writes everything.
            self.persisted
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .must_fold = true;
            ApiError::new(500, "INTERNAL", format!("saving: {e}"))
        };
        let fold = {
            let persisted = self.persisted.lock().unwrap_or_else(|p| p.into_inner());
            // The first change also writes a snapshot: a log always applies to a snapshot
            // written by this build, never to the seed of whichever build starts next.
            replaced
                || persisted.must_fold
                || persisted.snapshot_bytes == 0
                || persisted.log_bytes > persisted.snapshot_bytes.max(self.min_log_bytes)
        };
        if fold {
            return blocking(|| self.save(d)).map_err(saving);
        }
        let entry = serde_json::to_vec(&ChangeRef {
            at: at.timestamp_micros(),
            request: &loggable(req),
        })
        .map_err(|e| saving(e.to_string()))?;
        p.append(&entry).map_err(saving)?;
        self.persisted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .log_bytes += entry.len();
        Ok(())
    }
}

/// Runs `f`, which may block for a while (writing a snapshot of the whole organisation),
/// without holding up an async worker when called on one: the in-process transport handles
/// requests on the caller's thread. Elsewhere (a blocking thread, a current-thread
/// runtime, no runtime) it simply runs `f`.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}
