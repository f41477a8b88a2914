//! The `state` import: a small key/value store that survives between runs, namespaced per
//! workflow and plugin. Every operation is admitted against the call budget and needs the
//! `state` grant (a refusal ends the step with `PERMISSION_DENIED`); keys and values are
//! bounded, and the owner's quota is enforced by the store.

use std::time::Instant;

use sluice_jcsim::permissions::check_state;
use wasmtime::Result as WasmResult;
use wasmtime::component::{HasData, Linker};

use super::{CallLedger, plugin_error};
use crate::broker::CallKind;
use crate::broker::permissions::Grants;
use crate::code::Code;
use crate::host::bindings::sluice::plugin::{state, types};
use crate::host::bindings::v0_1::sluice::plugin::state as v0_1;
use crate::host::step_state::StepState;
use crate::store::{StateNamespace, StateQuota, StateStore, StoreError};

/// Largest state key and value.
pub const MAX_STATE_KEY: usize = 256;
pub const MAX_STATE_VALUE: usize = 64 << 10;

/// What the `state` import sees of the store: the call ledger (budget and record), the
/// plugin's grants, its namespace and quota, and the state store.
struct StateView<'a> {
    ledger: &'a mut CallLedger,
    grants: &'a Grants,
    namespace: &'a StateNamespace,
    quota: StateQuota,
    store: &'a dyn StateStore,
}

/// Names [`StateView`] as the data the `state` bindings are given.
struct State;

impl HasData for State {
    type Data<'a> = StateView<'a>;
}

fn view(s: &mut StepState) -> StateView<'_> {
    StateView {
        ledger: &mut s.ledger,
        grants: &s.grants,
        namespace: &s.namespace,
        quota: s.quota,
        store: s.services.state.as_ref(),
    }
}

pub(super) fn add_to_linker(linker: &mut Linker<StepState>) -> WasmResult<()> {
    state::add_to_linker::<StepState, State>(linker, view)?;
    v0_1::add_to_linker::<StepState, State>(linker, view)
}

/// 0.1.0's `state`: the same three functions.
impl v0_1::Host for StateView<'_> {
    async fn get(&mut self, key: String) -> WasmResult<Result<Option<String>, types::PluginError>> {
        state::Host::get(self, key).await
    }

    async fn set(
        &mut self,
        key: String,
        value: String,
    ) -> WasmResult<Result<(), types::PluginError>> {
        state::Host::set(self, key, value).await
    }

    async fn delete(&mut self, key: String) -> WasmResult<Result<(), types::PluginError>> {
        state::Host::delete(self, key).await
    }
}

impl StateView<'_> {
    fn check_state(&mut self, op: &str, key: &str) -> WasmResult<Option<types::PluginError>> {
        self.ledger.admit()?;
        if let Err(msg) = check_state(&self.ledger.plugin, self.grants.strings()) {
            return Err(self.ledger.deny(CallKind::State, op, key, msg));
        }
        if key.is_empty() || key.len() > MAX_STATE_KEY {
            return Ok(Some(plugin_error(
                Code::StateLimit,
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
        let status = r.as_ref().map(|_| 200).map_err(|e| e.code().to_string());
        self.ledger
            .record(CallKind::State, op, key.to_owned(), started, &status, 1);
        r.map_err(|e| match &e {
            // The plugin's own doing: an error it can handle (delete keys, give up).
            StoreError::Quota {
                keys,
                bytes,
                max_keys,
                max_bytes,
            } => types::PluginError {
                code: e.code().into(),
                message: format!("plugin `{}`: {e}", self.ledger.plugin),
                retryable: false,
                details: Some(
                    serde_json::json!({
                        "keys": keys, "bytes": bytes,
                        "max_keys": max_keys, "max_bytes": max_bytes,
                    })
                    .to_string(),
                ),
            },
            _ => plugin_error(Code::StateUnavailable, e.to_string(), true),
        })
    }
}

impl state::Host for StateView<'_> {
    async fn get(&mut self, key: String) -> WasmResult<Result<Option<String>, types::PluginError>> {
        if let Some(e) = self.check_state("GET", &key)? {
            return Ok(Err(e));
        }
        let started = Instant::now();
        let r = self.store.state_get(self.namespace, &key);
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
                Code::StateLimit,
                format!("state values are at most {MAX_STATE_VALUE} bytes"),
                false,
            )));
        }
        let started = Instant::now();
        let r = self
            .store
            .state_set(self.namespace, &key, &value, self.quota);
        Ok(self.state_result("SET", &key, started, r))
    }

    async fn delete(&mut self, key: String) -> WasmResult<Result<(), types::PluginError>> {
        if let Some(e) = self.check_state("DELETE", &key)? {
            return Ok(Err(e));
        }
        let started = Instant::now();
        let r = self.store.state_delete(self.namespace, &key);
        Ok(self.state_result("DELETE", &key, started, r))
    }
}
