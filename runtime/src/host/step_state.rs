//! The data one call's wasmtime `Store` holds ([`StepState`]): the deny-by-default WASI
//! context, the memory limiter, the bounded step log, the ledger of host calls, and what
//! the host imports may reach (grants, run-as role, state namespace, brokers).
//!
//! The imports never see this whole struct: each one in `imports/` works on a narrow view
//! of the fields it needs, built from it when the import is linked.

use std::sync::{Arc, Mutex};

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Result as WasmResult};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::capture::{Capture, LogSource, StepLog};
use super::imports::CallLedger;
use crate::broker::permissions::{Grants, RunRole};
use crate::broker::{HttpBroker, JumpCloudBroker};
use crate::store::{StateNamespace, StateQuota, StateStore};

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
    /// The host calls made (the call budget and the step's record) and the first policy
    /// violation, which is reported instead of the trap it caused.
    pub(crate) ledger: CallLedger,
    pub(super) grants: Arc<Grants>,
    pub(super) role: Option<RunRole>,
    pub(super) namespace: StateNamespace,
    pub(super) quota: StateQuota,
    pub(super) services: Services,
}

impl std::fmt::Debug for StepState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepState")
            .field("plugin", &self.ledger.plugin)
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
            ledger: CallLedger::new(plugin),
            grants,
            role,
            services,
        }
    }

    pub(crate) fn plugin_name(&self) -> &str {
        &self.ledger.plugin
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
