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
//! - this file: the server (auth, `x-org-id` rules, fault injection, persistence).

pub mod directory;
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

/// Where an embedded sandbox keeps its directory between runs.
pub trait SnapshotStore: Send + Sync {
    fn load(&self) -> Result<Option<Vec<u8>>, String>;
    fn save(&self, snapshot: &[u8]) -> Result<(), String>;
}

/// The sandbox server's shared state.
pub struct Sandbox {
    directory: Mutex<Directory>,
    seed: Directory,
    api_key: String,
    faults: Faults,
    rng: Mutex<fastrand::Rng>,
    persist: Option<Arc<dyn SnapshotStore>>,
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
    /// from it when it holds one and saved after every change.
    pub fn new(
        seed: Directory,
        api_key: impl Into<String>,
        faults: Faults,
        persist: Option<Arc<dyn SnapshotStore>>,
    ) -> Result<Sandbox, String> {
        let directory = match persist.as_ref().map(|p| p.load()).transpose()?.flatten() {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("the sandbox directory in the data dir is unreadable: {e}"))?,
            None => seed.clone(),
        };
        let rng = faults
            .seed
            .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        Ok(Sandbox {
            directory: Mutex::new(directory),
            seed,
            api_key: api_key.into(),
            faults,
            rng: Mutex::new(rng),
            persist,
        })
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

    /// Puts the directory back to its seed.
    pub fn reset(&self) -> Result<(), String> {
        let mut d = self.lock();
        *d = self.seed.clone();
        self.save(&d)
    }

    fn save(&self, d: &Directory) -> Result<(), String> {
        match &self.persist {
            Some(p) => p.save(&serde_json::to_vec(d).map_err(|e| e.to_string())?),
            None => Ok(()),
        }
    }

    /// Handles one request already parsed (no HTTP): what the server does after auth and
    /// faults. Mutations are saved before the reply is returned.
    pub fn dispatch(&self, req: &Request) -> Result<Reply, ApiError> {
        let mut d = self.lock();
        if let Some(rest) = req.path.strip_prefix("/sandbox/") {
            return self.control(&mut d, req, rest);
        }
        let events = d.events.len();
        let counter = d.counter;
        let reply = d.handle(req)?;
        if d.counter != counter || d.events.len() != events {
            if d.events.len() > MAX_EVENTS {
                let excess = d.events.len() - MAX_EVENTS;
                d.events.drain(..excess);
            }
            self.save(&d)
                .map_err(|e| ApiError::new(500, "INTERNAL", format!("saving: {e}")))?;
        }
        Ok(reply)
    }

    fn control(&self, d: &mut Directory, req: &Request, rest: &str) -> Result<Reply, ApiError> {
        let segs: Vec<&str> = rest.split('/').collect();
        let reply = match (req.method.as_str(), segs.as_slice()) {
            // The mail outbox: where the workflows' email steps land when the sandbox stands
            // in for the organisation (the built-in `sandbox-mail` connector).
            ("GET", ["mail"]) => {
                return Ok(Reply::ok(Value::Array(d.outbox.clone())));
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
        self.save(d)
            .map_err(|e| ApiError::new(500, "INTERNAL", format!("saving: {e}")))?;
        Ok(reply)
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

    /// The HTTP front: auth, `x-org-id`, faults, then [`Sandbox::dispatch`].
    pub async fn http(
        self: Arc<Self>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        if !self.faults.latency.is_zero() {
            tokio::time::sleep(self.faults.latency).await;
        }
        if headers.get("x-api-key").map(HeaderValue::as_bytes) != Some(self.api_key.as_bytes()) {
            return error_response(&ApiError::new(
                401,
                "UNAUTHENTICATED",
                "Unauthorized: a valid x-api-key header is required",
            ));
        }
        if let Some(org) = headers.get("x-org-id") {
            let org = org.to_str().unwrap_or_default();
            if org.len() != 24 || !org.bytes().all(|b| b.is_ascii_hexdigit()) {
                return error_response(&ApiError::bad_request("Malformed ID"));
            }
            if org != self.org_id() {
                return error_response(&ApiError::new(
                    404,
                    "NOT_FOUND",
                    "Organization ID not found",
                ));
            }
        }
        if let Some(status) = self.fault() {
            let mut r = error_response(&ApiError::new(
                status,
                if status == 429 {
                    "RESOURCE_EXHAUSTED"
                } else {
                    "UNAVAILABLE"
                },
                if status == 429 {
                    "Too Many Requests"
                } else {
                    "injected fault"
                },
            ));
            if status == 429 {
                r.headers_mut()
                    .insert("retry-after", HeaderValue::from(self.faults.retry_after));
            }
            return r;
        }
        let query: Vec<(String, String)> = uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let body = if body.is_empty() {
            None
        } else {
            match serde_json::from_slice(&body) {
                Ok(v) => Some(v),
                Err(e) => {
                    return error_response(&ApiError::bad_request(format!(
                        "the body is not JSON: {e}"
                    )));
                }
            }
        };
        let req = Request {
            method: method.as_str().to_owned(),
            path: uri.path().to_owned(),
            query,
            body,
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
}
