//! Sluice: a WebAssembly plugin runtime for JumpCloud automation.
//!
//! The host loads plugins (WebAssembly components implementing the `sluice:plugin` WIT
//! package), runs each call in a fresh sandboxed instance, and brokers every call a plugin
//! makes to JumpCloud, to external applications, or to its state.
//!
//! # Layout
//! - [`plugin`]: the wasmtime host — engine, component cache, limits, host imports,
//!   registry of installed and bundled plugins.
//! - [`broker`]: the broker traits behind the JumpCloud and HTTP imports, and the
//!   permission model (scopes, grants, run-as roles).
//! - [`connector`]: External App Connector definitions (the client is in [`broker`]).
//! - [`jumpcloud`]: the local JumpCloud sandbox (and what the runtime needs to start it).
//! - [`engine`]: executing runs durably (journal, replay, retries, failure report).
//! - [`secrets`]: secrets sealed at rest under the administrator's key.
//! - [`store`]: persistent state behind small traits (sled).
//! - [`workflow`]: the workflow document, its validation, templating and the template
//!   catalogue.
//! - [`service`]: `sluice serve`'s shared state: stored workflows, the executor and its
//!   limits, tokens and the audit log, metrics.
//! - [`trigger`]: schedules, the Directory Insights poller, webhook signatures.
//! - [`api`]: the HTTP API, webhook receiver and metrics endpoint.
//! - [`bench`]: the measurements behind `sluice bench`.
//! - [`cli`]: the `sluice` command line (the binary's `main` only calls it).

#![recursion_limit = "256"]

pub mod api;
pub mod bench;
pub mod broker;
pub mod cli;
pub mod code;
pub mod connector;
pub mod engine;
pub mod jumpcloud;
pub mod plugin;
pub mod role;
pub mod secrets;
pub mod service;
pub mod store;
pub mod trigger;
pub mod workflow;
