//! The composition root of `sluice serve`: it builds, on one shared [`Service`], the HTTP
//! API (with the webhook receiver and the metrics endpoint), the scheduler, the Directory
//! Insights poller and the forgetting of expired webhook message ids, and runs them on a
//! listener and a shutdown future it is given (the command line passes a bound TCP
//! listener and the process's signals; tests pass their own).
//!
//! This is the one module that knows both the API and the triggers; they in turn know the
//! service, and the service knows neither (the crate's `# Layout` has the whole table).
//!
//! # Layout
//! - this file: [`serve`] (start, resume unfinished runs, run the triggers, shut down
//!   gracefully);
//! - `http.rs`: the HTTP listener with its connection limit and read and idle timeouts.

mod http;

use std::sync::Arc;
use std::time::Duration;

use crate::api;
use crate::service::Service;
use crate::trigger::{SystemClock, events, schedule, webhook};

/// Runs the service on `listener` until `shutdown` resolves: the API and webhooks, the
/// scheduler and the event poller; unfinished runs resume first (unless
/// [`ServiceConfig::resume_at_start`](crate::service::ServiceConfig::resume_at_start) is off). Then it stops taking work, waits up to the
/// shutdown grace for executing runs (a run still executing after it resumes at the next
/// start, from its last journaled step) and returns.
pub async fn serve(
    service: Arc<Service>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    if let Ok(addr) = listener.local_addr() {
        service.set_url(&format!("http://{addr}"));
    }
    // This node's place among nodes sharing a database: leases, take-over, the leader's
    // role (alone, it leads and holds everything).
    let cluster = tokio::spawn(service.clone().keep_alive(stop_rx.clone()));
    let scheduler = tokio::spawn(schedule::run(
        service.clone(),
        Arc::new(SystemClock),
        stop_rx.clone(),
    ));
    let poller = tokio::spawn(events::run(service.clone(), stop_rx.clone()));
    if service.config.resume_at_start {
        let resumed = service.resume_unfinished().unwrap_or_else(|e| {
            tracing::error!("cannot list unfinished runs: {e}");
            0
        });
        if resumed > 0 {
            tracing::info!("resumed {resumed} unfinished runs");
        }
    } else {
        match service.engine.unfinished() {
            Ok(held) if !held.is_empty() => tracing::warn!(
                "{} unfinished runs held (--no-resume): resume or cancel each through the API",
                held.len()
            ),
            Ok(_) => {}
            Err(e) => tracing::error!("cannot list unfinished runs: {e}"),
        }
    }
    let forgetter = tokio::spawn(webhook::forget_expired(
        service.store.clone(),
        service
            .config
            .webhook_tolerance
            .clamp(Duration::from_secs(1), Duration::from_secs(60)),
        stop_rx.clone(),
    ));
    let limits = http::Limits {
        header_read_timeout: service.config.header_read_timeout,
        body_read_timeout: service.config.body_read_timeout,
        idle_timeout: service.config.idle_timeout,
        max_connections: service.config.max_connections,
    };
    let app = api::router(service.clone());
    let server = tokio::spawn(http::serve(listener, app, limits, stop_rx.clone()));
    shutdown.await;
    tracing::info!("shutting down: no new work; waiting for executing runs");
    service.exec.stop_accepting();
    let _ = stop_tx.send(true);
    let _ = scheduler.await;
    let _ = poller.await;
    let _ = forgetter.await;
    let drained = service.drain(service.config.shutdown_grace).await;
    if !drained {
        tracing::warn!(
            "runs still executing after the shutdown grace; they resume at next start (or, \
             sharing a database, on another node)"
        );
    }
    let _ = cluster.await;
    service.leave_cluster();
    // The HTTP server stops accepting at once; answers in flight get a moment to finish.
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    service.store.flush().ok();
    Ok(())
}
