//! Executing runs: steps, flows (`if`, `for_each`, `parallel`, sub-workflows), connector
//! calls, retries, error handling, and the journal that makes a run durable.
//!
//! Durability is by replay: every finished leaf step (a plugin call, a condition, a
//! connector call) is journaled under its path in the run before the run moves on. The
//! journal is written ahead of effects (concurrent runs share flushes): a step whose plugin
//! holds a permission waits until everything before it is on disk and has its own record
//! flushed at once; the run's end waits for the whole journal. Executing a run walks the
//! workflow from the top; a leaf whose path is already journaled is not called again, its
//! recorded result is used. So a run interrupted by a crash resumes where it stopped and a
//! finished step with effects does not run twice; a step in flight at the crash runs again,
//! and so may a permission-less step whose record had not been flushed yet.
//!
//! The engine runs typed steps ([`Step`](crate::workflow::step::Step)): a run's workflow is
//! typed by validation when the run starts or resumes, so the engine parses no duration or
//! retry policy and has no "unknown kind" case.
//!
//! # Layout
//! - this file: [`Engine`] and the [`Progress`] observer;
//! - `records.rs`: what is kept: run records, the journal's step records, the engine's
//!   errors;
//! - `runs.rs`: creating, starting, resuming, cancelling, retrying and finishing runs;
//! - `walk.rs`: sequencing steps: guards, dispatch on the step's kind, failures and
//!   `on_error`, the scope steps see;
//! - `call.rs`: a leaf step's plugin call, with retries, journaled (or replayed);
//! - `retry.rs`: whether and when a failed attempt is tried again (pure);
//! - `step/`: one file per step kind: `action.rs`, `if_else.rs`, `for_each.rs`,
//!   `parallel.rs`, `workflow.rs`, `connector.rs`;
//! - `report.rs`: the failure report, its texts fitted to each error's code;
//! - `testing.rs` (tests only): an engine over a temporary store and the bundled plugins.
//!
//! A new step kind is one variant of [`StepKind`](crate::workflow::step::StepKind), one
//! arm in validation (`workflow/validate/steps.rs`), one file in `step/` and one arm in the
//! walk's dispatch.

mod call;
mod records;
pub mod report;
pub mod retry;
mod runs;
mod walk;

/// One file per step kind, each an `impl` of the walk's run context.
mod step {
    mod action;
    mod connector;
    mod for_each;
    mod if_else;
    mod parallel;
    mod workflow;
}

#[cfg(test)]
mod testing;

use std::sync::Arc;

pub use self::records::{
    Attempt, EngineError, FailedStep, RunPage, RunQuery, RunRecord, RunStatus, RunSummary,
    StepRecord, TriggerKind, new_run_id,
};
pub use self::retry::retry_delay;
pub use self::runs::manual_trigger;
pub use self::walk::truthy;
use crate::host::registry::Registry;
use crate::store::Store;

/// Observes a run's progress (the CLI prints it; tests count it).
pub trait Progress: Send + Sync {
    fn step_finished(&self, _run: &str, _path: &str, _ok: bool, _replayed: bool) {}
    /// A step ran (not replayed) and its record was journaled.
    fn step_recorded(&self, _run: &str, _record: &StepRecord) {}
}

/// A progress observer that says nothing.
#[derive(Debug, Default)]
pub struct Quiet;
impl Progress for Quiet {}

/// Runs workflows.
pub struct Engine {
    registry: Arc<Registry>,
    store: Arc<dyn Store>,
    /// Runs executing in this process, and those asked to stop.
    executing: std::sync::Mutex<std::collections::HashSet<String>>,
    cancelled: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Runs this process stops executing without recording an end: another node took
    /// them over (this one lost its lease), and that node finishes them.
    abandoned: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new(registry: Arc<Registry>, store: Arc<dyn Store>) -> Self {
        Self {
            registry,
            store,
            executing: Default::default(),
            cancelled: Default::default(),
            abandoned: Default::default(),
        }
    }

    fn is_cancelled(&self, id: &str) -> bool {
        lock(&self.cancelled).contains(id)
    }

    /// Whether the run is executing in this process.
    pub fn is_executing(&self, id: &str) -> bool {
        lock(&self.executing).contains(id)
    }

    /// Stops executing a run before its next step, recording nothing more: another node
    /// holds it now (this one lost its lease) and goes on from its journal. The step in
    /// flight finishes and is journaled, as at a crash. Nothing happens to a run that is
    /// not executing here.
    pub fn abandon(&self, id: &str) {
        if lock(&self.executing).contains(id) {
            lock(&self.abandoned).insert(id.to_owned());
            lock(&self.cancelled).insert(id.to_owned());
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The plugin host runs call into (and whose guest pool they run on).
    pub fn host(&self) -> &Arc<crate::host::PluginHost> {
        self.registry.host()
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
