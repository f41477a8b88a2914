//! Write-only input: fields a JSON Schema marks `writeOnly: true` or `format: password`
//! (a new hire's password, a token passed as input) are used by the run but never shown.
//!
//! The run's record and each step's recorded input hold [`REDACTED`] in their place; the
//! values themselves are kept apart while the run is unfinished (so a resumed run still
//! has them) and forgotten when it ends. Any other text the run records — logs, error
//! messages, the output — has the values masked wherever they appear.

use serde_json::{Map, Value};

/// What a write-only value is shown as.
pub const REDACTED: &str = "********";

/// Values shorter than this are not masked inside other text: masking `ab` everywhere
/// would garble records and hide nothing worth hiding.
const MIN_MASKED_LEN: usize = 4;

fn is_write_only(schema: &Value) -> bool {
    schema.get("writeOnly") == Some(&Value::Bool(true))
        || schema.get("format").and_then(Value::as_str) == Some("password")
}

/// Replaces the write-only fields of `value` (as `schema` describes it) by [`REDACTED`] and
/// returns what they held, by JSON pointer. Fields that are absent or `null` are left alone.
pub fn redact(schema: &Value, value: &mut Value) -> Map<String, Value> {
    let mut out = Map::new();
    walk(schema, value, &mut String::new(), &mut out, 0);
    out
}

/// Whether `schema` marks any field write-only.
pub fn has_write_only(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => is_write_only(schema) || map.values().any(has_write_only),
        Value::Array(items) => items.iter().any(has_write_only),
        _ => false,
    }
}

fn walk(
    schema: &Value,
    value: &mut Value,
    at: &mut String,
    out: &mut Map<String, Value>,
    depth: u32,
) {
    // Schemas are documents: a deeply nested one must not exhaust the stack.
    if depth > 64 || value.is_null() || value.as_str() == Some(REDACTED) {
        return;
    }
    if is_write_only(schema) {
        out.insert(
            at.clone(),
            std::mem::replace(value, Value::String(REDACTED.into())),
        );
        return;
    }
    for combinator in ["allOf", "anyOf", "oneOf"] {
        if let Some(subs) = schema.get(combinator).and_then(Value::as_array) {
            for sub in subs {
                walk(sub, value, at, out, depth + 1);
            }
        }
    }
    let len = at.len();
    match value {
        Value::Object(fields) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let extra = schema.get("additionalProperties").filter(|s| s.is_object());
            for (k, v) in fields.iter_mut() {
                let Some(sub) = props.and_then(|p| p.get(k)).or(extra) else {
                    continue;
                };
                at.push('/');
                at.push_str(&k.replace('~', "~0").replace('/', "~1"));
                walk(sub, v, at, out, depth + 1);
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items").filter(|s| s.is_object()) {
                for (i, v) in items.iter_mut().enumerate() {
                    at.push('/');
                    at.push_str(&i.to_string());
                    walk(sub, v, at, out, depth + 1);
                    at.truncate(len);
                }
            }
        }
        _ => {}
    }
}

/// Puts redacted values back (the run's own copy of its input).
pub fn restore(value: &mut Value, originals: &Map<String, Value>) {
    for (pointer, original) in originals {
        if let Some(slot) = value.pointer_mut(pointer) {
            *slot = original.clone();
        }
    }
}

/// The texts to mask elsewhere: every string among `originals` long enough to mask.
pub fn secrets_of(originals: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for v in originals.values() {
        collect_strings(v, &mut out);
    }
    out.retain(|s| s.len() >= MIN_MASKED_LEN);
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Object(m) => m.values().for_each(|i| collect_strings(i, out)),
        _ => {}
    }
}

/// `text` with every secret replaced by [`REDACTED`].
pub fn mask_text(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED);
        }
    }
    out
}

/// Masks every secret inside the strings (keys included) of `value`.
pub fn mask(value: &mut Value, secrets: &[String]) {
    if secrets.is_empty() {
        return;
    }
    match value {
        Value::String(s) if secrets.iter().any(|x| s.contains(x.as_str())) => {
            *s = mask_text(s, secrets);
        }
        Value::Array(items) => items.iter_mut().for_each(|v| mask(v, secrets)),
        Value::Object(map) => {
            let masked: Map<String, Value> = std::mem::take(map)
                .into_iter()
                .map(|(k, mut v)| {
                    mask(&mut v, secrets);
                    (mask_text(&k, secrets), v)
                })
                .collect();
            *map = masked;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn write_only_fields_are_redacted_restored_and_masked() {
        let schema = json!({
            "type": "object",
            "properties": {
                "username": {"type": "string"},
                "password": {"type": "string", "format": "password"},
                "tokens": {"type": "array", "items": {"type": "string", "writeOnly": true}},
                "nested": {"properties": {"a/b": {"writeOnly": true}}},
            }
        });
        let original = json!({
            "username": "jsmith",
            "password": "S3cret!pass",
            "tokens": ["tok-1234", "tok-5678"],
            "nested": {"a/b": "deep-value"},
        });
        let mut v = original.clone();
        let kept = redact(&schema, &mut v);
        assert_eq!(v["password"], REDACTED);
        assert_eq!(v["tokens"], json!([REDACTED, REDACTED]));
        assert_eq!(v["nested"]["a/b"], REDACTED);
        assert_eq!(v["username"], "jsmith");
        assert_eq!(kept.len(), 4, "{kept:?}");
        assert!(kept.contains_key("/nested/a~1b"));
        assert!(has_write_only(&schema));
        // Redacting again finds nothing new; restoring gives the original back.
        assert!(redact(&schema, &mut v.clone()).is_empty());
        restore(&mut v, &kept);
        assert_eq!(v, original);
        let secrets = secrets_of(&kept);
        let mut log = json!({"m": "created jsmith with S3cret!pass", "S3cret!pass": 1});
        mask(&mut log, &secrets);
        assert_eq!(
            log,
            json!({"m": "created jsmith with ********", "********": 1})
        );
    }

    #[test]
    fn short_and_absent_values_are_left_alone() {
        let schema =
            json!({"properties": {"pin": {"writeOnly": true}, "p": {"format": "password"}}});
        let mut v = json!({"pin": "12", "p": null});
        let kept = redact(&schema, &mut v);
        assert_eq!(v, json!({"pin": REDACTED, "p": null}));
        assert!(secrets_of(&kept).is_empty(), "too short to mask elsewhere");
        assert!(!has_write_only(
            &json!({"properties": {"a": {"type": "string"}}})
        ));
    }
}
