//! JumpCloud on the runtime's side of the broker: the local sandbox that stands in for a
//! real organisation, and [`embedded`], which starts it inside the runtime when no API key
//! is configured.
//!
//! # Layout
//! - [`sandbox`]: the simulated JumpCloud API server.
//! - [`embedded`]: choosing between the configured JumpCloud and an embedded sandbox.

pub mod embedded;
pub mod sandbox;
