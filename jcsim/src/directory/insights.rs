//! Directory Insights: the event query and count endpoints, with `search_term` as
//! JumpCloud reads it.

use super::*;

impl Directory {
    pub(super) fn query_events(&self, req: &Request, count: bool) -> Result<Reply, ApiError> {
        let body = body_object(req)?;
        let services: Vec<&str> = body
            .get("service")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if services.is_empty() {
            return Err(ApiError::bad_request(
                "service is required: a list such as [\"directory\"] or [\"all\"]",
            ));
        }
        const KNOWN: &[&str] = &[
            "all",
            "directory",
            "sso",
            "radius",
            "ldap",
            "systems",
            "mdm",
            "alert",
            "notifications",
            "password_manager",
            "object_storage",
            "access_management",
            "reports",
            "software",
            "asset_management",
        ];
        if let Some(bad) = services.iter().find(|s| !KNOWN.contains(s)) {
            return Err(ApiError::bad_request(format!(
                "service `{bad}` is not valid; valid services: {}",
                KNOWN.join(", ")
            )));
        }
        let parse_time = |field: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
            match body.get(field).and_then(Value::as_str) {
                None => Ok(None),
                Some(t) => chrono::DateTime::parse_from_rfc3339(t)
                    .map(|t| Some(t.with_timezone(&chrono::Utc)))
                    .map_err(|_| {
                        ApiError::bad_request(format!("{field}: `{t}` is not an RFC 3339 time"))
                    }),
            }
        };
        let start = parse_time("start_time")?
            .ok_or_else(|| ApiError::bad_request("start_time is required"))?;
        if start > now() {
            return Err(ApiError::bad_request("start_time is in the future"));
        }
        let end = parse_time("end_time")?;
        if end.is_some_and(|e| e <= start) {
            return Err(ApiError::bad_request("end_time must be after start_time"));
        }
        let limit = body
            .get("limit")
            .and_then(Value::as_u64)
            .filter(|l| (1..=10_000).contains(l))
            .unwrap_or(1000) as usize;
        let desc = body
            .get("sort")
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("DESC"));
        let after: Option<(i64, String)> = match body.get("search_after") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) if a.len() == 2 => {
                let ms = a[0]
                    .as_i64()
                    .or_else(|| a[0].as_str().and_then(|s| s.parse().ok()));
                match (ms, a[1].as_str()) {
                    (Some(ms), Some(id)) => Some((ms, id.to_owned())),
                    _ => return Err(ApiError::bad_request("search_after: [millis, id]")),
                }
            }
            Some(_) => return Err(ApiError::bad_request("search_after: [millis, id]")),
        };
        let term = body.get("search_term").cloned();
        let key = |e: &Value| -> (i64, String) {
            let ms = e["timestamp"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp_millis())
                .unwrap_or_default();
            (ms, e["id"].as_str().unwrap_or_default().to_owned())
        };
        let mut hits: Vec<(i64, String, &Value)> = self
            .events
            .iter()
            .filter(|e| {
                services.contains(&"all")
                    || e["service"].as_str().is_some_and(|s| services.contains(&s))
            })
            .map(|e| {
                let (ms, id) = key(e);
                (ms, id, e)
            })
            .filter(|(ms, _, _)| {
                *ms >= start.timestamp_millis()
                    && end.is_none_or(|end| *ms < end.timestamp_millis())
            })
            .filter(|(_, _, e)| term.as_ref().is_none_or(|t| search_matches(e, t)))
            .collect();
        // Events are appended in time order; the index breaks ties the way ids would.
        if desc {
            hits.reverse();
        }
        if let Some((ms, id)) = &after {
            let pos = hits.iter().position(|(m, i, _)| m == ms && i == id);
            match pos {
                Some(p) => {
                    hits.drain(..=p);
                }
                None => hits.retain(|(m, _, _)| if desc { m < ms } else { m > ms }),
            }
        }
        if count {
            return Ok(Reply::ok(json!({"count": hits.len()})));
        }
        hits.truncate(limit);
        let last = hits
            .last()
            .map(|(ms, id, _)| json!([ms, id]))
            .or_else(|| after.as_ref().map(|(ms, id)| json!([ms, id])))
            .unwrap_or_else(|| json!([]));
        let n = hits.len();
        let events: Vec<Value> = hits.into_iter().map(|(_, _, e)| e.clone()).collect();
        Ok(Reply {
            status: 200,
            body: Some(Value::Array(events)),
            headers: vec![
                ("x-result-count".into(), n.to_string()),
                ("x-limit".into(), limit.to_string()),
                ("x-sort".into(), if desc { "DESC" } else { "ASC" }.into()),
                ("x-search_after".into(), last.to_string()),
            ],
        })
    }
}

/// Directory Insights `search_term` semantics: `{and: [...]}`/`{or: [...]}`/`{not: ...}` of
/// `{field: value}` or `{field: [values]}`, values compared in lower case.
fn search_matches(event: &Value, term: &Value) -> bool {
    let Some(obj) = term.as_object() else {
        return false;
    };
    obj.iter().all(|(k, v)| match k.as_str() {
        "and" => v
            .as_array()
            .is_some_and(|ts| ts.iter().all(|t| search_matches(event, t))),
        "or" => v
            .as_array()
            .is_some_and(|ts| ts.iter().any(|t| search_matches(event, t))),
        "not" => !search_matches(event, v),
        field => {
            let actual = crate::query::lookup(event, field);
            let text = |x: &Value| match x {
                Value::String(s) => s.to_lowercase(),
                other => other.to_string().to_lowercase(),
            };
            let Some(actual) = actual.map(text) else {
                return false;
            };
            match v {
                Value::Array(options) => options.iter().any(|o| text(o) == actual),
                one => text(one) == actual,
            }
        }
    })
}
