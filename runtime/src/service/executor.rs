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

    fn active(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
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
        if prev >= self.exec.capacity {
            self.exec.pending.fetch_sub(1, Ordering::SeqCst);
            self.metrics.refused();
            return Err(Refused::QueueFull);
        }
        Ok(Admission {
            service: self,
            used: false,
        })
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
        if source != Source::Internal && record.status.is_finished() {
            self.internal_event(&record);
        }
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
