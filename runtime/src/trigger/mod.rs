//! What starts runs besides an admin: schedules, Directory Insights events and signed
//! webhooks. (Manual runs come from the CLI and the API; internal `run.*` events from the
//! service's executor.)
//!
//! # Layout
//! - this file: the [`Clock`] the scheduler reads time from (tests drive their own);
//! - `schedule.rs`: cron schedules, persisted progress, the misfire policy;
//! - `events.rs`: the Directory Insights poller (persisted cursor, de-duplication);
//! - `webhook.rs`: Standard Webhooks signatures of inbound webhooks; forgetting message ids
//!   once their timestamps leave the tolerance.

pub mod events;
pub mod schedule;
pub mod webhook;

use chrono::{DateTime, Utc};

/// Where the scheduler reads the time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
