//! Directory Insights: query events (following `search_after` pages), a user's last event.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sluice_plugin::PluginError;

use crate::api;

const EVENTS: &str = "/insights/directory/v1/events";

/// `now - days` as RFC 3339 (the component reads the host's wall clock).
fn days_ago(days: u32) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let t = now - i64::from(days) * 86_400;
    let (d, s) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, dd) = civil_from_days(d);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Days since 1970-01-01 to a (year, month, day) date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryIn {
    /// Services to search (default `["directory"]`; `all` for every service).
    #[serde(default)]
    pub service: Vec<String>,
    /// RFC 3339 start; default `days` ago.
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
    /// Look back this many days when `start_time` is absent (default 1, at most 90).
    #[serde(default)]
    pub days: Option<u32>,
    /// Only these event types (`user_create`, `association_change`, ...).
    #[serde(default)]
    pub event_types: Vec<String>,
    /// Directory Insights `search_term` (`{"and": [{"resource.username": "jane.doe"}]}`).
    #[serde(default)]
    pub search_term: Option<Value>,
    /// `ASC` (default) or `DESC`.
    #[serde(default)]
    pub sort: Option<String>,
    /// At most this many events (default 1000, at most 100000).
    #[serde(default)]
    pub max: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct QueryOut {
    pub events: Vec<Value>,
    pub count: usize,
}

fn query_body(input: &QueryIn) -> Value {
    let service = if input.service.is_empty() {
        vec!["directory".to_owned()]
    } else {
        input.service.clone()
    };
    let start = input
        .start_time
        .clone()
        .unwrap_or_else(|| days_ago(input.days.unwrap_or(1).clamp(1, 90)));
    let mut body = json!({"service": service, "start_time": start});
    if let Some(e) = &input.end_time {
        body["end_time"] = json!(e);
    }
    if let Some(s) = &input.sort {
        body["sort"] = json!(s);
    }
    let mut terms = Vec::new();
    if !input.event_types.is_empty() {
        terms.push(json!({"event_type": input.event_types}));
    }
    if let Some(t) = &input.search_term {
        terms.push(t.clone());
    }
    match terms.len() {
        0 => {}
        1 => body["search_term"] = terms.remove(0),
        _ => body["search_term"] = json!({"and": terms}),
    }
    body
}

pub fn query(input: QueryIn) -> Result<QueryOut, PluginError> {
    let max = input.max.unwrap_or(1000).min(100_000);
    let mut body = query_body(&input);
    let page = max.clamp(1, 10_000);
    body["limit"] = json!(page);
    let mut events: Vec<Value> = Vec::new();
    loop {
        let r = api::send("POST", EVENTS, Some(&body))?;
        if !r.ok() {
            return Err(api::error_for(&r, "querying Directory Insights"));
        }
        let batch = r.json()?.as_array().cloned().unwrap_or_default();
        let n = batch.len();
        events.extend(batch);
        let limit: usize = r
            .header("x-limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(page);
        let after = r
            .header("x-search_after")
            .and_then(|a| serde_json::from_str::<Value>(a).ok());
        if n < limit || events.len() >= max || after.is_none() {
            break;
        }
        body["search_after"] = after.unwrap_or_default();
    }
    events.truncate(max);
    Ok(QueryOut {
        count: events.len(),
        events,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LastEventIn {
    pub username: String,
    /// Only these event types (any when empty).
    #[serde(default)]
    pub event_types: Vec<String>,
    /// How far back to look, in days (default 90, Directory Insights' retention).
    #[serde(default)]
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LastEventOut {
    pub found: bool,
    pub event: Option<Value>,
}

pub fn last_event(input: LastEventIn) -> Result<LastEventOut, PluginError> {
    let q = QueryIn {
        service: vec!["all".into()],
        start_time: None,
        end_time: None,
        days: Some(input.days.unwrap_or(90)),
        event_types: input.event_types,
        search_term: Some(json!({"or": [
            {"resource.username": input.username.to_lowercase()},
            {"initiated_by.username": input.username.to_lowercase()},
            {"username": input.username.to_lowercase()},
        ]})),
        sort: Some("DESC".into()),
        max: Some(1),
    };
    let out = query(q)?;
    let event = out.events.into_iter().next();
    Ok(LastEventOut {
        found: event.is_some(),
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_computed_without_a_date_library() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert!(days_ago(1).ends_with('Z') && days_ago(1).len() == 20);
    }
}
