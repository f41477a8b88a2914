//! The simulator's front and state: one organisation behind a lock, the checks every
//! request passes before the directory sees it (the API key or a service account's token
//! and its role, `x-org-id`, injected faults, the JSON body), the simulator's own control
//! routes (`/sandbox/...`) and persistence.
//!
//! # Layout
//! - this file: [`Simulator`], [`Incoming`], admission and dispatch.
//! - [`persist`]: the snapshot and change log behind [`SnapshotStore`].
//! - [`server`]: the HTTP front and [`RunningSimulator`].

mod persist;
mod server;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

pub use persist::{Persistent, SnapshotStore};
pub use server::RunningSimulator;

use crate::{ApiError, Directory, Faults, Reply, Request, directory, oauth};
use persist::{Change, MIN_LOG_BYTES, Persisted, change_time, is_read_only};

/// A request as it reaches the simulator's front, from HTTP or in process: the parts
/// [`Simulator::exchange`] checks before the directory sees it.
#[derive(Debug)]
pub struct Incoming<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Vec<(String, String)>,
    /// The `x-api-key` header, if any.
    pub api_key: Option<&'a [u8]>,
    /// The `Authorization` header, if any (a service account's bearer token, or HTTP Basic
    /// on the token endpoint).
    pub authorization: Option<&'a [u8]>,
    /// The `x-org-id` header, if any.
    pub org: Option<&'a [u8]>,
    /// The raw body; empty means none.
    pub body: &'a [u8],
}

/// The simulator server's shared state.
pub struct Simulator {
    directory: Mutex<Directory>,
    seed: Directory,
    api_key: String,
    accounts: oauth::Accounts,
    faults: Faults,
    rng: Mutex<fastrand::Rng>,
    persist: Option<Arc<dyn SnapshotStore>>,
    persisted: Mutex<Persisted>,
    /// [`MIN_LOG_BYTES`]; smaller in tests.
    min_log_bytes: usize,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

/// Directory Insights keeps 90 days; the simulator keeps this many events.
const MAX_EVENTS: usize = 50_000;
/// Messages the mail outbox keeps.
const MAX_OUTBOX: usize = 10_000;

impl Simulator {
    /// A simulator over `seed`, accepting `api_key`. With `persist`, the directory is loaded
    /// from it (the snapshot, then the logged changes replayed) and every change is logged.
    pub fn new(
        seed: Directory,
        api_key: impl Into<String>,
        faults: Faults,
        persist: Option<Arc<dyn SnapshotStore>>,
    ) -> Result<Simulator, String> {
        let (snapshot, changes) = match &persist {
            Some(p) => p.load()?,
            None => (None, Vec::new()),
        };
        let directory = match &snapshot {
            Some(bytes) => serde_json::from_slice(bytes)
                .map_err(|e| format!("the sandbox directory in the data dir is unreadable: {e}"))?,
            None => seed.clone(),
        };
        let snapshot_bytes = snapshot.as_ref().map_or(0, Vec::len);
        let simulator = Simulator::build(directory, seed, api_key.into(), faults, persist);
        simulator
            .persisted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot_bytes = snapshot_bytes;
        if !changes.is_empty() {
            let mut d = simulator.lock();
            let mut failed = 0;
            for (i, bytes) in changes.iter().enumerate() {
                let change: Change = serde_json::from_slice(bytes).map_err(|e| {
                    format!(
                        "the sandbox's change log in the data dir is unreadable (entry {i}): {e}"
                    )
                })?;
                // A change that fails on replay failed no differently when it was made
                // (changes are logged only when they succeeded), so this is not expected;
                // the rest of the log still applies.
                let at = chrono::DateTime::from_timestamp_micros(change.at).ok_or_else(|| {
                    format!("the sandbox's change log in the data dir is unreadable (entry {i}): bad time")
                })?;
                if let Err(e) = directory::at_time(at, || simulator.apply(&mut d, &change.request))
                {
                    failed += 1;
                    tracing::warn!(
                        "the sandbox's logged change {} {} did not replay: {e}",
                        change.request.method,
                        change.request.path
                    );
                }
            }
            if failed == 0 {
                // Fold the log into a snapshot so the next start reads one document.
                simulator.save(&d)?;
            } else {
                // Keep the log as it is for now; the next change writes what this process
                // holds as a new snapshot, so no later change lands on a gap.
                let mut persisted = simulator
                    .persisted
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                persisted.must_fold = true;
            }
        }
        Ok(simulator)
    }

    /// A simulator over `seed` kept in memory only (nothing to load, so nothing can fail):
    /// what tests and the SDK's native test host use.
    pub fn in_memory(seed: Directory, api_key: impl Into<String>, faults: Faults) -> Simulator {
        Simulator::build(seed.clone(), seed, api_key.into(), faults, None)
    }

    fn build(
        directory: Directory,
        seed: Directory,
        api_key: String,
        faults: Faults,
        persist: Option<Arc<dyn SnapshotStore>>,
    ) -> Simulator {
        let rng = faults
            .seed
            .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        Simulator {
            directory: Mutex::new(directory),
            seed,
            api_key,
            accounts: oauth::Accounts::default(),
            faults,
            rng: Mutex::new(rng),
            persist,
            persisted: Mutex::new(Persisted {
                snapshot_bytes: 0,
                log_bytes: 0,
                must_fold: false,
            }),
            min_log_bytes: MIN_LOG_BYTES,
        }
    }

    /// The organisation id (for `x-org-id`).
    pub fn org_id(&self) -> String {
        self.lock().org_id.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Directory> {
        self.directory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the directory (tests, the simulator's own control routes).
    pub fn with_directory<T>(&self, f: impl FnOnce(&mut Directory) -> T) -> T {
        f(&mut self.lock())
    }

    /// The mail outbox, oldest first (what `GET /sandbox/mail` answers).
    pub fn outbox(&self) -> Vec<Value> {
        self.lock().outbox.clone()
    }

    /// Puts the directory back to its seed.
    pub fn reset(&self) -> Result<(), String> {
        let mut d = self.lock();
        *d = self.seed.clone();
        self.save(&d)
    }

    /// Handles one request already parsed (no HTTP): what the server does after auth and
    /// faults. Changes are persisted before the reply is returned.
    pub fn dispatch(&self, req: &Request) -> Result<Reply, ApiError> {
        let mut d = self.lock();
        let at = change_time();
        let (reply, changed) = directory::at_time(at, || self.apply(&mut d, req))?;
        if changed {
            let replaced = req.method == "POST" && req.path == "/sandbox/reset";
            self.persist_change(&d, req, at, replaced)?;
        }
        Ok(reply)
    }

    /// Applies one request to `d`: serving a request and replaying a logged one alike.
    /// Says whether the directory changed.
    fn apply(&self, d: &mut Directory, req: &Request) -> Result<(Reply, bool), ApiError> {
        if let Some(rest) = req.path.strip_prefix("/sandbox/") {
            return self.control(d, req, rest);
        }
        let events = d.events.len();
        let (counter, next_uid) = (d.counter, d.next_uid);
        // A refused request leaves no trace, not even an id or uid it drew before failing
        // (the change log replays only what succeeded).
        let reply = d.handle(req).inspect_err(|_| {
            d.counter = counter;
            d.next_uid = next_uid;
        })?;
        // Any request that may write counts, not only those that drew an id or raised an
        // event (deleting an SSH key does neither); a read that happens to be a POST
        // (searches, Directory Insights queries) does not.
        let changed = d.counter != counter || d.events.len() != events || !is_read_only(req);
        if d.events.len() > MAX_EVENTS {
            let excess = d.events.len() - MAX_EVENTS;
            d.events.drain(..excess);
        }
        Ok((reply, changed))
    }

    fn control(
        &self,
        d: &mut Directory,
        req: &Request,
        rest: &str,
    ) -> Result<(Reply, bool), ApiError> {
        let segs: Vec<&str> = rest.split('/').collect();
        let reply = match (req.method.as_str(), segs.as_slice()) {
            // The mail outbox: where the workflows' email steps land when the simulator stands
            // in for the organisation (the built-in `sandbox-mail` connector).
            ("GET", ["mail"]) => {
                return Ok((Reply::ok(Value::Array(d.outbox.clone())), false));
            }
            ("POST", ["mail", "send"]) => {
                let Some(Value::Object(mut msg)) = req.body.clone() else {
                    return Err(ApiError::bad_request("a JSON object is required"));
                };
                if !msg.get("to").is_some_and(Value::is_array) {
                    return Err(ApiError::bad_request("`to` must be a list of addresses"));
                }
                d.counter += 1;
                let id = format!("msg-{:06}", d.counter);
                msg.insert("id".into(), json!(id));
                msg.insert(
                    "received_at".into(),
                    json!(directory::rfc3339(directory::now())),
                );
                d.outbox.push(Value::Object(msg));
                if d.outbox.len() > MAX_OUTBOX {
                    let excess = d.outbox.len() - MAX_OUTBOX;
                    d.outbox.drain(..excess);
                }
                Reply {
                    status: 202,
                    body: Some(json!({"id": id})),
                    headers: Vec::new(),
                }
            }
            ("POST", ["reset"]) => {
                *d = self.seed.clone();
                Reply {
                    status: 204,
                    body: None,
                    headers: Vec::new(),
                }
            }
            ("POST", ["users", id, "lockout"]) => d.lockout(id)?,
            _ => return Err(ApiError::not_found("route")),
        };
        Ok((reply, true))
    }

    fn fault(&self) -> Option<u16> {
        if self.faults.statuses.is_empty() {
            return None;
        }
        let roll = self.rng.lock().unwrap_or_else(|p| p.into_inner()).f64();
        let mut acc = 0.0;
        for (status, p) in &self.faults.statuses {
            acc += p;
            if roll < acc {
                return Some(*status);
            }
        }
        None
    }

    /// The simulator with these service accounts (`ID:SECRET[:ROLE]` merged, see
    /// [`oauth::ServiceAccount`]), whose tokens live `token_ttl`.
    pub fn with_service_accounts(
        mut self,
        accounts: Vec<oauth::ServiceAccount>,
        token_ttl: Duration,
    ) -> Simulator {
        self.accounts = oauth::Accounts::new(accounts, token_ttl);
        self
    }

    /// Everything in front of [`Simulator::dispatch`], the same whether the request came over
    /// HTTP or in process: the configured latency, the token endpoint, the `x-api-key` or
    /// bearer token check (a token's role bounds the call), the `x-org-id` rules, injected
    /// faults and the JSON body. A request refused here gets its reply.
    async fn admit(&self, incoming: Incoming<'_>) -> Result<Request, Reply> {
        let Incoming {
            method,
            path,
            query,
            api_key,
            authorization,
            org,
            body,
        } = incoming;
        if !self.faults.latency.is_zero() {
            tokio::time::sleep(self.faults.latency).await;
        }
        if path == oauth::TOKEN_PATH {
            if method != "POST" {
                return Err(ApiError::new(405, "METHOD_NOT_ALLOWED", "use POST").into());
            }
            return Err(self.accounts.token(authorization, body));
        }
        if api_key != Some(self.api_key.as_bytes()) {
            let Some(authorization) = authorization.filter(|_| api_key.is_none()) else {
                return Err(ApiError::new(
                    401,
                    "UNAUTHENTICATED",
                    "Unauthorized: a valid x-api-key header or bearer token is required",
                )
                .into());
            };
            let role = self.accounts.role_of(authorization)?;
            oauth::authorize(role, method, path, &query, body)?;
        } else if method == "GET" && path == oauth::ACCOUNTS_PATH {
            return Err(self.accounts.listing());
        }
        if let Some(org) = org {
            let org = std::str::from_utf8(org).unwrap_or_default();
            if org.len() != 24 || !org.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ApiError::bad_request("Malformed ID").into());
            }
            if org != self.org_id() {
                return Err(ApiError::new(404, "NOT_FOUND", "Organization ID not found").into());
            }
        }
        if let Some(status) = self.fault() {
            let mut r: Reply = if status == 429 {
                ApiError::new(status, "RESOURCE_EXHAUSTED", "Too Many Requests")
            } else {
                ApiError::new(status, "UNAVAILABLE", "injected fault")
            }
            .into();
            if status == 429 {
                r.headers
                    .push(("retry-after".into(), self.faults.retry_after.to_string()));
            }
            return Err(r);
        }
        let body = if body.is_empty() {
            None
        } else {
            match serde_json::from_slice(body) {
                Ok(v) => Some(v),
                Err(e) => {
                    return Err(ApiError::bad_request(format!("the body is not JSON: {e}")).into());
                }
            }
        };
        Ok(Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            body,
        })
    }

    /// One request in process, as the HTTP front would answer it but without the wire:
    /// the embedded simulator's transport (see `JumpCloudClient::in_process`). The request
    /// is handled on the caller's thread (it takes microseconds; the occasional snapshot
    /// of the whole organisation moves off the async worker, see [`blocking`]); a panic
    /// in a handler is a 500, as over HTTP.
    pub async fn exchange(&self, incoming: Incoming<'_>) -> Reply {
        match self.admit(incoming).await {
            Ok(req) => {
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.dispatch(&req)))
                {
                    Ok(result) => result.unwrap_or_else(Reply::from),
                    Err(_) => {
                        ApiError::new(500, "INTERNAL", "the sandbox failed handling the request")
                            .into()
                    }
                }
            }
            Err(reply) => reply,
        }
    }
}

#[cfg(test)]
mod tests;
