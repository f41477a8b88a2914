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
use crate::broker::permissions::{Grants, Role, scopes_for};
use crate::broker::{
    BrokerError, CallKind, ConnectorRequest, HostCall, HttpBroker, JumpCloudBroker,
    JumpCloudRequest,
};
use crate::store::{StateNamespace, StateStore};

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
    pub(crate) hit: Option<usize>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> WasmResult<bool> {
        if desired > self.memory_cap {
            self.hit = Some(desired);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> WasmResult<bool> {
        if desired > 100_000 {
            self.hit = Some(desired);
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
    role: Option<Role>,
    namespace: StateNamespace,
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
        role: Option<Role>,
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
                hit: None,
            },
            log,
            calls: Vec::new(),
            violation: None,
            namespace: StateNamespace {
                workflow: workflow.to_owned(),
                plugin: plugin.to_string(),
            },
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
    fn deny(
        &mut self,
        kind: CallKind,
        method: &str,
        target: &str,
        message: String,
    ) -> wasmtime::Error {
        self.calls.push(HostCall {
            kind,
            method: method.to_owned(),
            target: target.to_owned(),
            status: None,
            error: Some(codes::PERMISSION_DENIED.to_owned()),
            latency_us: 0,
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
    ) {
        self.calls.push(HostCall {
            kind,
            method: method.to_owned(),
            target,
            status: r.as_ref().ok().copied(),
            error: r.as_ref().err().cloned(),
            latency_us: started.elapsed().as_micros() as u64,
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
        let scopes = match scopes_for(&req.method, &req.path) {
            Ok(s) => s,
            Err(reason) => {
                let msg = format!("plugin `{}`: JumpCloud call refused: {reason}", self.plugin);
                return Err(self.deny(CallKind::Jumpcloud, &req.method, &req.path, msg));
            }
        };
        let needed = scopes
            .iter()
            .map(|s| format!("jumpcloud:{s}"))
            .collect::<Vec<_>>()
            .join(" or ");
        if !self.grants.allows_scope(scopes) {
            let msg = format!(
                "plugin `{}` called {} {} which needs {needed}; it was not granted that \
                 (declare it in the manifest and grant it at install)",
                self.plugin, req.method, req.path
            );
            return Err(self.deny(CallKind::Jumpcloud, &req.method, &req.path, msg));
        }
        if let Some(role) = self.role
            && !role.allows(scopes)
        {
            let msg = format!(
                "{} {} needs {needed}, which the workflow's run-as role `{role}` does not grant",
                req.method, req.path
            );
            return Err(self.deny(CallKind::Jumpcloud, &req.method, &req.path, msg));
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
        let target = format!("{}:{}", req.connector, req.path);
        if !self.grants.allows_connector(&req.connector) {
            let msg = format!(
                "plugin `{}` called connector `{}`; it was not granted `http:{}`",
                self.plugin, req.connector, req.connector
            );
            return Err(self.deny(CallKind::Http, &req.method, &target, msg));
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
        self.record(CallKind::State, op, key.to_owned(), started, &status);
        r.map_err(|e| plugin_error("STATE_UNAVAILABLE", e.to_string(), true))
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
        let r = self.services.state.state_set(&self.namespace, &key, &value);
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
