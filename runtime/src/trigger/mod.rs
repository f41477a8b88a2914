//! What starts runs besides an admin: schedules, Directory Insights events and signed
//! webhooks. (Manual runs come from the CLI and the API; internal `run.*` events from the
//! service's executor.)
//!
//! # Layout
//! - this file: the [`Clock`] the scheduler reads the time from and waits on (the system
//!   clock in the service; tests move a manual one, so no test waits for real time);
//! - `schedule.rs`: cron schedules, persisted progress, the misfire policy;
//! - `events.rs`: the Directory Insights poller (persisted cursor, de-duplication);
//! - `webhook.rs`: Standard Webhooks signatures of inbound webhooks; forgetting message ids
//!   once their timestamps leave the tolerance.

pub mod events;
pub mod schedule;
pub mod webhook;

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};

/// A wait on a [`Clock`].
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Where the scheduler reads the time, and waits for a time to come.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// Resolves once [`Clock::now`] has reached `at` (at once when it has).
    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep<'_>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep<'_> {
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that stands still until a test moves it (tests only): the scheduler under test
/// runs through hours of schedule in no time, and the test knows when it has done what
/// came due (it waits on the clock again).
#[cfg(test)]
pub(crate) struct ManualClock {
    now: tokio::sync::watch::Sender<DateTime<Utc>>,
    /// How many times a task has begun to wait for a time still ahead.
    parks: tokio::sync::watch::Sender<u64>,
}

#[cfg(test)]
impl ManualClock {
    pub(crate) fn new(at: DateTime<Utc>) -> std::sync::Arc<ManualClock> {
        std::sync::Arc::new(ManualClock {
            now: tokio::sync::watch::Sender::new(at),
            parks: tokio::sync::watch::Sender::new(0),
        })
    }

    /// How many waits for a time still ahead have begun so far.
    pub(crate) fn parks(&self) -> u64 {
        *self.parks.borrow()
    }

    /// Waits until a task waits on this clock for a time still ahead, more than `mark`
    /// waits in all: whatever woke it is done.
    pub(crate) async fn parked_after(&self, mark: u64) {
        let mut parks = self.parks.subscribe();
        let waited = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            parks.wait_for(|p| *p > mark),
        )
        .await;
        assert!(
            matches!(waited, Ok(Ok(_))),
            "nothing waited on the clock again"
        );
    }

    /// Moves the clock on by `by`, without waiting for anything.
    pub(crate) fn set_forward(&self, by: std::time::Duration) {
        let by = chrono::Duration::from_std(by).expect("a short step");
        self.now.send_modify(|t| *t += by);
    }

    /// Moves the clock on by `by` (past a time a task waits for) and waits until that task
    /// has done what came due and waits again.
    pub(crate) async fn advance(&self, by: std::time::Duration) {
        let mark = self.parks();
        self.set_forward(by);
        self.parked_after(mark).await;
    }
}

#[cfg(test)]
impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep<'_> {
        let mut now = self.now.subscribe();
        Box::pin(async move {
            if *now.borrow() >= at {
                return;
            }
            self.parks.send_modify(|p| *p += 1);
            let _ = now.wait_for(|t| *t >= at).await;
        })
    }
}
