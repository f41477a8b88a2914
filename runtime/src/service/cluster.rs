//! This node's part among the nodes sharing a database: it says it is alive and renews its
//! runs' leases every third of the lease, stops the runs another node took from it, passes
//! on cancels asked through other nodes, takes over the runs of nodes that stopped
//! renewing, and takes or keeps the leader's role (the scheduler and the Directory
//! Insights poller run on the leader only), and follows workflow changes made through
//! other nodes. On a store one process holds, the node is always the leader and nothing
//! else happens.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{Service, Source};
use crate::store::cluster::{LEADER, WORKFLOWS};

/// The longest wait between two looks for runs to take over.
const LONGEST_SCAN: Duration = Duration::from_secs(1);

/// Runs taken over at once, at most (more are taken at the next look).
const TAKE_AT_ONCE: usize = 64;

impl Service {
    /// Whether this node runs the scheduler and the event poller now.
    pub fn leading(&self) -> bool {
        self.leading.load(Ordering::SeqCst)
    }

    /// Resolves the next time this node gains or loses the leader's role (enable it before
    /// looking at [`Self::leading`], so a change in between is not missed).
    pub(crate) fn leadership_changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.lead_change.notified()
    }

    /// The cluster task, until `stop`; then it leaves the cluster (its roles and the leases
    /// of runs it could not finish go to other nodes at once).
    pub async fn keep_alive(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let lease = self.cluster.lease();
        let beat = lease / 3;
        let scan = (lease / 10).clamp(Duration::from_millis(100), LONGEST_SCAN);
        let mut next_beat = tokio::time::Instant::now();
        let mut workflows = None;
        loop {
            if tokio::time::Instant::now() >= next_beat {
                self.beat();
                next_beat = tokio::time::Instant::now() + beat;
            }
            if self.cluster.shared() {
                self.follow_changes(&mut workflows);
                if self.exec.accepting() {
                    self.take_over();
                }
            }
            let wait = if self.cluster.shared() {
                scan
            } else {
                beat.min(Duration::from_secs(3600))
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        self.set_leading(false);
    }

    /// Leaves the cluster: called once the service has stopped executing runs.
    pub(crate) fn leave_cluster(&self) {
        if let Err(e) = self.cluster.leave() {
            tracing::warn!("cannot leave the cluster (its leases lapse instead): {e}");
        }
    }

    /// Renews, then acts on what the renewal found, then takes or keeps the leader's role.
    fn beat(&self) {
        let held: Vec<String> = self.exec.active().iter().cloned().collect();
        match self.cluster.heartbeat(&self.node(), &held) {
            Ok(renewal) => {
                for id in &renewal.lost {
                    tracing::warn!(
                        "run {id}: another node took it over (this node could not renew its \
                         lease in time); stopping it here"
                    );
                    self.engine.abandon(id);
                }
                for id in &renewal.cancel {
                    match self.engine.cancel(id) {
                        Ok(_) | Err(crate::engine::EngineError::Finished(_)) => {}
                        Err(e) => tracing::warn!("run {id}: cannot cancel it: {e}"),
                    }
                }
            }
            Err(e) => tracing::warn!("cannot renew this node's leases: {e}"),
        }
        let leads = self.cluster.lead(LEADER).unwrap_or_else(|e| {
            tracing::warn!("cannot take or keep the leader's role: {e}");
            false
        });
        self.set_leading(leads);
    }

    fn set_leading(&self, leads: bool) {
        if self.leading.swap(leads, Ordering::SeqCst) != leads {
            if self.cluster.shared() {
                tracing::info!(
                    "node {} {} the leader (scheduler and event poller)",
                    self.cluster.node(),
                    if leads { "is now" } else { "is no longer" }
                );
            }
            self.metrics.leader_changed();
            self.lead_change.notify_waiters();
        }
    }

    /// Drops what this node cached about workflows when another node changed one (the
    /// scheduler reloads, listeners and startable workflows are read again).
    fn follow_changes(&self, seen: &mut Option<u64>) {
        match self.cluster.generation(WORKFLOWS) {
            Ok(now) => {
                if seen.is_some_and(|s| s != now) {
                    self.local_workflows_changed();
                }
                *seen = Some(now);
            }
            Err(e) => tracing::debug!("cannot look for workflow changes: {e}"),
        }
    }

    /// Takes the runs of nodes that stopped renewing, as many as this node has room for.
    fn take_over(self: &Arc<Self>) {
        let busy = self.exec.queued() + self.exec.running();
        let room = self
            .config
            .max_concurrent_runs
            .saturating_sub(busy)
            .min(TAKE_AT_ONCE);
        if room == 0 {
            return;
        }
        let taken = match self.cluster.take_over(room) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("cannot look for runs to take over: {e}");
                return;
            }
        };
        for t in taken {
            if t.cancel {
                // Cancelled while its node was gone: recorded cancelled, not resumed.
                match self.engine.cancel(&t.run) {
                    Ok(_) | Err(crate::engine::EngineError::Finished(_)) => {}
                    Err(e) => tracing::warn!("run {}: cannot cancel it: {e}", t.run),
                }
                let _ = self.cluster.release(&t.run);
                continue;
            }
            tracing::info!("run {}: taken over from a node that stopped", t.run);
            self.metrics.taken_over();
            self.spawn_run(t.run, t.workflow, Source::Trigger);
        }
    }
}
