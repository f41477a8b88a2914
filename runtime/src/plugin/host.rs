//! The per-call store data and the host side of the `log`, `jumpcloud`, `http` and `state`
//! imports. Every import checks the plugin's grants (and, for JumpCloud, the workflow's
//! run-as role) before doing anything; a refused call is recorded, traps the guest and ends
//! the step with `PERMISSION_DENIED`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Result as WasmResult};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::sluice::plugin::{http, jumpcloud, log, state, types};
use super::capture::{Capture, LogLevel, LogSource, StepLog};
use super::error::{StepError, codes};
use crate::broker::permissions::{Grants, RunRole, jumpcloud_needs};
use crate::broker::{
    BrokerError, CallKind, ConnectorRequest, HostCall, HttpBroker, JumpCloudBroker,
    JumpCloudRequest,
};
use crate::store::{StateNamespace, StateQuota, StateStore, StoreError};

/// Host calls one plugin call may make; the next one ends the step with
/// `PLUGIN_CALL_LIMIT`, which bounds the step's record as well.
pub const MAX_HOST_CALLS: usize = 10_000;

/// Longest path or connector target accepted (and recorded).
pub const MAX_TARGET: usize = 2048;

/// Largest state key and value.
pub const MAX_STATE_KEY: usize = 256;
pub const MAX_STATE_VALUE: usize = 64 << 10;

/// The brokers and stores a call may reach; shared by all calls.
#[derive(Clone)]
pub struct Services {
    pub jumpcloud: Arc<dyn JumpCloudBroker>,
    pub http: Arc<dyn HttpBroker>,
    pub state: Arc<dyn StateStore>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

/// Caps linear memory and tables, and remembers whether the cap was hit so the failure is
/// reported as `PLUGIN_MEMORY_LIMIT` rather than as whatever the guest did next.
#[derive(Debug)]
pub(crate) struct Limiter {
    pub(crate) memory_cap: usize,
    pub(crate) memory_used: usize,
    pub(crate) hit: Option<LimitHit>,
}

/// Which limit a guest ran into.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LimitHit {
    /// Total linear memory it asked for, bytes.
    Memory(usize),
    /// Table elements it asked for.
    Table(usize),
}

/// Largest table a plugin may grow.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> WasmResult<bool> {
        // The cap is for the whole call: a component with several memories shares it.
        let total = self.memory_used - current + desired;
        if total > self.memory_cap {
            self.hit = Some(LimitHit::Memory(total));
            return Ok(false);
        }
        self.memory_used = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> WasmResult<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.hit = Some(LimitHit::Table(desired));
            return Ok(false);
        }
        Ok(true)
    }
}

/// Everything one call's store holds.
pub struct StepState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) log: Arc<Mutex<StepLog>>,
    pub(crate) calls: Vec<HostCall>,
    /// A policy violation that trapped the guest; reported instead of the trap.
    pub(crate) violation: Option<StepError>,
    plugin: Arc<str>,
    grants: Arc<Grants>,
    role: Option<RunRole>,
    namespace: StateNamespace,
    quota: StateQuota,
    services: Services,
}

impl std::fmt::Debug for StepState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepState")
            .field("plugin", &self.plugin)
            .finish_non_exhaustive()
    }
}

impl StepState {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        plugin: Arc<str>,
        workflow: &str,
        grants: Arc<Grants>,
        role: Option<RunRole>,
        memory_cap: usize,
        log_cap: usize,
        services: Services,
    ) -> Self {
        let log = Arc::new(Mutex::new(StepLog::new(log_cap)));
        // Deny by default: no preopens, no environment, no arguments, no network, closed
        // stdin; stdout and stderr go to the step's bounded log.
        let wasi = WasiCtx::builder()
            .stdout(Capture {
                log: log.clone(),
                source: LogSource::Stdout,
            })
            .stderr(Capture {
                log: log.clone(),
                source: LogSource::Stderr,
            })
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter {
                memory_cap,
                memory_used: 0,
                hit: None,
            },
            log,
            calls: Vec::new(),
            violation: None,
            // The registry binds `state` to the plugin's identity and quota; grants made
            // without it (loose files, embedders) keep state by name, with the default quota.
            namespace: StateNamespace {
                workflow: workflow.to_owned(),
                owner: grants
                    .state_scope()
                    .map_or_else(|| plugin.to_string(), |s| s.owner.clone()),
            },
            quota: grants
                .state_scope()
                .map_or(StateQuota::DEFAULT, |s| s.quota),
            plugin,
            grants,
            role,
            services,
        }
    }

    pub(crate) fn plugin_name(&self) -> &str {
        &self.plugin
    }

    /// Records a refused call and returns the trap that ends the step.
    /// Counts a host call; past [`MAX_HOST_CALLS`] the guest traps.
    fn admit(&mut self) -> WasmResult<()> {
        if self.calls.len() < MAX_HOST_CALLS {
            return Ok(());
        }
        let err = StepError::host(
            codes::PLUGIN_CALL_LIMIT,
            format!(
                "plugin `{}` made more than {MAX_HOST_CALLS} host calls in one step",
                self.plugin
            ),
        );
        let trap = wasmtime::format_err!("{err}");
        self.violation.get_or_insert(err);
        Err(trap)
    }

    fn deny(
        &mut self,
        kind: CallKind,
        method: &str,
        target: &str,
        message: String,
    ) -> wasmtime::Error {
        self.calls.push(HostCall {
            kind,
            method: truncate(method, 16),
            target: truncate(target, MAX_TARGET),
            status: None,
            error: Some(codes::PERMISSION_DENIED.to_owned()),
            latency_us: 0,
            attempts: None,
        });
        let err = StepError::host(codes::PERMISSION_DENIED, message);
        let trap = wasmtime::format_err!("{err}");
        self.violation.get_or_insert(err);
        trap
    }

    fn record(
        &mut self,
        kind: CallKind,
        method: &str,
        target: String,
        started: Instant,
        r: &Result<u16, String>,
        attempts: u32,
    ) {
        self.calls.push(HostCall {
            kind,
            method: truncate(method, 16),
            target: truncate(&target, MAX_TARGET),
            status: r.as_ref().ok().copied(),
            error: r.as_ref().err().cloned(),
            latency_us: started.elapsed().as_micros() as u64,
            attempts: (attempts > 1).then_some(attempts),
        });
    }
}

impl WasiView for StepState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Why a connector request is malformed, if it is: the host refuses absolute URLs, paths
/// escaping the base URL, unknown methods and headers that would override credentials.
fn connector_request_problem(req: &http::Request) -> Option<String> {
    if !matches!(
        req.method.as_str(),
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
    ) {
        return Some(format!(
            "method `{}`: use GET, POST, PUT, PATCH or DELETE",
            truncate(&req.method, 16)
        ));
    }
    let p = &req.path;
    if p.len() > MAX_TARGET
        || !p.starts_with('/')
        || p.starts_with("//")
        || p.contains("://")
        || p.contains('\\')
        || p.chars().any(char::is_control)
        || p.split(['/', '?', '#']).any(|seg| {
            seg == ".."
                || seg.eq_ignore_ascii_case("%2e%2e")
                || seg.eq_ignore_ascii_case(".%2e")
                || seg.eq_ignore_ascii_case("%2e.")
        })
    {
        return Some(format!(
            "path `{}` must be relative to the connector's base URL (start with `/`, no `..`)",
            truncate(p, 200)
        ));
    }
    for (name, _) in &req.headers {
        let lower = name.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "authorization" | "proxy-authorization" | "cookie" | "x-api-key" | "host"
        ) {
            return Some(format!(
                "header `{name}` is set by the host, not by plugins"
            ));
        }
    }
    None
}

fn broker_error(e: BrokerError) -> types::PluginError {
    types::PluginError {
        code: e.code,
        message: e.message,
        retryable: e.retryable,
        details: None,
    }
}

fn plugin_error(code: &str, message: String, retryable: bool) -> types::PluginError {
    types::PluginError {
        code: code.to_owned(),
        message,
        retryable,
        details: None,
    }
}

impl types::Host for StepState {}

impl log::Host for StepState {
    async fn write(&mut self, level: log::Level, message: String) -> WasmResult<()> {
        let level = match level {
            log::Level::Trace => LogLevel::Trace,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Error => LogLevel::Error,
        };
        let pushed = self
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .line(level, message);
        pushed.map_err(|_| wasmtime::format_err!("plugin log limit exceeded"))
    }
}

impl jumpcloud::Host for StepState {
    async fn call(
        &mut self,
        req: jumpcloud::Request,
    ) -> WasmResult<Result<jumpcloud::Response, types::PluginError>> {
        self.admit()?;
        // The body decides what an association or membership change needs (the other
        // end's type, sudo); it is checked here and sent as it is.
        let needs = match jumpcloud_needs(&req.method, &req.path, &req.query, req.body.as_deref()) {
            Ok(n) => n,
            Err(reason) => {
                let msg = format!("plugin `{}`: JumpCloud call refused: {reason}", self.plugin);
                return Err(self.deny(CallKind::Jumpcloud, &req.method, &req.path, msg));
            }
        };
        let ungranted = needs.unmet(|s| self.grants.holds_scope(s));
        if !ungranted.is_empty() {
            let msg = format!(
                "plugin `{}` called {} {} which needs {needs}; it was not granted {ungranted} \
                 (declare it in the manifest and grant it at install)",
                self.plugin, req.method, req.path
            );
            return Err(self.deny(CallKind::Jumpcloud, &req.method, &req.path, msg));
        }
        if let Some(role) = &self.role {
            let withheld = role.withholds(&needs);
            if !withheld.is_empty() {
                let msg = match role {
                    RunRole::Undefined(name) => format!(
                        "{} {} needs {needs}; the workflow's run-as role `{name}` is not a \
                         defined custom role, so it grants nothing (see `sluice role list`)",
                        req.method, req.path
                    ),
                    _ => format!(
                        "{} {} needs {needs}; the workflow's run-as role `{role}` does not grant {withheld}",
                        req.method, req.path
                    ),
                };
                return Err(self.deny(CallKind::Jumpcloud, &req.method, &req.path, msg));
            }
        }
        let started = Instant::now();
        let (method, path) = (req.method.clone(), req.path.clone());
        let result = self
            .services
            .jumpcloud
            .call(JumpCloudRequest {
                method: req.method,
                path: req.path,
                query: req.query,
                body: req.body,
            })
            .await;
        self.record(
            CallKind::Jumpcloud,
            &method,
            path,
            started,
            &result
                .as_ref()
                .map(|r| r.status)
                .map_err(|e| e.code.clone()),
            result.as_ref().map_or(1, |r| r.attempts),
        );
        Ok(result
            .map(|r| jumpcloud::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(broker_error))
    }
}

impl http::Host for StepState {
    async fn send(
        &mut self,
        req: http::Request,
    ) -> WasmResult<Result<http::Response, types::PluginError>> {
        self.admit()?;
        let target = format!("{}:{}", req.connector, truncate(&req.path, MAX_TARGET));
        if !self.grants.allows_connector(&req.connector) {
            let msg = format!(
                "plugin `{}` called connector `{}`; it was not granted `http:{}`",
                self.plugin, req.connector, req.connector
            );
            return Err(self.deny(CallKind::Http, &req.method, &target, msg));
        }
        if let Some(problem) = connector_request_problem(&req) {
            return Ok(Err(plugin_error("INVALID_REQUEST", problem, false)));
        }
        let started = Instant::now();
        let method = req.method.clone();
        let result = self
            .services
            .http
            .send(ConnectorRequest {
                connector: req.connector,
                method: req.method,
                path: req.path,
                headers: req.headers,
                query: req.query,
                body: req.body,
            })
            .await;
        self.record(
            CallKind::Http,
            &method,
            target,
            started,
            &result
                .as_ref()
                .map(|r| r.status)
                .map_err(|e| e.code.clone()),
            result.as_ref().map_or(1, |r| r.attempts),
        );
        Ok(result
            .map(|r| http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(broker_error))
    }
}

impl StepState {
    fn check_state(&mut self, op: &str, key: &str) -> WasmResult<Option<types::PluginError>> {
        self.admit()?;
        if !self.grants.allows_state() {
            let msg = format!(
                "plugin `{}` used state; it was not granted `state`",
                self.plugin
            );
            return Err(self.deny(CallKind::State, op, key, msg));
        }
        if key.is_empty() || key.len() > MAX_STATE_KEY {
            return Ok(Some(plugin_error(
                "STATE_LIMIT",
                format!("state keys are 1 to {MAX_STATE_KEY} bytes"),
                false,
            )));
        }
        Ok(None)
    }

    fn state_result<T>(
        &mut self,
        op: &str,
        key: &str,
        started: Instant,
        r: Result<T, crate::store::StoreError>,
    ) -> Result<T, types::PluginError> {
        let status = r.as_ref().map(|_| 200).map_err(|e| e.code().to_owned());
        self.record(CallKind::State, op, key.to_owned(), started, &status, 1);
        r.map_err(|e| match &e {
            // The plugin's own doing: an error it can handle (delete keys, give up).
            StoreError::Quota {
                keys,
                bytes,
                max_keys,
                max_bytes,
            } => types::PluginError {
                code: e.code().to_owned(),
                message: format!("plugin `{}`: {e}", self.plugin),
                retryable: false,
                details: Some(
                    serde_json::json!({
                        "keys": keys, "bytes": bytes,
                        "max_keys": max_keys, "max_bytes": max_bytes,
                    })
                    .to_string(),
                ),
            },
            _ => plugin_error("STATE_UNAVAILABLE", e.to_string(), true),
        })
    }
}

impl state::Host for StepState {
    async fn get(&mut self, key: String) -> WasmResult<Result<Option<String>, types::PluginError>> {
        if let Some(e) = self.check_state("GET", &key)? {
            return Ok(Err(e));
        }
        let started = Instant::now();
        let r = self.services.state.state_get(&self.namespace, &key);
        Ok(self.state_result("GET", &key, started, r))
    }

    async fn set(
        &mut self,
        key: String,
        value: String,
    ) -> WasmResult<Result<(), types::PluginError>> {
        if let Some(e) = self.check_state("SET", &key)? {
            return Ok(Err(e));
        }
        if value.len() > MAX_STATE_VALUE {
            return Ok(Err(plugin_error(
                "STATE_LIMIT",
                format!("state values are at most {MAX_STATE_VALUE} bytes"),
                false,
            )));
        }
        let started = Instant::now();
        let r = self
            .services
            .state
            .state_set(&self.namespace, &key, &value, self.quota);
        Ok(self.state_result("SET", &key, started, r))
    }

    async fn delete(&mut self, key: String) -> WasmResult<Result<(), types::PluginError>> {
        if let Some(e) = self.check_state("DELETE", &key)? {
            return Ok(Err(e));
        }
        let started = Instant::now();
        let r = self.services.state.state_delete(&self.namespace, &key);
        Ok(self.state_result("DELETE", &key, started, r))
    }
}
