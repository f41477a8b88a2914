//! The JumpCloud simulator: a local organisation behind the subset of JumpCloud's v1, v2
//! and Directory Insights APIs that workflows use, with JumpCloud's shapes, status codes
//! and role checks, over an in-memory directory seeded from a file (or the built-in
//! default).
//!
//! It is what demos, dry runs and every test run against, so nobody needs an organisation
//! (or risks one) to try a workflow. The runtime serves it as `sluice sandbox` and, when no
//! JumpCloud credentials are configured, starts one in process and points its broker at
//! it. It is its own crate so that anything can test against JumpCloud natively — the
//! catalogue plugins' logic, plugin authors' code — without building the WebAssembly host.
//!
//! Two ways in: [`Simulator::exchange`] in process (what the runtime's broker uses), or
//! [`Simulator::spawn`] on a socket (port 0 for tests). [`Directory::handle`] is the bare
//! handler underneath, for tests that need neither auth nor faults.
//!
//! # Layout
//! - [`simulator`]: [`Simulator`], the front every request passes (auth, `x-org-id`,
//!   faults, JSON), its control routes, persistence and the HTTP server.
//! - [`directory`]: the organisation, its graph and the API handlers, split by what they
//!   act on (router, users, user actions, groups, graph, Directory Insights).
//! - [`query`]: `filter`/`sort`/`fields`/paging as JumpCloud parses them.
//! - [`oauth`]: service accounts: the token endpoint, bearer tokens and their roles.
//! - [`scopes`]: the scopes each call needs and each role grants (shared with the
//!   runtime's broker).
//! - [`permissions`]: Sluice's plugin permission strings and the checks a host call
//!   passes (shared by the runtime's broker and the SDK's native test host).
//! - [`seed`]: seed files and the default organisation.
//! - `error.rs`, `faults.rs`: [`ApiError`] and injected [`Faults`].
//! - [`rules`]: what JumpCloud accepts in a user's fields, shared with the catalogue
//!   plugins. It is all the crate has without its default `simulator` feature.

// A new user's `json!` literal has more fields than the default limit expands.
#![recursion_limit = "256"]

pub mod rules;

#[cfg(feature = "simulator")]
pub mod directory;
#[cfg(feature = "simulator")]
mod error;
#[cfg(feature = "simulator")]
mod faults;
#[cfg(feature = "simulator")]
pub mod oauth;
#[cfg(feature = "simulator")]
pub mod permissions;
#[cfg(feature = "simulator")]
pub mod query;
#[cfg(feature = "simulator")]
pub mod scopes;
#[cfg(feature = "simulator")]
pub mod seed;
#[cfg(feature = "simulator")]
pub mod simulator;

#[cfg(feature = "simulator")]
pub use directory::{Directory, Reply, Request};
#[cfg(feature = "simulator")]
pub use error::ApiError;
#[cfg(feature = "simulator")]
pub use faults::Faults;
#[cfg(feature = "simulator")]
pub use simulator::{Incoming, Persistent, RunningSimulator, Simulator, SnapshotStore};
