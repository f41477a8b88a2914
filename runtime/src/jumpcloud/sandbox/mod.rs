//! The local JumpCloud sandbox: an HTTP server speaking the subset of JumpCloud's v1, v2
//! and Directory Insights APIs that workflows use, with JumpCloud's shapes and status
//! codes, over an in-memory organisation seeded from a file (or the built-in default).
//!
//! It is what demos, dry runs and every test run against; when no API key is configured,
//! the runtime starts one embedded (its directory kept in the data dir) and points its
//! JumpCloud broker at it.
//!
//! # Layout
//! - [`directory`]: the organisation, the graph, the request handlers and DI events.
//! - [`query`]: `filter`/`sort`/`fields`/paging as JumpCloud parses them.
//! - [`seed`]: seed files and the default organisation.
//! - [`oauth`]: service accounts: the token endpoint, bearer tokens and their roles.
//! - this file: the server (auth, `x-org-id` rules, fault injection, persistence).

pub mod directory;
pub mod oauth;
pub mod query;
pub mod seed;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

pub use directory::{Directory, Reply, Request};

/// An API error, rendered as JumpCloud's `{code, message, status}` error body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Reply {
        Reply {
            status: e.status,
            body: Some(e.body()),
            headers: Vec::new(),
        }
    }
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "INVALID_ARGUMENT", message)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(404, "NOT_FOUND", format!("{what} not found"))
    }

    /// The JSON error body JumpCloud sends.
    pub fn body(&self) -> Value {
        let mut b = json!({"code": self.status, "message": self.message, "status": self.code});
        if let Some(d) = &self.details {
            b["details"] = d.clone();
        }
        b
    }
}

/// Injected faults: a share of requests answered with an error status before they reach
/// the directory (so a faulted request changed nothing), and added latency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// `(status, probability)`, e.g. `(429, 0.1)`.
    pub statuses: Vec<(u16, f64)>,
    pub latency: Duration,
    /// The `Retry-After` seconds sent with a 429.
    pub retry_after: u64,
    /// Seeds the fault dice, so a run's sequence of faults can be reproduced.
    pub seed: Option<u64>,
}

impl Faults {
    /// Parses `429=0.1,503=0.1,latency=5ms,retry-after=1,seed=7`.
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut f = Faults {
            retry_after: 1,
            ..Default::default()
        };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: expected KEY=VALUE"))?;
            match k {
                "latency" => {
                    f.latency =
                        humantime::parse_duration(v).map_err(|e| format!("latency `{v}`: {e}"))?
                }
                "seed" => {
                    f.seed = Some(
                        v.parse()
                            .map_err(|_| format!("seed `{v}`: expected a whole number"))?,
                    )
                }
                "retry-after" => {
                    f.retry_after = v
                        .parse()
                        .map_err(|_| format!("retry-after `{v}`: expected whole seconds"))?
                }
                status => {
                    let code: u16 = status
                        .parse()
                        .ok()
                        .filter(|c| matches!(c, 429 | 500 | 502 | 503 | 504))
                        .ok_or_else(|| {
                            format!("`{status}`: expected 429, 500, 502, 503, 504, latency, retry-after or seed")
                        })?;
                    let p: f64 = v
                        .parse()
                        .ok()
                        .filter(|p: &f64| (0.0..=1.0).contains(p))
                        .ok_or_else(|| format!("`{part}`: a rate between 0 and 1"))?;
                    f.statuses.push((code, p));
                }
            }
        }
        let total: f64 = f.statuses.iter().map(|(_, p)| p).sum();
        if total > 1.0 {
            return Err(format!("fault rates add up to {total}, more than 1"));
        }
        Ok(f)
    }
}

/// Where an embedded sandbox keeps its directory between runs: a snapshot of the whole
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
struct Change {
    at: i64,
    request: Request,
}

/// A [`Change`] as written.
#[derive(serde::Serialize)]
struct ChangeRef<'a> {
    at: i64,
    request: &'a Request,
}

/// Now, at the change log's precision (so a replay sets exactly the same timestamps).
fn change_time() -> chrono::DateTime<chrono::Utc> {
    let micros = chrono::Utc::now().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros).unwrap_or_else(chrono::Utc::now)
}

/// Sizes of what is persisted, to decide when the log is rewritten as a snapshot.
#[derive(Debug, Default)]
struct Persisted {
    snapshot_bytes: usize,
    log_bytes: usize,
    /// A change was not persisted (the store failed, or a logged change did not replay):
    /// the next change writes a whole snapshot instead of leaving a gap in the log.
    must_fold: bool,
}

/// Requests that change nothing: reads, searches and Directory Insights queries.
fn is_read_only(req: &Request) -> bool {
    req.method == "GET"
        || (req.method == "POST"
            && (req.path.starts_with("/api/search/") || req.path.starts_with("/insights/")))
}

/// What a logged request keeps of a password: the sandbox checks only that one was given
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
const MIN_LOG_BYTES: usize = 4 << 20;

/// A request as it reaches the sandbox's front, from HTTP or in process: the parts
/// [`Sandbox::exchange`] checks before the directory sees it.
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

/// The sandbox server's shared state.
pub struct Sandbox {
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

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

/// Directory Insights keeps 90 days; the sandbox keeps this many events.
const MAX_EVENTS: usize = 50_000;
/// Messages the mail outbox keeps.
const MAX_OUTBOX: usize = 10_000;

impl Sandbox {
    /// A sandbox over `seed`, accepting `api_key`. With `persist`, the directory is loaded
    /// from it (the snapshot, then the logged changes replayed) and every change is logged.
    pub fn new(
        seed: Directory,
        api_key: impl Into<String>,
        faults: Faults,
        persist: Option<Arc<dyn SnapshotStore>>,
    ) -> Result<Sandbox, String> {
        let (snapshot, changes) = match &persist {
            Some(p) => p.load()?,
            None => (None, Vec::new()),
        };
        let directory = match &snapshot {
            Some(bytes) => serde_json::from_slice(bytes)
                .map_err(|e| format!("the sandbox directory in the data dir is unreadable: {e}"))?,
            None => seed.clone(),
        };
        let rng = faults
            .seed
            .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        let sandbox = Sandbox {
            directory: Mutex::new(directory),
            seed,
            api_key: api_key.into(),
            accounts: oauth::Accounts::default(),
            faults,
            rng: Mutex::new(rng),
            persist,
            persisted: Mutex::new(Persisted {
                snapshot_bytes: snapshot.as_ref().map_or(0, Vec::len),
                log_bytes: 0,
                must_fold: false,
            }),
            min_log_bytes: MIN_LOG_BYTES,
        };
        if !changes.is_empty() {
            let mut d = sandbox.lock();
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
                if let Err(e) = directory::at_time(at, || sandbox.apply(&mut d, &change.request)) {
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
                sandbox.save(&d)?;
            } else {
                // Keep the log as it is for now; the next change writes what this process
                // holds as a new snapshot, so no later change lands on a gap.
                let mut persisted = sandbox.persisted.lock().unwrap_or_else(|p| p.into_inner());
                persisted.must_fold = true;
            }
        }
        Ok(sandbox)
    }

    /// The organisation id (for `x-org-id`).
    pub fn org_id(&self) -> String {
        self.lock().org_id.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Directory> {
        self.directory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the directory (tests, the sandbox's own control routes).
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

    /// Writes the whole directory as the snapshot (dropping the change log).
    fn save(&self, d: &Directory) -> Result<(), String> {
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
    fn persist_change(
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
            // The mail outbox: where the workflows' email steps land when the sandbox stands
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

    /// The sandbox with these service accounts (`ID:SECRET[:ROLE]` merged, see
    /// [`oauth::ServiceAccount`]), whose tokens live `token_ttl`.
    pub fn with_service_accounts(
        mut self,
        accounts: Vec<oauth::ServiceAccount>,
        token_ttl: Duration,
    ) -> Sandbox {
        self.accounts = oauth::Accounts::new(accounts, token_ttl);
        self
    }

    /// Everything in front of [`Sandbox::dispatch`], the same whether the request came over
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
    /// the embedded sandbox's transport (see `JumpCloudClient::in_process`). The request
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

    /// The HTTP front: [`Sandbox::admit`], then [`Sandbox::dispatch`] on a blocking thread.
    pub async fn http(
        self: Arc<Self>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let query: Vec<(String, String)> = uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let admitted = self
            .admit(Incoming {
                method: method.as_str(),
                path: uri.path(),
                query,
                api_key: headers.get("x-api-key").map(HeaderValue::as_bytes),
                authorization: headers.get("authorization").map(HeaderValue::as_bytes),
                org: headers.get("x-org-id").map(HeaderValue::as_bytes),
                body: &body,
            })
            .await;
        let req = match admitted {
            Ok(req) => req,
            Err(reply) => return reply_response(reply),
        };
        let this = self.clone();
        let result = tokio::task::spawn_blocking(move || this.dispatch(&req)).await;
        match result {
            Ok(Ok(reply)) => reply_response(reply),
            Ok(Err(e)) => error_response(&e),
            Err(e) => error_response(&ApiError::new(500, "INTERNAL", e.to_string())),
        }
    }

    /// Serves on `listener` until `shutdown` resolves.
    pub async fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let this = self.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let this = this.clone();
                async move { this.http(method, uri, headers, body).await }
            },
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
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

/// A sandbox serving in the background; dropping it stops the server.
#[derive(Debug)]
pub struct RunningSandbox {
    pub addr: std::net::SocketAddr,
    pub sandbox: Arc<Sandbox>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl RunningSandbox {
    /// `http://ADDR`, the base URL a JumpCloud client uses for it.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Sandbox {
    /// Binds `addr` (port 0 for any free port) and serves in a background task of the
    /// current tokio runtime.
    pub fn spawn(self: Arc<Self>, addr: std::net::SocketAddr) -> std::io::Result<RunningSandbox> {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = self.clone();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(e) = server.serve(listener, shutdown).await {
                tracing::error!("the JumpCloud sandbox stopped: {e}");
            }
        });
        Ok(RunningSandbox {
            addr,
            sandbox: self,
            stop: Some(stop),
        })
    }
}

fn json_response(status: u16, body: Option<&Value>) -> Response {
    let mut r = Response::new(match body {
        Some(b) => Body::from(b.to_string()),
        None => Body::empty(),
    });
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if body.is_some() {
        r.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
    }
    r
}

fn reply_response(reply: Reply) -> Response {
    let mut r = json_response(reply.status, reply.body.as_ref());
    for (k, v) in reply.headers {
        if let (Ok(k), Ok(v)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            r.headers_mut().insert(k, v);
        }
    }
    r
}

fn error_response(e: &ApiError) -> Response {
    json_response(e.status, Some(&e.body()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs_parse_or_explain() {
        let f = Faults::parse("429=0.1, 503=0.1,latency=5ms,retry-after=0").unwrap();
        assert_eq!(f.statuses, vec![(429, 0.1), (503, 0.1)]);
        assert_eq!(f.latency, Duration::from_millis(5));
        assert_eq!(f.retry_after, 0);
        assert!(
            Faults::parse("404=0.1")
                .unwrap_err()
                .contains("expected 429")
        );
        assert!(
            Faults::parse("429=2")
                .unwrap_err()
                .contains("between 0 and 1")
        );
        assert!(
            Faults::parse("429=0.6,503=0.6")
                .unwrap_err()
                .contains("more than 1")
        );
        assert!(Faults::parse("latency").is_err());
        assert_eq!(Faults::parse("seed=7").unwrap().seed, Some(7));
        assert!(
            Faults::parse("seed=x")
                .unwrap_err()
                .contains("whole number")
        );
    }

    /// Where two JSON values first differ (a path), if they do.
    fn first_difference(a: &Value, b: &Value) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for k in x.keys().chain(y.keys()) {
                    let (u, v) = (
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                    );
                    if let Some(p) = first_difference(u, v) {
                        return Some(format!(".{k}{p}"));
                    }
                }
                None
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (u, v))| first_difference(u, v).map(|p| format!("[{i}]{p}"))),
            _ => (a != b).then(|| format!(": {a} vs {b}")),
        }
    }

    fn req(method: &str, path: &str, body: Option<Value>) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            query: Vec::new(),
            body,
        }
    }

    #[test]
    fn changes_are_logged_and_a_reopened_sandbox_replays_them_exactly() {
        let store = Arc::new(crate::store::SledStore::temporary().unwrap());
        let open = || {
            Sandbox::new(
                seed::default_directory(),
                "key",
                Faults::default(),
                Some(store.clone() as Arc<dyn SnapshotStore>),
            )
            .unwrap()
        };
        let first = open();
        let created = first
            .dispatch(&req(
                "POST",
                "/api/systemusers",
                Some(json!({"username": "ada", "email": "ada@example.com"})),
            ))
            .unwrap();
        let user = created.body.unwrap()["_id"].as_str().unwrap().to_owned();
        let group = first.with_directory(|d| d.user_groups.keys().next().unwrap().clone());
        first
            .dispatch(&req(
                "POST",
                &format!("/api/v2/usergroups/{group}/members"),
                Some(json!({"op": "add", "type": "user", "id": user})),
            ))
            .unwrap();
        first
            .dispatch(&req(
                "POST",
                "/sandbox/mail/send",
                Some(json!({"to": ["ada@example.com"], "subject": "hi"})),
            ))
            .unwrap();
        first
            .dispatch(&req(
                "POST",
                &format!("/sandbox/users/{user}/lockout"),
                None,
            ))
            .unwrap();
        // A refused change and a read log nothing.
        assert!(
            first
                .dispatch(&req(
                    "POST",
                    "/api/systemusers",
                    Some(json!({"username": "ada", "email": "ada@example.com"})),
                ))
                .is_err()
        );
        first.dispatch(&req("GET", "/sandbox/mail", None)).unwrap();
        // A search is a read; deleting an SSH key draws no id and raises no event, but it
        // is a change; a password never reaches the log.
        first
            .dispatch(&req(
                "POST",
                "/api/search/systemusers",
                Some(json!({"filter": [{"username": "ada"}]})),
            ))
            .unwrap();
        let with_password = first
            .dispatch(&req(
                "POST",
                "/api/systemusers",
                Some(json!({"username": "bob", "email": "bob@example.com", "password": "S3cret!Pass"})),
            ))
            .unwrap();
        let bob = with_password.body.unwrap()["_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let key = first
            .dispatch(&req(
                "POST",
                &format!("/api/systemusers/{bob}/sshkeys"),
                Some(json!({"name": "laptop", "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0ZXN0a2V5Zm9ydGhlc2FuZGJveA== bob@laptop"})),
            ))
            .unwrap();
        let key_id = key.body.unwrap()["_id"].as_str().unwrap().to_owned();
        first
            .dispatch(&req(
                "DELETE",
                &format!("/api/systemusers/{bob}/sshkeys/{key_id}"),
                None,
            ))
            .unwrap();
        let (snapshot, changes) = store.load().unwrap();
        assert!(
            snapshot.is_some(),
            "the first change writes a snapshot for the log to apply to"
        );
        assert_eq!(
            changes.len(),
            6,
            "one entry per later change, none per read"
        );
        assert!(
            !changes
                .iter()
                .any(|c| String::from_utf8_lossy(c).contains("S3cret")),
            "the password is not in the log"
        );

        let expected = first.with_directory(|d| serde_json::to_value(&*d).unwrap());
        assert!(
            expected["users"][&bob]["ssh_keys"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        let second = open();
        let replayed = second.with_directory(|d| serde_json::to_value(&*d).unwrap());
        assert_eq!(
            first_difference(&replayed, &expected),
            None,
            "timestamps and ids included"
        );
        let (snapshot, changes) = store.load().unwrap();
        assert!(
            snapshot.is_some() && changes.is_empty(),
            "the log was folded"
        );
        let third = open();
        assert_eq!(
            third.with_directory(|d| serde_json::to_value(&*d).unwrap()),
            expected
        );

        // Once the log outweighs the snapshot, the next change folds it into a new one.
        let mut fourth = open();
        fourth.min_log_bytes = 0;
        let snapshot_len = store.load().unwrap().0.unwrap().len();
        let mut logged = 0;
        while store.load().unwrap().1.len() == logged {
            fourth
                .dispatch(&req(
                    "POST",
                    "/sandbox/mail/send",
                    Some(json!({"to": ["x@example.com"], "body": "y".repeat(1000)})),
                ))
                .unwrap();
            logged += 1;
            assert!(logged < 10_000, "the log was never folded");
        }
        let (snapshot, changes) = store.load().unwrap();
        assert!(changes.is_empty() && snapshot.unwrap().len() > snapshot_len);
        // Each entry is 1,000 – 1,200 bytes: folded once, and only once, the log outweighed
        // the snapshot.
        assert!(
            (logged - 1) * 1200 > snapshot_len && (logged - 2) * 1000 <= snapshot_len,
            "folded after {logged} changes; snapshot {snapshot_len} bytes"
        );
        let expected = fourth.with_directory(|d| serde_json::to_value(&*d).unwrap());
        assert_eq!(
            open().with_directory(|d| serde_json::to_value(&*d).unwrap()),
            expected
        );

        // A reset replaces the directory: a snapshot, no log.
        third
            .dispatch(&req("POST", "/sandbox/reset", None))
            .unwrap();
        let (_, changes) = store.load().unwrap();
        assert!(changes.is_empty());
        assert!(open().with_directory(|d| !d.users.contains_key(&user)));
    }

    #[test]
    fn the_user_and_graph_indexes_follow_every_change() {
        let sandbox =
            Sandbox::new(seed::default_directory(), "key", Faults::default(), None).unwrap();
        let call = |method: &str, path: &str, body: Option<Value>| {
            sandbox.dispatch(&req(method, path, body))
        };
        let query = |path: &str, filter: &str| {
            let mut r = req("GET", path, None);
            r.query = vec![("filter".into(), filter.into())];
            sandbox.dispatch(&r).unwrap().body.unwrap()
        };
        let create = |name: &str| {
            call(
                "POST",
                "/api/systemusers",
                Some(json!({"username": name, "email": format!("{name}@example.com")})),
            )
        };
        let id = create("ada").unwrap().body.unwrap()["_id"]
            .as_str()
            .unwrap()
            .to_owned();
        // Uniqueness is case-insensitive; an `$eq` listing is exact.
        assert!(create("ADA").is_err());
        assert_eq!(
            query("/api/systemusers", "username:$eq:ada")["totalCount"],
            1
        );
        assert_eq!(
            query("/api/systemusers", "username:$eq:ADA")["totalCount"],
            0
        );
        // A rename frees the old name and takes the new one.
        call(
            "PUT",
            &format!("/api/systemusers/{id}"),
            Some(json!({"username": "ada2", "email": "ada2@example.com"})),
        )
        .unwrap();
        assert_eq!(
            query("/api/systemusers", "username:$eq:ada")["totalCount"],
            0
        );
        assert_eq!(
            query("/api/systemusers", "username:$eq:ada2")["totalCount"],
            1
        );
        assert!(create("Ada2").is_err());
        // A number is compared numerically by filters: such users are always candidates.
        let numbered = call(
            "POST",
            "/api/systemusers",
            Some(
                json!({"username": "num", "email": "num@example.com", "employeeIdentifier": 1001}),
            ),
        )
        .unwrap()
        .body
        .unwrap()["_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            query("/api/systemusers", "employeeIdentifier:$eq:1001")["totalCount"],
            1
        );
        let mut skipped = req("GET", &format!("/api/systemusers/{numbered}"), None);
        skipped.query = vec![("skip".into(), "1".into())];
        assert_eq!(sandbox.dispatch(&skipped).unwrap_err().status, 404);
        let other = create("ada").unwrap().body.unwrap()["_id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Memberships: added, listed, removed; a deleted user leaves no edge behind.
        let group = sandbox.with_directory(|d| d.user_groups.keys().next().unwrap().clone());
        let members = || {
            let r = call("GET", &format!("/api/v2/usergroups/{group}/members"), None);
            r.unwrap().body.unwrap().as_array().unwrap().len()
        };
        let membership = |op: &str, user: &str| {
            call(
                "POST",
                &format!("/api/v2/usergroups/{group}/members"),
                Some(json!({"op": op, "type": "user", "id": user})),
            )
        };
        let before = members();
        for u in [&id, &other] {
            membership("add", u).unwrap();
        }
        assert_eq!(members(), before + 2);
        // Walks follow the typed index: the user reaches the group's systems through it,
        // and the group's users include the new member.
        let walk = |path: String| -> Vec<String> {
            let body = call("GET", &path, None).unwrap().body.unwrap();
            let mut ids: Vec<String> = body
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        };
        let group_systems = walk(format!("/api/v2/usergroups/{group}/systems"));
        assert!(
            !group_systems.is_empty(),
            "the seed's first group has systems"
        );
        let user_systems = walk(format!("/api/v2/users/{id}/systems"));
        assert!(
            group_systems.iter().all(|s| user_systems.contains(s)),
            "{user_systems:?} lacks some of {group_systems:?}"
        );
        assert!(walk(format!("/api/v2/usergroups/{group}/users")).contains(&id));
        assert_eq!(membership("add", &id).unwrap_err().status, 409);
        membership("remove", &id).unwrap();
        assert_eq!(members(), before + 1);
        call("DELETE", &format!("/api/systemusers/{other}"), None).unwrap();
        assert_eq!(members(), before);
        assert!(create("ada").is_ok(), "a deleted user's name is free again");
        let memberships = call("GET", &format!("/api/v2/users/{id}/memberof"), None)
            .unwrap()
            .body
            .unwrap();
        assert_eq!(memberships.as_array().unwrap().len(), 0, "{memberships}");
    }
}
