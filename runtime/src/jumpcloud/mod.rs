//! JumpCloud on the runtime's side: which organisation a runtime talks to, and the wiring
//! that puts the JumpCloud simulator (the `sluice-jcsim` crate) behind the broker when no
//! credentials are configured.
//!
//! This sits above [`crate::broker`]: it builds a broker (a client of a real organisation,
//! or one that calls an in-process simulator) and hands it to the runtime; the broker
//! never reaches back up here.
//!
//! # Layout
//! - [`embedded`]: choosing between the configured JumpCloud and an embedded simulator.
pub mod embedded;
