//! The `http` import: one request through a connector an administrator defined. The
//! request is admitted against the call budget and checked against the plugin's
//! `http:<connector>` grant (a refusal ends the step with `PERMISSION_DENIED`); a malformed
//! request (absolute URL, `..`, credential headers) is answered with an error the plugin
//! can handle and never reaches the connector.

use std::time::Instant;

use sluice_jcsim::permissions::check_connector;
use wasmtime::Result as WasmResult;
use wasmtime::component::{HasData, Linker};

use super::{CallLedger, MAX_TARGET, broker_error, plugin_error, truncate};
use crate::broker::permissions::Grants;
use crate::broker::{CallKind, ConnectorRequest, HttpBroker};
use crate::host::bindings::sluice::plugin::{http, types};
use crate::host::bindings::v0_1::sluice::plugin::http as v0_1;
use crate::host::step_state::StepState;

/// What the `http` import sees of the store: the call ledger (budget and record), the
/// plugin's grants and the connector broker.
struct HttpView<'a> {
    ledger: &'a mut CallLedger,
    grants: &'a Grants,
    broker: &'a dyn HttpBroker,
}

/// Names [`HttpView`] as the data the `http` bindings are given.
struct Http;

impl HasData for Http {
    type Data<'a> = HttpView<'a>;
}

fn view(s: &mut StepState) -> HttpView<'_> {
    HttpView {
        ledger: &mut s.ledger,
        grants: &s.grants,
        broker: s.services.http.as_ref(),
    }
}

pub(super) fn add_to_linker(linker: &mut Linker<StepState>) -> WasmResult<()> {
    http::add_to_linker::<StepState, Http>(linker, view)?;
    v0_1::add_to_linker::<StepState, Http>(linker, view)
}

/// 0.1.0's `http`: the same request and response.
impl v0_1::Host for HttpView<'_> {
    async fn send(
        &mut self,
        req: v0_1::Request,
    ) -> WasmResult<Result<v0_1::Response, types::PluginError>> {
        let req = http::Request {
            connector: req.connector,
            method: req.method,
            path: req.path,
            headers: req.headers,
            query: req.query,
            body: req.body,
        };
        let r = http::Host::send(self, req).await?;
        Ok(r.map(|r| v0_1::Response {
            status: r.status,
            headers: r.headers,
            body: r.body,
        }))
    }
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

impl http::Host for HttpView<'_> {
    async fn send(
        &mut self,
        req: http::Request,
    ) -> WasmResult<Result<http::Response, types::PluginError>> {
        self.ledger.admit()?;
        let target = format!("{}:{}", req.connector, truncate(&req.path, MAX_TARGET));
        if let Err(msg) =
            check_connector(&self.ledger.plugin, self.grants.strings(), &req.connector)
        {
            return Err(self.ledger.deny(CallKind::Http, &req.method, &target, msg));
        }
        if let Some(problem) = connector_request_problem(&req) {
            return Ok(Err(plugin_error(
                crate::code::Code::InvalidRequest,
                problem,
                false,
            )));
        }
        let started = Instant::now();
        let method = req.method.clone();
        let result = self
            .broker
            .send(ConnectorRequest {
                connector: req.connector,
                method: req.method,
                path: req.path,
                headers: req.headers,
                query: req.query,
                body: req.body,
            })
            .await;
        self.ledger.record(
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
