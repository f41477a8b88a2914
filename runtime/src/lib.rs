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
//! From the top: `cli → server → {api, trigger} → service → engine → {workflow, host} →
//! {role, broker} → store`, with two leaves of plain definitions under the store, and
//! `code` (the table of error codes, which imports nothing) under every module.
//!
//! | module | what it holds | may use |
//! |---|---|---|
//! | [`cli`] | the `sluice` command line (the binary's `main` only calls it) | `server`, `bench`, `service`, `engine`, `workflow`, `host`, `role`, `jumpcloud`, `broker`, `store`, `connector`, `secrets`, `code` |
//! | [`bench`] | the measurements behind `sluice bench` | `trigger`, `service`, `engine`, `workflow`, `host`, `jumpcloud`, `broker`, `store`, `secrets`, `code` |
//! | [`server`] | the composition root of `sluice serve`: builds the API, the scheduler, the poller and the webhook receiver on one service, runs them on a given listener until a given shutdown | `api`, `trigger`, `service`, `code` |
//! | [`api`] | the HTTP API, webhook receiver, metrics endpoint, console | `trigger`, `service`, `engine`, `workflow`, `host`, `role`, `store`, `connector`, `secrets`, `code` |
//! | [`trigger`] | schedules, the Directory Insights poller, webhook signatures | `service`, `workflow`, `broker`, `store`, `code` |
//! | [`service`] | what `sluice serve`'s parts share: stored workflows, the executor and its limits, tokens and the audit log, metrics | `engine`, `workflow`, `host`, `role`, `broker`, `store`, `secrets`, `code` |
//! | [`engine`] | executing runs durably (journal, replay, retries, failure report) | `workflow`, `host`, `role`, `jumpcloud`, `broker`, `store`, `connector`, `code` |
//! | [`workflow`] | the workflow document, its validation, templating and the template catalogue | `host`, `role`, `broker`, `connector`, `code` |
//! | [`host`] | the WebAssembly host: wasmtime's configuration, component cache, limits, one file per host import, registry of installed and bundled plugins | `broker`, `store`, `code` |
//! | [`role`] | custom roles (definitions, checks, resolving `run_as`) | `broker`, `store`, `code` |
//! | [`jumpcloud`] | which JumpCloud a runtime talks to, and the wiring that starts the JumpCloud simulator (the `sluice-jcsim` crate) in process | `broker`, `connector`, `code` |
//! | [`broker`] | the broker traits behind the JumpCloud and HTTP imports, the JumpCloud and connector clients, the permission model (grants, run-as roles; JumpCloud's scope table is `sluice_jcsim::scopes`) | `store`, `connector`, `secrets`, `code` |
//! | [`store`] | persistent state: one small trait per table, all of them in one object-safe `Store` the runtime holds as `Arc<dyn Store>`, `store::open` (where a backend is chosen), and the sled and PostgreSQL implementations | `connector`, `secrets`, `code` |
//! | [`connector`] | External App Connector definitions (the client is in `broker`) | `code` |
//! | [`secrets`] | secrets sealed at rest under the administrator's key | `code` |
//! | [`code`] | the one table of error codes (string, number, HTTP status, exit code, retry, explanation) behind `docs/errors.md` | — |
//! | `layers` | (tests only) the check of this table | — |
//!
//! The JumpCloud simulator is a crate of its own (`sluice-jcsim`, `jcsim/`) below all of
//! these: the broker's client can talk to it in process, the store keeps its snapshot, and
//! JumpCloud's scope table (which scopes a call needs, which a predefined role grants) is
//! its `scopes` module. An arrow marked `†` in the table would be provisional: allowed, but
//! not counted in the cycle check; there is none.

#![recursion_limit = "256"]

pub mod api;
pub mod bench;
pub mod broker;
pub mod cli;
pub mod code;
pub mod connector;
pub mod engine;
pub mod host;
pub mod jumpcloud;
#[cfg(test)]
mod layers;
pub mod role;
pub mod secrets;
pub mod server;
pub mod service;
pub mod store;
pub mod trigger;
pub mod workflow;
