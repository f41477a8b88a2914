//! Running runs in the service: admission against the bounded queue, then the per-workflow,
//! event and global concurrency limits, then the engine. When a run finishes, waiters (a
//! webhook answering with the output) are told and internal events fire. The ids of the
//! runs launched here and not finished are kept, so a run is never launched twice (an
//! administrator's resume of a run that is already queued or executing is refused).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore, oneshot};

use super::{Service, ServiceConfig};
use crate::engine::{RunRecord, RunStatus};
use crate::store::cluster::{Claim, Slot};

/// How often a run waiting for the database (to claim it) tries again.
const CLUSTER_RETRY: Duration = Duration::from_secs(1);
/// How often a run waiting for one of its workflow's slots across the cluster looks again.
const SLOT_RETRY: Duration = Duration::from_millis(20);
/// How long the cluster's queue fill is trusted before it is counted again.
const FILL_RECOUNT: Duration = Duration::from_millis(250);
use crate::workflow::model::Trigger;

/// Where a run came from; decides which limits apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The API or a webhook: admitted against the queue capacity first.
    Api,
    /// A schedule fire, a resumed run or a retry: never refused (nothing is lost).
    Trigger,
    /// A Directory Insights event: also under the per-workflow event cap.
    Event,
    /// An internal `run.*` event: does not fire internal events itself (no loops).
    Internal,
}

/// The queue and limits.
pub(crate) struct ExecState {
    global: Arc<Semaphore>,
    per_workflow: std::sync::Mutex<HashMap<String, Arc<Semaphore>>>,
    per_workflow_events: std::sync::Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Runs accepted and not finished (queued or executing).
    pending: AtomicUsize,
    /// Runs executing now.
    running: AtomicUsize,
    idle: Notify,
    accepting: AtomicBool,
    waiters: std::sync::Mutex<HashMap<String, Vec<oneshot::Sender<RunRecord>>>>,
    /// Runs launched in this process and not finished (queued for a slot, or executing).
    active: std::sync::Mutex<HashSet<String>>,
    per_workflow_limit: usize,
    event_limit: usize,
    capacity: usize,
    /// On a shared database: the cluster's unfinished runs as last counted, and when.
    cluster_fill: std::sync::Mutex<Option<(std::time::Instant, u64)>>,
}

impl ExecState {
    pub(crate) fn new(config: &ServiceConfig) -> Self {
        Self {
            global: Arc::new(Semaphore::new(config.max_concurrent_runs.max(1))),
            per_workflow: Default::default(),
            per_workflow_events: Default::default(),
            pending: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            idle: Notify::new(),
            accepting: AtomicBool::new(true),
            waiters: Default::default(),
            active: Default::default(),
            per_workflow_limit: config.per_workflow_concurrency.max(1),
            event_limit: config.event_runs_per_workflow.max(1),
            capacity: config.queue_capacity.max(1),
            cluster_fill: Default::default(),
        }
    }

    pub(crate) fn stop_accepting(&self) {
        self.accepting.store(false, Ordering::SeqCst);
    }

    pub(crate) fn accepting(&self) -> bool {
        self.accepting.load(Ordering::SeqCst)
    }

    /// Runs accepted but not executing yet.
    pub fn queued(&self) -> usize {
        self.pending
            .load(Ordering::SeqCst)
            .saturating_sub(self.running.load(Ordering::SeqCst))
    }

    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    pub(super) fn active(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn semaphore(
    map: &std::sync::Mutex<HashMap<String, Arc<Semaphore>>>,
    name: &str,
    permits: usize,
) -> Arc<Semaphore> {
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    m.entry(name.to_owned())
        .or_insert_with(|| Arc::new(Semaphore::new(permits)))
        .clone()
}

/// Why a run was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The queue is full (HTTP 429).
    QueueFull,
    /// The service is shutting down (HTTP 503).
    ShuttingDown,
    /// The database the nodes share cannot be reached (HTTP 503).
    Unavailable,
}

/// A place in the queue, taken before the run is recorded; given back if it never starts.
#[derive(Debug)]
pub struct Admission<'a> {
    service: &'a Service,
    used: bool,
}

impl Admission<'_> {
    fn consume(mut self) {
        self.used = true;
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        if !self.used {
            self.service.exec.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Service {
    /// Takes a place in the bounded queue for a run from the API or a webhook.
    pub fn admit(&self) -> Result<Admission<'_>, Refused> {
        if !self.exec.accepting() {
            return Err(Refused::ShuttingDown);
        }
        let prev = self.exec.pending.fetch_add(1, Ordering::SeqCst);
        if prev >= self.exec.capacity || self.cluster_full()? {
            self.exec.pending.fetch_sub(1, Ordering::SeqCst);
            self.metrics.refused();
            return Err(Refused::QueueFull);
        }
        Ok(Admission {
            service: self,
            used: false,
        })
    }

    /// Whether the cluster's queue is full: its unfinished runs, counted at most every
    /// [`FILL_RECOUNT`] (a burst between counts may overshoot the capacity by what the
    /// nodes admit in that time). Always false for a store one process holds.
    fn cluster_full(&self) -> Result<bool, Refused> {
        if !self.cluster.shared() {
            return Ok(false);
        }
        let mut fill = self
            .exec
            .cluster_fill
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let count = match *fill {
            Some((at, n)) if at.elapsed() < FILL_RECOUNT => n,
            _ => {
                let n = self.cluster.unfinished().map_err(|e| {
                    tracing::warn!("cannot count the cluster's queue: {e}");
                    Refused::Unavailable
                })?;
                *fill = Some((std::time::Instant::now(), n));
                n
            }
        };
        // Admitted here since the count: counted once they are recorded.
        *fill = fill.map(|(at, n)| (at, n + 1));
        Ok(count >= self.exec.capacity as u64)
    }

    /// Starts an admitted run.
    pub fn start_admitted(self: &Arc<Self>, admission: Admission<'_>, run: &RunRecord) {
        admission.consume();
        self.launch(run.id.clone(), run.workflow.clone(), Source::Api);
    }

    /// Starts a recorded run from a trigger, a retry or a resume (not refused).
    pub fn spawn_run(self: &Arc<Self>, id: String, workflow: String, source: Source) {
        self.exec.pending.fetch_add(1, Ordering::SeqCst);
        self.launch(id, workflow, source);
    }

    /// Whether a run was launched in this process and has not finished: it is waiting for a
    /// slot or executing, so it cannot be resumed.
    pub fn is_active(&self, id: &str) -> bool {
        self.exec.active().contains(id)
    }

    /// Resumes an unfinished run that nothing in this process is running (one left by an
    /// earlier process and held at start, or one whose execution stopped on an error): it
    /// continues from its last journaled step, as `sluice runs resume` does. Refused for an
    /// unknown run, a finished one, and one already queued or executing here.
    ///
    /// `record` runs once the run is claimed and before it is launched (the API writes its
    /// audit entry there); when it fails, nothing is launched and the run stays resumable.
    pub fn resume<E: From<crate::engine::EngineError>>(
        self: &Arc<Self>,
        admission: Admission<'_>,
        id: &str,
        record: impl FnOnce(&RunRecord) -> Result<(), E>,
    ) -> Result<RunRecord, E> {
        // Checked and claimed under the lock, so two resumes cannot both launch it.
        let mut active = self.exec.active();
        let run = self.engine.get(id)?;
        if run.status.is_finished() {
            return Err(crate::engine::EngineError::Finished(id.to_owned()).into());
        }
        if !active.insert(id.to_owned()) {
            return Err(crate::engine::EngineError::Active(id.to_owned()).into());
        }
        drop(active);
        // On a shared database: not while another live node holds it.
        match self.cluster.claim(id, &run.workflow) {
            Ok(Claim::Mine) => {}
            Ok(Claim::Held(_)) => {
                self.exec.active().remove(id);
                return Err(crate::engine::EngineError::Active(id.to_owned()).into());
            }
            Err(e) => {
                self.exec.active().remove(id);
                return Err(crate::engine::EngineError::from(e).into());
            }
        }
        if let Err(e) = record(&run) {
            self.exec.active().remove(id);
            return Err(e);
        }
        admission.consume();
        let source = if run.trigger["type"] == "event" {
            Source::Event
        } else {
            Source::Api
        };
        self.launch_claimed(run.id.clone(), run.workflow.clone(), source);
        Ok(run)
    }

    /// A receiver that gets the run's final record when it finishes in this process.
    pub fn wait_for(&self, id: &str) -> oneshot::Receiver<RunRecord> {
        let (tx, rx) = oneshot::channel();
        self.exec
            .waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.to_owned())
            .or_default()
            .push(tx);
        rx
    }

    /// Launches a recorded run unless it is already queued or executing here (resumed in
    /// the moment between its recording and its start): one execution is enough.
    fn launch(self: &Arc<Self>, id: String, workflow: String, source: Source) {
        if !self.exec.active().insert(id.clone()) {
            if self.exec.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
                self.exec.idle.notify_waiters();
            }
            return;
        }
        self.launch_claimed(id, workflow, source);
    }

    /// Launches a run already claimed in the active set (its place in the queue counted).
    fn launch_claimed(self: &Arc<Self>, id: String, workflow: String, source: Source) {
        self.metrics.run_queued();
        let service = self.clone();
        // The whole run goes to the guest pool: its plugin calls need no hand-off, and
        // nothing it runs can hold the threads that serve the API and the triggers.
        self.registry.host().guests().spawn(async move {
            // The engine turns a panic in a run into a failed run; this catches what is left
            // (the bookkeeping around it), so the queue's count stays right either way.
            let run = std::panic::AssertUnwindSafe(service.execute(&id, &workflow, source));
            if futures::FutureExt::catch_unwind(run).await.is_err() {
                tracing::error!("run {id}: internal error after the run (see the log above)");
            }
            service.exec.active().remove(&id);
            if service.exec.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
                service.exec.idle.notify_waiters();
            }
        });
    }

    async fn execute(self: &Arc<Self>, id: &str, workflow: &str, source: Source) {
        if self.cluster.shared() && !self.hold(id, workflow).await {
            return;
        }
        let _event = match source {
            Source::Event => semaphore(
                &self.exec.per_workflow_events,
                workflow,
                self.exec.event_limit,
            )
            .acquire_owned()
            .await
            .ok(),
            _ => None,
        };
        let _workflow = semaphore(
            &self.exec.per_workflow,
            workflow,
            self.exec.per_workflow_limit,
        )
        .acquire_owned()
        .await
        .ok();
        let _global = self.exec.global.clone().acquire_owned().await.ok();
        if self.cluster.shared() && !self.cluster_slot(id, workflow).await {
            return;
        }
        if !self.exec.accepting() {
            // Shutting down: the run stays queued and starts with the next service.
            return;
        }
        self.exec.running.fetch_add(1, Ordering::SeqCst);
        let result = self.engine.execute(id, &*self.metrics).await;
        self.exec.running.fetch_sub(1, Ordering::SeqCst);
        self.exec.idle.notify_waiters();
        let record = match result {
            Ok(r) => r,
            // Another node holds it now and finishes it.
            Err(crate::engine::EngineError::Abandoned(_)) => return,
            // The database is unreachable: the lease lapses, and whichever node takes the
            // run over (this one too) goes on from its journal once the database is back.
            Err(crate::engine::EngineError::Store(e)) if self.cluster.shared() => {
                tracing::warn!("run {id} paused: {e}");
                return;
            }
            Err(e) => {
                // A run cancelled while it waited for a slot is already finished.
                if !matches!(e, crate::engine::EngineError::Finished(_)) {
                    tracing::error!("run {id}: {e}");
                }
                match self.engine.get(id) {
                    Ok(r) => r,
                    Err(_) => return,
                }
            }
        };
        self.metrics.run_finished(record.status);
        let waiters = self
            .exec
            .waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
            .unwrap_or_default();
        for w in waiters {
            let _ = w.send(record.clone());
        }
        // After the waiters (a webhook answering with the output need not wait for it): the
        // record is final. The run's workflow slot is freed with the lease, a round trip
        // later; a run started at once may wait for that slot a moment.
        if record.status.is_finished()
            && let Err(e) = self.cluster.release(id)
        {
            // It lapses instead; the node that takes it finds it finished and releases it.
            tracing::warn!("run {id}: cannot release its lease: {e}");
        }
        if source != Source::Internal && record.status.is_finished() {
            self.internal_event(&record);
        }
    }

    /// Claims a run before it executes here (a shared database): true once this node
    /// holds it; false when another live node does, or the service stops first. While the
    /// database cannot be reached it waits and tries again: the run pauses, nothing is lost.
    async fn hold(&self, id: &str, workflow: &str) -> bool {
        loop {
            match self.cluster.claim(id, workflow) {
                Ok(Claim::Mine) => return true,
                Ok(Claim::Held(node)) => {
                    tracing::debug!("run {id} is held by node {node}");
                    return false;
                }
                Err(e) => tracing::warn!("run {id} waits for the database: {e}"),
            }
            if !self.exec.accepting() {
                return false;
            }
            tokio::time::sleep(CLUSTER_RETRY).await;
        }
    }

    /// Waits for one of the workflow's execution slots across the cluster (its
    /// per-workflow concurrency counts every node's runs); false if the service stops or
    /// another node took the run over meanwhile.
    async fn cluster_slot(&self, id: &str, workflow: &str) -> bool {
        loop {
            match self
                .cluster
                .slot(id, workflow, self.exec.per_workflow_limit)
            {
                Ok(Slot::Taken) => return true,
                Ok(Slot::NotHeld) => return false,
                Ok(Slot::Full) => {}
                Err(e) => tracing::warn!("run {id} waits for the database: {e}"),
            }
            if !self.exec.accepting() {
                return false;
            }
            tokio::time::sleep(SLOT_RETRY).await;
        }
    }

    /// Cancels a run: at once when it is not executing anywhere, before its next step when
    /// it executes here; one executing on another node is cancelled by that node within a
    /// third of the lease (its renewal carries the request).
    pub fn cancel(&self, id: &str) -> Result<RunRecord, crate::engine::EngineError> {
        let run = self.engine.get(id)?;
        if run.status.is_finished() {
            return Err(crate::engine::EngineError::Finished(id.to_owned()));
        }
        if self.cluster.shared()
            && !self.engine.is_executing(id)
            && let Some(node) = self.cluster.request_cancel(id)?
        {
            tracing::info!("run {id}: cancel passed to node {node}");
            return Ok(run);
        }
        let run = self.engine.cancel(id)?;
        // Executing here, it finishes before its next step, and its execution releases it.
        if run.status.is_finished() {
            let _ = self.cluster.release(id);
        }
        Ok(run)
    }

    /// Fires `run.succeeded` or `run.failed` (failed or partially completed) for workflows
    /// listening for it. The run is the event: `${input.run.workflow}`, `${input.run.report}`.
    fn internal_event(self: &Arc<Self>, run: &RunRecord) {
        let event_type = match run.status {
            RunStatus::Succeeded => "run.succeeded",
            RunStatus::Failed | RunStatus::PartiallyCompleted => "run.failed",
            _ => return,
        };
        let event = json!({
            "id": format!("{event_type}/{}", run.id),
            "event_type": event_type,
            "timestamp": run.finished_at,
            "run": {
                "id": run.id,
                "workflow": run.workflow,
                "status": run.status,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "output": run.output,
                "report": run.report,
            },
        });
        let listeners = match self.event_listeners(event_type) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("internal event {event_type}: {e}");
                return;
            }
        };
        for (doc, subs, pins) in listeners.iter() {
            if doc.name == run.workflow {
                continue;
            }
            self.deliver_event(doc, subs, pins, &event, Source::Internal);
        }
    }

    /// Starts `doc` for `event` unless its condition says no or the event already started
    /// it (the fire key is the workflow and the event id).
    pub(crate) fn deliver_event(
        self: &Arc<Self>,
        doc: &crate::workflow::model::WorkflowDoc,
        subs: &std::collections::BTreeMap<String, crate::workflow::model::WorkflowDoc>,
        pins: &crate::host::registry::Pins,
        event: &Value,
        source: Source,
    ) {
        let Trigger::Event {
            event_type,
            condition,
        } = &doc.trigger
        else {
            return;
        };
        if let Some(cond) = condition {
            let scope = json!({"input": event, "vars": doc.vars, "trigger": {"type": "event"}});
            match crate::workflow::template::render(cond, &scope) {
                Ok(v) if crate::engine::truthy(&v) => {}
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(
                        "workflow {}: event condition: {}: {}",
                        doc.name,
                        e.location,
                        e.message
                    );
                    return;
                }
            }
        }
        let event_id = event["id"].as_str().unwrap_or_default().to_owned();
        let fire = format!("event/{}/{event_id}", doc.name);
        let trigger = json!({"type": "event", "event_type": event_type, "event_id": event_id});
        let name = doc.name.clone();
        match self.engine.create_run_once(
            &fire,
            doc.clone(),
            subs.clone(),
            pins.clone(),
            event.clone(),
            trigger,
        ) {
            Ok((run, true)) => {
                self.metrics.event_run();
                self.spawn_run(run.id, name, source);
            }
            Ok((_, false)) => {}
            Err(e) => tracing::error!("workflow {name}: cannot record the event's run: {e}"),
        }
    }

    /// Waits until no run is executing or queued here, or `grace` passes. True if idle.
    pub async fn drain(&self, grace: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let idle = self.exec.idle.notified();
            if self.exec.running() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return self.exec.running() == 0;
            }
        }
    }
}
