//! One call on a fresh instance: the store it runs in (limits, deadline, the guest's turn
//! on the pool at every epoch tick), instantiating the plugin, calling its export, and
//! turning what came back into a [`CallOutcome`]. Also the reused instance `sluice bench
//! step` measures the per-call floor with.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{Engine, Store, UpdateDeadline};

use super::bindings::sluice::plugin::types as wit;
use super::outcome::{classify, from_plugin_error, parse_output, timeout_error};
use super::step_state::{Services, StepState};
use super::wasm::ticks;
use super::world::{Described, Instance, Output, Pre};
use super::{CallContext, CallOutcome, Limits, LoadedPlugin, PluginHostError, StepError, codes};
use crate::broker::permissions::Grants;

/// What a call needs, owned, so a call can move to the guest pool.
#[derive(Clone)]
pub(super) struct Runner {
    pub(super) engine: Engine,
    pub(super) services: Services,
    pub(super) max_memory_bytes: u64,
    pub(super) timeout_ceiling: Duration,
    /// One permit per pool slot: calls beyond the pool wait instead of failing.
    pub(super) slots: Arc<tokio::sync::Semaphore>,
}

impl Runner {
    /// A fresh store for one call. Its deadline is wall time from now, capped by the
    /// ceiling: the guest yields to the pool at every epoch tick and is interrupted at the
    /// first tick past the deadline.
    pub(super) fn new_store(&self, plugin: Arc<str>, ctx: &CallContext) -> Store<StepState> {
        let limits = ctx.limits;
        let state = StepState::new(
            plugin,
            &ctx.workflow,
            ctx.grants.clone(),
            ctx.role.clone(),
            // A cap above the pool's slot size could never be reached: the slot would
            // refuse first and the failure would look like a guest bug.
            usize::try_from(limits.memory_bytes.min(self.max_memory_bytes)).unwrap_or(usize::MAX),
            limits.max_log_bytes,
            self.services.clone(),
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        let timeout = limits.timeout.min(self.timeout_ceiling);
        // The ceiling is at most a day, so this cannot overflow; were it to, the call gets
        // no time rather than unbounded time.
        let deadline = Instant::now().checked_add(timeout);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            Ok(match deadline {
                // tokio's own yield puts the task at the back of the queue, so spinning
                // guests take turns with everything else on the pool.
                Some(d) if Instant::now() < d => {
                    UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now()))
                }
                _ => UpdateDeadline::Interrupt,
            })
        });
        store
    }

    pub(super) async fn describe(
        &self,
        pre: &Pre<StepState>,
        limits: Limits,
    ) -> Result<Described, PluginHostError> {
        let ctx = CallContext {
            run_id: String::new(),
            workflow: String::new(),
            step_id: "describe".into(),
            attempt: 1,
            grants: Arc::new(Grants::default()),
            role: None,
            limits,
        };
        let mut store = self.new_store(Arc::from("describe"), &ctx);
        let fut = async {
            let instance = pre.instantiate(&mut store).await?;
            instance.describe(&mut store).await
        };
        let timeout = limits.timeout.min(self.timeout_ceiling);
        match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(m)) => Ok(m),
            Ok(Err(e)) => Err(PluginHostError::Describe(
                classify(e, &mut store).to_string(),
            )),
            Err(_) => Err(PluginHostError::Describe(format!(
                "{}: describe() did not return within {timeout:?}",
                codes::PLUGIN_TIMEOUT,
            ))),
        }
    }

    /// Runs one call on a fresh instance on the current thread (see [`PluginHost::call`]).
    pub(super) async fn call(
        &self,
        plugin: &LoadedPlugin,
        ctx: &CallContext,
        input: &str,
    ) -> CallOutcome {
        let started = Instant::now();
        let mut limits = ctx.limits;
        limits.timeout = limits.timeout.min(self.timeout_ceiling);
        if input.len() > limits.max_input_bytes {
            return CallOutcome {
                result: Err(StepError::host(
                    codes::PLUGIN_INPUT_TOO_LARGE,
                    format!(
                        "the input is {} bytes; plugin `{}` accepts at most {}",
                        input.len(),
                        plugin.name,
                        limits.max_input_bytes
                    ),
                )),
                logs: Vec::new(),
                calls: Vec::new(),
                duration: started.elapsed(),
            };
        }
        let _slot = self.slots.acquire().await;
        let mut store = self.new_store(plugin.name.clone(), ctx);
        let step = wit::StepInfo {
            run_id: ctx.run_id.clone(),
            workflow: ctx.workflow.clone(),
            step_id: ctx.step_id.clone(),
            attempt: ctx.attempt,
        };
        let input = input.to_owned();
        let fut = async {
            let instance = plugin.pre.instantiate(&mut store).await?;
            let kind = plugin.manifest.kind;
            instance
                .call(&mut store, kind, &plugin.name, &step, &input)
                .await
        };
        let raw = tokio::time::timeout(limits.timeout, fut).await;
        let result = match raw {
            Err(_) => Err(timeout_error(&plugin.name, limits.timeout)),
            Ok(Err(e)) => Err(classify(e, &mut store)),
            Ok(Ok(Err(plugin_err))) => Err(from_plugin_error(&plugin.name, plugin_err, limits)),
            Ok(Ok(Ok(Output::Bool(b)))) => Ok(serde_json::Value::Bool(b)),
            Ok(Ok(Ok(Output::Json(text)))) => parse_output(&plugin.name, &text, limits),
        };
        let state = store.data_mut();
        let logs = state.log.lock().unwrap_or_else(|p| p.into_inner()).finish();
        let calls = std::mem::take(&mut state.ledger.calls);
        CallOutcome {
            result,
            logs,
            calls,
            duration: started.elapsed(),
        }
    }
}

/// See [`super::PluginHost::reused_instance`].
pub struct ReusedInstance {
    store: Store<StepState>,
    instance: Instance,
    plugin: LoadedPlugin,
    ticks: u64,
}

impl std::fmt::Debug for ReusedInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReusedInstance").finish_non_exhaustive()
    }
}

impl ReusedInstance {
    /// A long-lived instance of `plugin` (see [`super::PluginHost::reused_instance`]).
    pub(super) async fn new(
        runner: &Runner,
        plugin: &LoadedPlugin,
        ctx: &CallContext,
    ) -> Result<Self, StepError> {
        let mut store = runner.new_store(plugin.name.clone(), ctx);
        let instance = plugin
            .pre
            .instantiate(&mut store)
            .await
            .map_err(|e| classify(e, &mut store))?;
        Ok(ReusedInstance {
            store,
            instance,
            plugin: plugin.clone(),
            ticks: ticks(ctx.limits.timeout),
        })
    }

    /// One call on the reused instance, with the same deadline check as a real step. The
    /// log and the host-call budget start empty on each call, as a step's do: without
    /// that, a plugin that logs or calls the host on every call would reach the log limit
    /// or the call limit after enough iterations.
    pub async fn call(&mut self, input: &String) -> Result<serde_json::Value, StepError> {
        self.store.set_epoch_deadline(self.ticks);
        {
            let state = self.store.data_mut();
            state
                .log
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .reset();
            state.ledger.calls.clear();
            state.ledger.violation = None;
        }
        let step = wit::StepInfo {
            run_id: String::new(),
            workflow: String::new(),
            step_id: "bench".into(),
            attempt: 1,
        };
        let store = &mut self.store;
        let (kind, name) = (self.plugin.manifest.kind, &self.plugin.name);
        let r = self
            .instance
            .call(&mut *store, kind, name, &step, input)
            .await;
        match r {
            Err(e) => Err(classify(e, store)),
            Ok(Err(e)) => Err(from_plugin_error("bench", e, Limits::DEFAULT)),
            Ok(Ok(Output::Bool(b))) => Ok(serde_json::Value::Bool(b)),
            Ok(Ok(Output::Json(t))) => parse_output("bench", &t, Limits::DEFAULT),
        }
    }
}
