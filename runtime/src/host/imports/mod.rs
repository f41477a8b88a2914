//! The host side of the `sluice:plugin` imports, one file per WIT interface: [`log`],
//! [`jumpcloud`], [`http`] and [`state`].
//!
//! Each file implements its interface's generated `Host` trait on a narrow view of the
//! store data holding only what that import needs (the log import sees the step's log; the
//! JumpCloud import sees the JumpCloud broker, the grants, the run-as role and the call
//! ledger; and so on), and links it with the interface's `add_to_linker` and a getter that
//! builds the view from [`StepState`]. A `HasData` marker per interface names the view's
//! type, as wasmtime's own WASI imports do.
//!
//! What the imports share is the [`CallLedger`]: every brokered call (JumpCloud, HTTP,
//! state) is admitted against the call budget and recorded there, and a refused call is
//! recorded, traps the guest and ends the step with `PERMISSION_DENIED`.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::Result as WasmResult;
use wasmtime::component::{HasData, Linker};

use super::bindings::sluice::plugin::types;
use super::error::{StepError, codes};
use super::step_state::StepState;
use crate::broker::{BrokerError, CallKind, HostCall};

pub(super) mod http;
pub(super) mod jumpcloud;
pub(super) mod log;
pub(super) mod state;

/// Host calls one plugin call may make; the next one ends the step with
/// `PLUGIN_CALL_LIMIT`, which bounds the step's record as well.
pub const MAX_HOST_CALLS: usize = 10_000;

/// Longest path or connector target accepted (and recorded).
pub const MAX_TARGET: usize = 2048;

/// Links every `sluice:plugin` interface, each on its own view of the store data, under
/// the names of every contract version the host supports (the current one and 0.1.0: see
/// `host::bindings`); a version's functions are the current ones.
pub(super) fn add_to_linker(linker: &mut Linker<StepState>) -> WasmResult<()> {
    types::add_to_linker::<StepState, Types>(linker, |_| Types)?;
    // 0.1.0's `types` shares the current one's records (see `host::bindings`): its
    // instance only has to exist under its own name, as `types::add_to_linker` makes it.
    linker.instance("sluice:plugin/types@0.1.0")?;
    log::add_to_linker(linker)?;
    jumpcloud::add_to_linker(linker)?;
    http::add_to_linker(linker)?;
    state::add_to_linker(linker)?;
    Ok(())
}

/// `types` declares types only: linking it defines the instance the other interfaces
/// refer to, with no functions and so no view of the store.
struct Types;

impl HasData for Types {
    type Data<'a> = Types;
}

impl types::Host for Types {}

/// The host calls of one plugin call: the budget they count against, the record kept
/// with the step, and the first policy violation.
#[derive(Debug)]
pub(crate) struct CallLedger {
    pub(crate) plugin: Arc<str>,
    pub(crate) calls: Vec<HostCall>,
    /// A policy violation that trapped the guest; reported instead of the trap.
    pub(crate) violation: Option<StepError>,
}

impl CallLedger {
    pub(crate) fn new(plugin: Arc<str>) -> Self {
        Self {
            plugin,
            calls: Vec::new(),
            violation: None,
        }
    }

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
            method: truncate(method, 16),
            target: truncate(target, MAX_TARGET),
            status: None,
            error: Some(codes::PERMISSION_DENIED.to_string()),
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

fn broker_error(e: BrokerError) -> types::PluginError {
    types::PluginError {
        code: e.code,
        message: e.message,
        retryable: e.retryable,
        details: None,
    }
}

fn plugin_error(code: crate::code::Code, message: String, retryable: bool) -> types::PluginError {
    types::PluginError {
        code: code.into(),
        message,
        retryable,
        details: None,
    }
}
