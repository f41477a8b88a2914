//! `sluice serve`: the service (API, webhooks, scheduler, event poller, engine) on one
//! address until SIGINT or SIGTERM.
//!
//! While it runs it holds the data directory; it leaves `service.json` there (its pid and
//! URL) so other commands can say where the API is instead of failing on the store lock.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{App, Failure, global_limits, usage};
use crate::service::{Service, ServiceConfig};

/// The file `sluice serve` keeps in the data directory while it runs.
pub(crate) const SERVICE_FILE: &str = "service.json";

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// The address the API, webhooks and metrics listen on.
    #[arg(long, default_value = "127.0.0.1:8780", value_name = "ADDR")]
    listen: SocketAddr,
    /// Runs executing at once, all workflows together.
    #[arg(long, default_value_t = 64, value_name = "N")]
    max_concurrent_runs: usize,
    /// Runs of one workflow executing at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    per_workflow_concurrency: usize,
    /// Runs accepted from the API and webhooks and not finished; more get 429.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    queue_capacity: usize,
    /// Event-triggered runs of one workflow executing at once.
    #[arg(long, default_value_t = 4, value_name = "N")]
    event_runs_per_workflow: usize,
    /// How often to poll Directory Insights for events (e.g. `10s`).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    poll_interval: Duration,
    /// How far back to catch up on events after downtime.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration, value_name = "DURATION")]
    event_catchup: Duration,
    /// How long shutdown waits for executing runs (the rest resume at next start).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    shutdown_grace: Duration,
    /// How long a webhook answering with the run's output waits for it.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    webhook_wait: Duration,
    /// How far a webhook's `webhook-timestamp` may be from now (each message id is accepted
    /// once within it).
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration, value_name = "DURATION")]
    webhook_tolerance: Duration,
    /// How long a request's headers may take to arrive; a slower client is disconnected.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    header_read_timeout: Duration,
    /// How long a request's body may take to arrive after its headers (then 408).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    body_read_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request before it is closed.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    idle_timeout: Duration,
    /// HTTP connections open at once; further connections wait until one closes.
    #[arg(long, default_value_t = 512, value_name = "N")]
    max_connections: usize,
    /// Do not resume the runs the last process left unfinished; hold them for an
    /// administrator to resume or cancel each (`POST /api/v1/runs/ID/resume`, the console).
    #[arg(long)]
    no_resume: bool,
    /// This node's id among nodes sharing a database (default: the host name and process
    /// id). Shown by `GET /api/v1/nodes`, `/healthz` and `/metrics`.
    #[arg(long, value_name = "ID")]
    node_id: Option<String>,
    /// With a database: how long this node's leases on its runs and on the leader's role
    /// last unless renewed (renewed every third of it), so how soon other nodes take over
    /// when it dies.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    lease: Duration,
}

/// Listens for SIGINT (Ctrl-C) and SIGTERM from the moment it is called and resolves on the
/// first. Called before the address is printed: a handler installed only when the future
/// is first polled left a window after the address line in which a SIGTERM (a supervisor
/// stopping a service as it starts, a test reading the line) killed the process outright
/// instead of shutting it down gracefully.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Removes `service.json` however the service ends.
struct ServiceFile(PathBuf);

impl Drop for ServiceFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What `service.json` says, for the message other commands print while the service runs.
pub(crate) fn running_service(data_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(data_dir.join(SERVICE_FILE)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(format!(
        "`sluice serve` (pid {}) holds this data directory; use its API at {}/api/v1 \
         (see docs/service.md), or stop it first",
        v["pid"],
        v["url"].as_str().unwrap_or("?")
    ))
}

pub(crate) async fn run(data_dir: Option<PathBuf>, args: ServeArgs) -> Result<(), Failure> {
    if args.max_concurrent_runs == 0
        || args.per_workflow_concurrency == 0
        || args.queue_capacity == 0
        || args.event_runs_per_workflow == 0
    {
        return Err(usage(
            "concurrency limits and the queue capacity must be at least 1",
        ));
    }
    if args.poll_interval < Duration::from_millis(100) {
        return Err(usage("--poll-interval must be at least 100ms"));
    }
    for (flag, d) in [
        ("--webhook-tolerance", args.webhook_tolerance),
        ("--header-read-timeout", args.header_read_timeout),
        ("--body-read-timeout", args.body_read_timeout),
        ("--idle-timeout", args.idle_timeout),
    ] {
        if d < Duration::from_secs(1) || d > Duration::from_secs(86_400) {
            return Err(usage(format!("{flag} must be between 1s and 24h")));
        }
    }
    if args.lease < Duration::from_secs(1) || args.lease > Duration::from_secs(3600) {
        return Err(usage("--lease must be between 1s and 1h"));
    }
    let node_id = match args.node_id {
        Some(id) => {
            let ok = (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
            if !ok {
                return Err(usage(
                    "--node-id must be 1 to 64 letters, digits, `-`, `_`, `.` or `:`",
                ));
            }
            id
        }
        None => crate::store::cluster::default_node_id(),
    };
    if !(1..=1_000_000).contains(&args.max_connections) {
        return Err(usage("--max-connections must be between 1 and 1000000"));
    }
    let app = App::open(data_dir, global_limits()?)?;
    if let Some(why) = app.jumpcloud.refusal {
        return Err(usage(format!("cannot serve: {why}")));
    }
    let key = crate::secrets::SecretKey::from_env(|k| std::env::var(k).ok())
        .map_err(|e| usage(e.to_string()))?;
    let config = ServiceConfig {
        max_concurrent_runs: args.max_concurrent_runs,
        per_workflow_concurrency: args.per_workflow_concurrency,
        queue_capacity: args.queue_capacity,
        event_runs_per_workflow: args.event_runs_per_workflow,
        poll_interval: args.poll_interval,
        event_catchup: args.event_catchup,
        shutdown_grace: args.shutdown_grace,
        webhook_wait: args.webhook_wait,
        webhook_tolerance: args.webhook_tolerance,
        header_read_timeout: args.header_read_timeout,
        body_read_timeout: args.body_read_timeout,
        idle_timeout: args.idle_timeout,
        max_connections: args.max_connections,
        resume_at_start: !args.no_resume,
        node_id,
        lease: args.lease,
    };
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| usage(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    let file = app.data_dir.join(SERVICE_FILE);
    std::fs::write(
        &file,
        serde_json::to_string(&serde_json::json!({"pid": std::process::id(), "url": url}))?,
    )?;
    let _file = ServiceFile(file);
    if app.store.token_list()?.is_empty() {
        eprintln!(
            "warning: no API tokens exist, so every /api/v1 call gets 401; stop the service \
             and run `sluice token create --name admin`"
        );
    }
    eprintln!("JumpCloud: {}", app.jumpcloud.description);
    if let Some((url, key)) = app.jumpcloud.simulator_access() {
        // The key opens only this loopback sandbox, but it could reset its organisation:
        // shown to a person at a terminal, not written into service logs.
        let key = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            format!("`x-api-key: {key}`")
        } else {
            "its key (printed when stderr is a terminal)".to_owned()
        };
        eprintln!(
            "  the sandbox answers at {url} with {key} while the service runs (mail outbox: \
             GET {url}/sandbox/mail; `sluice sandbox mail` after it stops)"
        );
    }
    let service = Service::new(
        app.registry.clone(),
        app.store.clone(),
        app.jumpcloud.broker.clone(),
        key,
        config,
    );
    // The address line is printed last, once the listener is bound: scripts wait for it.
    println!("sluice serve listening on {url}");
    crate::server::serve(service, listener, shutdown).await?;
    eprintln!("sluice serve stopped");
    drop(app);
    Ok(())
}
