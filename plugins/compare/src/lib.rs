//! `compare`: the condition behind most `if` steps. Compares a (templated) `field` value with
//! a `value` using one operator.
//!
//! # Layout
//! One file: the input type, [`compare`] (plain logic, unit-tested) and the export.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use sluice_plugin::{Condition, PluginError, Step};

/// The operator: `eq`, `ne` (equal / not equal; numbers compare by value, `1` equals
/// `1.0`), `gt`, `ge`, `lt`, `le` (numbers, or strings in byte order), `contains` (`field`
/// string contains `value`, `field` array has an element equal to `value`, or `field`
/// object has the key `value`), `in` (`field` is an element of the `value` array or a
/// substring of the `value` string), `exists` (`field` is present and not null; with
/// `value: false`, the opposite), `matches` (`field` matches the regular expression
/// `value`).
//
// The variants carry no doc comments of their own: with them the schema would be a `oneOf`
// of constants, and a wrong operator would be reported as "not valid under any of the
// schemas" instead of "not one of [eq, ne, …]".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Operator {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
    In,
    Exists,
    Matches,
}

/// The condition's input.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The value under test, usually a template such as `${input.user.department}`.
    #[serde(default)]
    pub field: Value,
    pub operator: Operator,
    /// What to compare with (unused by `exists` unless `false`).
    #[serde(default)]
    pub value: Value,
}

/// Evaluates one comparison.
pub fn compare(input: &Input) -> Result<bool, PluginError> {
    let (field, value) = (&input.field, &input.value);
    Ok(match input.operator {
        Operator::Eq => json_eq(field, value),
        Operator::Ne => !json_eq(field, value),
        Operator::Gt => order(field, value)?.is_gt(),
        Operator::Ge => order(field, value)?.is_ge(),
        Operator::Lt => order(field, value)?.is_lt(),
        Operator::Le => order(field, value)?.is_le(),
        Operator::Contains => contains(field, value)?,
        Operator::In => contains(value, field)?,
        Operator::Exists => {
            let want_present = value != &Value::Bool(false);
            let present = !field.is_null();
            present == want_present
        }
        Operator::Matches => {
            let (Value::String(text), Value::String(pattern)) = (field, value) else {
                return Err(mismatch("match", field, value));
            };
            let re = regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| {
                    PluginError::invalid_input(format!("`value` is not a valid regex: {e}"))
                })?;
            re.is_match(text)
        }
    })
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => x == y,
        _ => a == b,
    }
}

fn order(a: &Value, b: &Value) -> Result<std::cmp::Ordering, PluginError> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x.partial_cmp(&y).ok_or_else(|| mismatch("order", a, b))
        }
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => Err(mismatch("order", a, b)),
    }
}

fn contains(haystack: &Value, needle: &Value) -> Result<bool, PluginError> {
    match (haystack, needle) {
        (Value::String(h), Value::String(n)) => Ok(h.contains(n.as_str())),
        (Value::Array(items), n) => Ok(items.iter().any(|i| json_eq(i, n))),
        (Value::Object(map), Value::String(key)) => Ok(map.contains_key(key)),
        _ => Err(mismatch("contains", haystack, needle)),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn mismatch(op: &str, a: &Value, b: &Value) -> PluginError {
    PluginError::new(
        "TYPE_MISMATCH",
        format!("cannot {op} a {} with a {}", kind(a), kind(b)),
    )
}

/// The `compare` condition.
#[derive(Debug)]
pub struct Compare;

impl Condition for Compare {
    type Input = Input;
    const DESCRIPTION: &'static str = "Compares a value with another: eq, ne, gt, ge, lt, le, \
                                       contains, in, exists, matches.";

    fn evaluate(_step: &Step, input: Input) -> Result<bool, PluginError> {
        compare(&input)
    }
}

sluice_plugin::export_condition!(Compare);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(v: Value) -> Result<bool, PluginError> {
        sluice_plugin::run_condition::<Compare>(&Step::default(), &v.to_string())
    }

    #[test]
    fn equality_is_by_json_value_and_numbers_by_value() {
        assert!(eval(json!({"field": 1, "operator": "eq", "value": 1.0})).unwrap());
        assert!(eval(json!({"field": "a", "operator": "ne", "value": "b"})).unwrap());
        assert!(!eval(json!({"field": "1", "operator": "eq", "value": 1})).unwrap());
        assert!(eval(json!({"field": {"a": [1]}, "operator": "eq", "value": {"a": [1]}})).unwrap());
    }

    #[test]
    fn ordering_numbers_and_strings() {
        assert!(eval(json!({"field": 3, "operator": "gt", "value": 2})).unwrap());
        assert!(eval(json!({"field": 2, "operator": "ge", "value": 2})).unwrap());
        assert!(eval(json!({"field": "a", "operator": "lt", "value": "b"})).unwrap());
        assert!(!eval(json!({"field": 2.5, "operator": "le", "value": 2})).unwrap());
        let err = eval(json!({"field": "3", "operator": "gt", "value": 2})).unwrap_err();
        assert_eq!(err.code, "TYPE_MISMATCH");
        assert_eq!(err.message, "cannot order a string with a number");
    }

    #[test]
    fn contains_and_in() {
        assert!(
            eval(json!({"field": "engineering", "operator": "contains", "value": "eer"})).unwrap()
        );
        assert!(eval(json!({"field": ["a", "b"], "operator": "contains", "value": "b"})).unwrap());
        assert!(eval(json!({"field": {"k": 1}, "operator": "contains", "value": "k"})).unwrap());
        assert!(eval(json!({"field": "b", "operator": "in", "value": ["a", "b"]})).unwrap());
        assert!(!eval(json!({"field": 3, "operator": "in", "value": [1, 2]})).unwrap());
        assert_eq!(
            eval(json!({"field": 1, "operator": "contains", "value": 1}))
                .unwrap_err()
                .code,
            "TYPE_MISMATCH"
        );
    }

    #[test]
    fn exists_and_missing_field() {
        assert!(eval(json!({"field": "", "operator": "exists"})).unwrap());
        assert!(!eval(json!({"operator": "exists"})).unwrap());
        assert!(eval(json!({"field": null, "operator": "exists", "value": false})).unwrap());
    }

    #[test]
    fn matches_regex_and_reports_bad_pattern() {
        let ok = json!({"field": "jsmith@acme.com", "operator": "matches", "value": "^[a-z]+@acme\\.com$"});
        assert!(eval(ok).unwrap());
        let bad = eval(json!({"field": "x", "operator": "matches", "value": "("})).unwrap_err();
        assert_eq!(bad.code, "INVALID_INPUT");
    }

    #[test]
    fn unknown_operator_or_field_is_invalid_input() {
        let err = eval(json!({"field": 1, "operator": "between", "value": 1})).unwrap_err();
        assert_eq!(err.code, "INVALID_INPUT");
        let err = eval(json!({"field": 1, "operator": "eq", "valeu": 1})).unwrap_err();
        assert_eq!(err.code, "INVALID_INPUT");
    }
}
