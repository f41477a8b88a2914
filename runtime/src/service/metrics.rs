//! The service's metrics, rendered at `/metrics` in the Prometheus text format with the
//! `sluice_` prefix. A handful of atomic counters and fixed-bucket histograms: fed by the
//! engine's progress hook (steps, plugin and broker calls), the executor and the triggers.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::broker::CallKind;
use crate::engine::{Progress, RunStatus, StepRecord};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A histogram over [`BUCKETS`].
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    pub fn observe_us(&self, us: u64) {
        let secs = us as f64 / 1e6;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let n = self.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {n}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

const STATUSES: [RunStatus; 4] = [
    RunStatus::Succeeded,
    RunStatus::Failed,
    RunStatus::PartiallyCompleted,
    RunStatus::Cancelled,
];

const KINDS: [CallKind; 3] = [CallKind::Jumpcloud, CallKind::Http, CallKind::State];

/// Everything `/metrics` shows.
#[derive(Debug, Default)]
pub struct Metrics {
    runs_started: AtomicU64,
    runs_finished: [AtomicU64; 4],
    runs_refused: AtomicU64,
    step_latency: Histogram,
    plugin_calls: AtomicU64,
    plugin_failures: AtomicU64,
    broker_calls: [AtomicU64; 3],
    broker_errors: [AtomicU64; 3],
    broker_429: AtomicU64,
    schedule_fires: AtomicU64,
    schedule_misfires: AtomicU64,
    pub schedule_lateness: Histogram,
    events_seen: AtomicU64,
    event_runs: AtomicU64,
    poll_errors: AtomicU64,
    webhook_rejected: AtomicU64,
    runs_taken_over: AtomicU64,
    leader_changes: AtomicU64,
}

/// Who is speaking at `/metrics`: the node, and whether it leads.
#[derive(Debug, Clone, Copy)]
pub struct NodeGauges<'a> {
    pub node: &'a str,
    pub leader: bool,
}

fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    pub(crate) fn run_queued(&self) {
        inc(&self.runs_started);
    }
    pub(crate) fn refused(&self) {
        inc(&self.runs_refused);
    }
    pub(crate) fn run_finished(&self, status: RunStatus) {
        if let Some(i) = STATUSES.iter().position(|s| *s == status) {
            inc(&self.runs_finished[i]);
        }
    }
    pub(crate) fn schedule_fire(&self, late_us: u64) {
        inc(&self.schedule_fires);
        self.schedule_lateness.observe_us(late_us);
    }
    pub(crate) fn misfires(&self, n: u64) {
        self.schedule_misfires.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn events_seen(&self, n: u64) {
        self.events_seen.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn event_run(&self) {
        inc(&self.event_runs);
    }
    pub(crate) fn poll_error(&self) {
        inc(&self.poll_errors);
    }
    pub(crate) fn webhook_rejected(&self) {
        inc(&self.webhook_rejected);
    }
    pub(crate) fn taken_over(&self) {
        inc(&self.runs_taken_over);
    }
    pub(crate) fn leader_changed(&self) {
        inc(&self.leader_changes);
    }

    /// The Prometheus text exposition, with the executor's gauges.
    pub fn render(
        &self,
        queued: usize,
        running: usize,
        uptime_s: f64,
        node: NodeGauges<'_>,
    ) -> String {
        let mut out = String::with_capacity(4096);
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        let gauge = |out: &mut String, name: &str, help: &str, v: String| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        // Node ids are letters, digits and `-_.:` (checked at start): no label escaping.
        let _ = writeln!(
            out,
            "# HELP sluice_node_info This node's id.\n# TYPE sluice_node_info gauge\n\
             sluice_node_info{{node=\"{}\"}} 1",
            node.node
        );
        gauge(
            &mut out,
            "sluice_leader",
            "1 while this node runs the scheduler and the event poller (always, alone).",
            u8::from(node.leader).to_string(),
        );
        gauge(
            &mut out,
            "sluice_uptime_seconds",
            "Seconds since the service started.",
            format!("{uptime_s:.3}"),
        );
        gauge(
            &mut out,
            "sluice_queue_depth",
            "Runs accepted and waiting for a slot.",
            queued.to_string(),
        );
        gauge(
            &mut out,
            "sluice_runs_running",
            "Runs executing now.",
            running.to_string(),
        );
        counter(
            &mut out,
            "sluice_runs_started_total",
            "Runs queued for execution.",
            self.runs_started.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP sluice_runs_total Runs finished, by final status.\n# TYPE sluice_runs_total counter"
        );
        for (i, s) in STATUSES.iter().enumerate() {
            let _ = writeln!(
                out,
                "sluice_runs_total{{status=\"{s}\"}} {}",
                self.runs_finished[i].load(Ordering::Relaxed)
            );
        }
        counter(
            &mut out,
            "sluice_runs_refused_total",
            "Runs refused because the queue was full (HTTP 429).",
            self.runs_refused.load(Ordering::Relaxed),
        );
        self.step_latency.render(
            &mut out,
            "sluice_step_duration_seconds",
            "Duration of executed steps, retries included.",
        );
        counter(
            &mut out,
            "sluice_plugin_calls_total",
            "Plugin calls (step attempts).",
            self.plugin_calls.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "sluice_plugin_failures_total",
            "Plugin calls that returned an error.",
            self.plugin_failures.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP sluice_broker_calls_total Calls brokered for plugins, by kind.\n# TYPE sluice_broker_calls_total counter"
        );
        for (i, k) in KINDS.iter().enumerate() {
            let _ = writeln!(
                out,
                "sluice_broker_calls_total{{kind=\"{}\"}} {}",
                kind(*k),
                self.broker_calls[i].load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP sluice_broker_errors_total Brokered calls that failed or answered 4xx/5xx, by kind.\n# TYPE sluice_broker_errors_total counter"
        );
        for (i, k) in KINDS.iter().enumerate() {
            let _ = writeln!(
                out,
                "sluice_broker_errors_total{{kind=\"{}\"}} {}",
                kind(*k),
                self.broker_errors[i].load(Ordering::Relaxed)
            );
        }
        counter(
            &mut out,
            "sluice_broker_429_total",
            "Brokered calls answered 429 Too Many Requests.",
            self.broker_429.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "sluice_schedule_fires_total",
            "Schedule fires that started a run.",
            self.schedule_fires.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "sluice_schedule_misfires_total",
            "Schedule fires missed while the service was down, per the misfire policy.",
            self.schedule_misfires.load(Ordering::Relaxed),
        );
        self.schedule_lateness.render(
            &mut out,
            "sluice_schedule_lateness_seconds",
            "How late schedule fires started their run.",
        );
        counter(
            &mut out,
            "sluice_events_seen_total",
            "Directory Insights events read by the poller.",
            self.events_seen.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "sluice_event_runs_total",
            "Runs started by events (Directory Insights and internal).",
            self.event_runs.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "sluice_event_poll_errors_total",
            "Directory Insights polls that failed.",
            self.poll_errors.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "sluice_webhook_rejected_total",
            "Webhook calls refused (bad signature, unknown workflow, stale or replayed message).",
            self.webhook_rejected.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "sluice_runs_taken_over_total",
            "Runs this node took over from nodes that stopped renewing their leases.",
            self.runs_taken_over.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "sluice_leader_changes_total",
            "Times this node gained or lost the leader's role.",
            self.leader_changes.load(Ordering::Relaxed),
        );
        out
    }
}

fn kind(k: CallKind) -> &'static str {
    match k {
        CallKind::Jumpcloud => "jumpcloud",
        CallKind::Http => "http",
        CallKind::State => "state",
    }
}

impl Progress for Metrics {
    fn step_recorded(&self, _run: &str, record: &StepRecord) {
        let us: u64 = record.attempts.iter().map(|a| a.duration_us).sum();
        self.step_latency.observe_us(us);
        for a in &record.attempts {
            inc(&self.plugin_calls);
            if a.result.is_err() {
                inc(&self.plugin_failures);
            }
            for c in &a.calls {
                let i = KINDS.iter().position(|k| *k == c.kind).unwrap_or(0);
                inc(&self.broker_calls[i]);
                if c.error.is_some() || c.status.is_some_and(|s| s >= 400) {
                    inc(&self.broker_errors[i]);
                }
                if c.status == Some(429) {
                    inc(&self.broker_429);
                }
            }
        }
    }
}
