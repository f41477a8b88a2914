//! The `jumpcloud` import: one JumpCloud API request through the host's broker. The
//! request is admitted against the call budget, then checked against the plugin's grants
//! and the workflow's run-as role before it is sent; a refused request never reaches
//! JumpCloud, is recorded, and ends the step with `PERMISSION_DENIED`.

use std::time::Instant;

use wasmtime::Result as WasmResult;
use wasmtime::component::{HasData, Linker};

use super::{CallLedger, broker_error};
use sluice_jcsim::permissions::check_jumpcloud;

use crate::broker::permissions::{Grants, RunRole};
use crate::broker::{CallKind, JumpCloudBroker, JumpCloudRequest};
use crate::host::bindings::sluice::plugin::{jumpcloud, types};
use crate::host::bindings::v0_1::sluice::plugin::jumpcloud as v0_1;
use crate::host::step_state::StepState;

/// What the `jumpcloud` import sees of the store: the call ledger (budget and record),
/// the plugin's grants, the run-as role and the JumpCloud broker.
struct JumpCloudView<'a> {
    ledger: &'a mut CallLedger,
    grants: &'a Grants,
    role: Option<&'a RunRole>,
    broker: &'a dyn JumpCloudBroker,
}

/// Names [`JumpCloudView`] as the data the `jumpcloud` bindings are given.
struct JumpCloud;

impl HasData for JumpCloud {
    type Data<'a> = JumpCloudView<'a>;
}

fn view(s: &mut StepState) -> JumpCloudView<'_> {
    JumpCloudView {
        ledger: &mut s.ledger,
        grants: &s.grants,
        role: s.role.as_ref(),
        broker: s.services.jumpcloud.as_ref(),
    }
}

pub(super) fn add_to_linker(linker: &mut Linker<StepState>) -> WasmResult<()> {
    jumpcloud::add_to_linker::<StepState, JumpCloud>(linker, view)?;
    v0_1::add_to_linker::<StepState, JumpCloud>(linker, view)
}

/// 0.1.0's `jumpcloud`: the same request and response.
impl v0_1::Host for JumpCloudView<'_> {
    async fn call(
        &mut self,
        req: v0_1::Request,
    ) -> WasmResult<Result<v0_1::Response, types::PluginError>> {
        let req = jumpcloud::Request {
            method: req.method,
            path: req.path,
            query: req.query,
            body: req.body,
        };
        let r = jumpcloud::Host::call(self, req).await?;
        Ok(r.map(|r| v0_1::Response {
            status: r.status,
            headers: r.headers,
            body: r.body,
        }))
    }
}

impl jumpcloud::Host for JumpCloudView<'_> {
    async fn call(
        &mut self,
        req: jumpcloud::Request,
    ) -> WasmResult<Result<jumpcloud::Response, types::PluginError>> {
        self.ledger.admit()?;
        // The body decides what an association or membership change needs (the other
        // end's type, sudo); it is checked here and sent as it is.
        let needs = match check_jumpcloud(
            &self.ledger.plugin,
            self.grants.strings(),
            &req.method,
            &req.path,
            &req.query,
            req.body.as_deref(),
        ) {
            Ok(n) => n,
            Err(msg) => {
                return Err(self
                    .ledger
                    .deny(CallKind::Jumpcloud, &req.method, &req.path, msg));
            }
        };
        if let Some(role) = self.role {
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
                return Err(self
                    .ledger
                    .deny(CallKind::Jumpcloud, &req.method, &req.path, msg));
            }
        }
        let started = Instant::now();
        let (method, path) = (req.method.clone(), req.path.clone());
        let result = self
            .broker
            .call(JumpCloudRequest {
                method: req.method,
                path: req.path,
                query: req.query,
                body: req.body,
            })
            .await;
        self.ledger.record(
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
