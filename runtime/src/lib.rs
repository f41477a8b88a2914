//! Sluice: a WebAssembly plugin runtime for JumpCloud automation.
//!
//! The host loads plugins (WebAssembly components implementing the `sluice:plugin` WIT
//! package), runs each call in a fresh sandboxed instance, and brokers every call a plugin
//! makes to JumpCloud, to external applications, or to its state.
//!
//! # Layout
//! One module per folder, in layers: each module may use only the modules its row names
//! (directly or through a path), so the arrows point one way and no two folders need each
//! other. A test (`layers.rs`) reads this table and every `crate::` path in the source and
//! fails on an arrow the table does not have, and on a cycle in the table.
//!
//! From the top: `cli → server → {api, trigger} → service → engine → {workflow, plugin} →
//! {role, broker} → store`, with two leaves of plain definitions under the store, and
//! `code` (the table of error codes, which imports nothing) under every module.
//!
//! | module | what it holds | may use |
//! |---|---|---|
//! | [`cli`] | the `sluice` command line (the binary's `main` only calls it) | `server`, `bench`, `service`, `engine`, `workflow`, `plugin`, `role`, `jumpcloud`, `broker`, `store`, `connector`, `secrets`, `code` |
//! | [`bench`] | the measurements behind `sluice bench` | `trigger`, `service`, `engine`, `workflow`, `plugin`, `jumpcloud`, `broker`, `store`, `secrets`, `code` |
//! | [`server`] | the composition root of `sluice serve`: builds the API, the scheduler, the poller and the webhook receiver on one service, runs them on a given listener until a given shutdown | `api`, `trigger`, `service`, `code` |
//! | [`api`] | the HTTP API, webhook receiver, metrics endpoint, console | `trigger`, `service`, `engine`, `workflow`, `plugin`, `role`, `store`, `connector`, `secrets`, `code` |
//! | [`trigger`] | schedules, the Directory Insights poller, webhook signatures | `service`, `workflow`, `broker`, `store`, `code` |
//! | [`service`] | what `sluice serve`'s parts share: stored workflows, the executor and its limits, tokens and the audit log, metrics | `engine`, `workflow`, `plugin`, `role`, `broker`, `store`, `secrets`, `code` |
//! | [`engine`] | executing runs durably (journal, replay, retries, failure report) | `workflow`, `plugin`, `role`, `jumpcloud`, `broker`, `store`, `connector`, `code` |
//! | [`workflow`] | the workflow document, its validation, templating and the template catalogue | `plugin`, `role`, `broker`, `connector`, `code` |
//! | [`plugin`] | the wasmtime host: engine, component cache, limits, host imports, registry | `broker`, `store`, `code` |
//! | [`role`] | custom roles (definitions, checks, resolving `run_as`) | `broker`, `store`, `code` |
//! | [`jumpcloud`] | the local JumpCloud sandbox, and what the runtime needs to start it | `broker`, `connector`, `store`†, `code` |
//! | [`broker`] | the broker traits behind the JumpCloud and HTTP imports, the JumpCloud and connector clients, the permission model (scopes, grants, run-as roles) | `store`, `connector`, `secrets`, `jumpcloud`†, `code` |
//! | [`store`] | persistent state: one small trait per table, and the sled implementation | `connector`, `secrets`, `jumpcloud`†, `code` |
//! | [`connector`] | External App Connector definitions (the client is in `broker`) | `code` |
//! | [`secrets`] | secrets sealed at rest under the administrator's key | `code` |
//! | [`code`] | the one table of error codes (string, number, HTTP status, exit code, retry, explanation) behind `docs/errors.md` | — |
//! | `layers` | (tests only) the check of this table | — |
//!
//! † Provisional, while the JumpCloud sandbox is a module of this crate: the broker's
//! client can talk to it in process, the store keeps its snapshot, and its tests open a
//! store. These arrows go (the sandbox becomes a crate of its own that these modules
//! depend on) and are not counted in the cycle check; `jumpcloud → broker, connector`
//! (starting the sandbox for the runtime) stays.

#![recursion_limit = "256"]

pub mod api;
pub mod bench;
pub mod broker;
pub mod cli;
pub mod code;
pub mod connector;
pub mod engine;
pub mod jumpcloud;
#[cfg(test)]
mod layers;
pub mod plugin;
pub mod role;
pub mod secrets;
pub mod server;
pub mod service;
pub mod store;
pub mod trigger;
pub mod workflow;
