//! The Directory Insights poller: reads new events through the runtime's JumpCloud broker
//! and starts the enabled workflows whose `event_type` (and condition) match, with the
//! event as the run's input — `${input.resource.username}`, as in JumpCloud.
//!
//! The cursor (`search_after` of the last page) is persisted after each page, and each run
//! is recorded under a fire key `event/<workflow>/<event id>`; an event seen again after a
//! crash or restart starts nothing new. After downtime the poller catches up at most
//! `event_catchup` back, and reads at most [`MAX_PAGES`] pages per poll.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::broker::{JumpCloudBroker, JumpCloudRequest};
use crate::service::{Service, Source};
use crate::store::ServiceStore;

/// Pages of events read per poll, at most.
pub const MAX_PAGES: usize = 10;
/// Events per page.
pub const PAGE: usize = 1000;
const CURSOR_KEY: &str = "events/cursor";

/// Where the poller is: the start of its window and the last event it read.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub start_time: DateTime<Utc>,
    pub search_after: Option<Value>,
}

fn load_cursor(store: &dyn ServiceStore, now: DateTime<Utc>, catchup: chrono::Duration) -> Cursor {
    let stored = store.trigger_get(CURSOR_KEY).ok().flatten();
    let start = stored
        .as_ref()
        .and_then(|c| c["start_time"].as_str())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    match start {
        // Never polled: only events from now on.
        None => Cursor {
            start_time: now,
            search_after: None,
        },
        Some(start) => Cursor {
            start_time: start.max(now - catchup),
            search_after: stored
                .and_then(|c| c.get("search_after").cloned())
                .filter(|v| !v.is_null()),
        },
    }
}

fn save_cursor(store: &dyn ServiceStore, c: &Cursor) {
    let v = json!({"start_time": c.start_time.to_rfc3339(), "search_after": c.search_after});
    if let Err(e) = store.trigger_put(CURSOR_KEY, &v) {
        tracing::error!("cannot persist the Directory Insights cursor: {e}");
    }
}

/// One page of events after the cursor.
async fn page(
    broker: &dyn JumpCloudBroker,
    cursor: &Cursor,
) -> Result<(Vec<Value>, Option<Value>), String> {
    let mut body = json!({
        "service": ["all"],
        "start_time": cursor.start_time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "limit": PAGE,
        "sort": "ASC",
    });
    if let Some(after) = &cursor.search_after {
        body["search_after"] = after.clone();
    }
    let resp = broker
        .call(JumpCloudRequest {
            method: "POST".into(),
            path: "/insights/directory/v1/events".into(),
            query: vec![],
            body: Some(body.to_string()),
        })
        .await
        .map_err(|e| e.to_string())?;
    if resp.status != 200 {
        let text: String = resp.body.chars().take(300).collect();
        return Err(format!(
            "Directory Insights answered {}: {text}",
            resp.status
        ));
    }
    let events: Vec<Value> = serde_json::from_str(&resp.body).map_err(|e| {
        format!("Directory Insights answered a body that is not a list of events: {e}")
    })?;
    let next = resp
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-search_after"))
        .and_then(|(_, v)| serde_json::from_str::<Value>(v).ok())
        .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()));
    Ok((events, next))
}

/// Reads the events after the persisted cursor and hands each to `deliver`, saving the
/// cursor after each page. Returns how many events were read.
pub async fn poll_once(
    store: &dyn ServiceStore,
    broker: &dyn JumpCloudBroker,
    now: DateTime<Utc>,
    catchup: chrono::Duration,
    mut deliver: impl FnMut(&Value),
) -> Result<usize, String> {
    let mut cursor = load_cursor(store, now, catchup);
    let mut seen = 0;
    for _ in 0..MAX_PAGES {
        let (events, next) = page(broker, &cursor).await?;
        for e in &events {
            deliver(e);
        }
        seen += events.len();
        if let Some(next) = next {
            cursor.search_after = Some(next);
        }
        save_cursor(store, &cursor);
        if events.len() < PAGE {
            break;
        }
    }
    Ok(seen)
}

/// Starts the runs one event triggers.
fn deliver(service: &Arc<Service>, event: &Value) {
    let Some(event_type) = event["event_type"].as_str() else {
        return;
    };
    if event["id"].as_str().is_none_or(str::is_empty) {
        return;
    }
    match service.event_listeners(event_type) {
        Ok(listeners) => {
            for (doc, subs, pins) in listeners.iter() {
                service.deliver_event(doc, subs, pins, event, Source::Event);
            }
        }
        Err(e) => tracing::error!("event {event_type}: {e}"),
    }
}

/// The poller task: polls every `poll_interval` until `stop`.
pub async fn run(service: Arc<Service>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let catchup = chrono::Duration::from_std(service.config.event_catchup)
        .unwrap_or(chrono::Duration::hours(1));
    loop {
        // Among nodes sharing a database only the leader polls (the cursor is shared, and
        // each event's runs are recorded under fire keys, so a change of leader neither
        // skips nor doubles an event).
        if !service.leading() {
            let elected = service.leadership_changed();
            tokio::pin!(elected);
            elected.as_mut().enable();
            if !service.leading() {
                tokio::select! {
                    _ = &mut elected => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                continue;
            }
        }
        let result = poll_once(
            &*service.store,
            &*service.jumpcloud,
            Utc::now(),
            catchup,
            |e| deliver(&service, e),
        )
        .await;
        match result {
            Ok(n) => service.metrics.events_seen(n as u64),
            Err(e) => {
                service.metrics.poll_error();
                tracing::warn!("Directory Insights poll failed: {e}");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(service.config.poll_interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
