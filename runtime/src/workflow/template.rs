//! Templating of workflow values with minijinja.
//!
//! Three spellings, one engine:
//! - `{{ expr }}` — Jinja expressions (`{{ input.user.email | lower }}`);
//! - `${path}` — JumpCloud's plain lookup (`${input.resource.username}`);
//! - `{{ .path }}` — the Go-template form of JumpCloud's connector bodies
//!   (`{{ .input.body.actor.email }}`).
//!
//! A string that is exactly one template keeps the JSON type of its result (`"${input.count}"`
//! renders to the number, `"{{ steps.list.output.users }}"` to the array); a string with text
//! around templates renders to a string. Undefined names are errors, never empty strings.
//! Templates are data only: no loader (no includes or file access), no secrets in scope,
//! and a fuel cap so a template cannot loop for long.

use std::sync::{Arc, OnceLock};

use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

/// A template problem, with where it is inside the templated value (`body.fields.summary`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct TemplateError {
    pub location: String,
    pub message: String,
}

/// Instructions one template may run before it is stopped.
const FUEL: u64 = 50_000;

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.set_recursion_limit(64);
        add_helpers(&mut env);
        env
    })
}

/// Helpers workflows need and Jinja lacks: the time (`now()`, `seconds_since(t)`) for
/// timestamps and durations in reports, and `merge` to extend an object.
fn add_helpers(env: &mut Environment<'static>) {
    use minijinja::{Error, ErrorKind};
    env.add_function("now", || {
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    });
    env.add_function("seconds_since", |ts: String| -> Result<i64, Error> {
        let t = chrono::DateTime::parse_from_rfc3339(&ts).map_err(|e| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("`{ts}` is not an RFC 3339 time: {e}"),
            )
        })?;
        Ok((chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds())
    });
    env.add_filter(
        "merge",
        |a: minijinja::Value, b: minijinja::Value| -> Result<minijinja::Value, Error> {
            let as_map = |v: &minijinja::Value| -> Result<serde_json::Map<String, Value>, Error> {
                match serde_json::to_value(v) {
                    Ok(Value::Object(m)) => Ok(m),
                    _ => Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "merge: both sides must be objects",
                    )),
                }
            };
            let mut out = as_map(&a)?;
            out.extend(as_map(&b)?);
            Ok(minijinja::Value::from(minijinja::value::Serde(out)))
        },
    );
}

/// Whether a string contains template syntax at all.
pub fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("${") || s.contains("{%")
}

/// Rewrites `${path}` to `{{ path }}` and `{{ .path` to `{{ path`.
fn normalize(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| "unclosed `${`".to_owned())?;
        let path = after[..end].trim();
        let valid = !path.is_empty()
            && path.split('.').all(|seg| {
                !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            });
        if !valid {
            return Err(format!(
                "`${{{path}}}` is not a plain path such as `${{input.user.email}}`"
            ));
        }
        out.push_str("{{ ");
        out.push_str(path);
        out.push_str(" }}");
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    // The Go-template form: `{{ .a.b }}` is `{{ a.b }}`.
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(start) = rest.find("{{") {
        result.push_str(&rest[..start + 2]);
        let after = &rest[start + 2..];
        let trimmed = after.trim_start();
        if let Some(stripped) = trimmed.strip_prefix('.')
            && stripped.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        {
            result.push(' ');
            rest = stripped;
        } else {
            rest = after;
        }
    }
    result.push_str(rest);
    Ok(result)
}

/// If `s` is exactly one `{{ expr }}`, the expression.
fn whole_expression(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then(|| inner.trim())
}

/// A template string prepared once per process: its compiled expression when it is one
/// whole `{{ expr }}`, and the variables it reads as dotted paths (`steps.s3.output.n`),
/// or `None` when it has statements (`{% set input = input.user %}` reads `input` before
/// rebinding it, which minijinja's analysis does not report): those see the whole scope.
struct Prepared {
    expr: Option<minijinja::Expression<'static, 'static>>,
    paths: Option<Vec<Vec<String>>>,
}

/// Templates prepared once per process: a workflow's templates are the same on every
/// run, and compiling was a third of rendering.
fn prepared(env: &'static Environment<'static>, source: &str) -> Result<Arc<Prepared>, String> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    /// Distinct templates kept; past it the cache starts over (templates are written by
    /// admins, so this is far more than a deployment holds).
    const KEEP: usize = 4096;
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Prepared>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(c) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(source) {
        return Ok(c.clone());
    }
    let (expr, names) = match whole_expression(source) {
        Some(e) => {
            let expr = env
                .compile_expression_owned(e.to_owned())
                .map_err(describe)?;
            let names = expr.undeclared_variables(true);
            (Some(expr), names)
        }
        None => {
            let names = env
                .template_from_str(source)
                .map_err(describe)?
                .undeclared_variables(true);
            (None, names)
        }
    };
    let paths = (!source.contains("{%")).then(|| {
        let mut paths: Vec<Vec<String>> = names
            .iter()
            .map(|n| n.split('.').map(str::to_owned).collect())
            .collect();
        // Deepest first: a shorter path read later replaces a partial copy with the whole.
        paths.sort_by_key(|p| std::cmp::Reverse(p.len()));
        paths
    });
    let prepared = Arc::new(Prepared { expr, paths });
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= KEEP {
        cache.clear();
    }
    cache.insert(source.to_owned(), prepared.clone());
    Ok(prepared)
}

/// The part of `scope` a template reads: for each path, the value at its end, or the whole
/// value where the path leaves plain object keys (an index, a method, a missing key), with
/// the objects on the way holding only what is read. Converting this instead of the whole
/// scope (every earlier step's output) was most of a render.
fn project(scope: &Value, paths: &[Vec<String>]) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    let Value::Object(root) = scope else {
        return out;
    };
    for path in paths {
        let Some((first, rest)) = path.split_first() else {
            continue;
        };
        let Some(mut at) = root.get(first) else {
            continue;
        };
        let mut slot = out.entry(first.clone()).or_insert(Value::Null);
        let mut whole = true;
        for seg in rest {
            match (at, &mut *slot) {
                (Value::Object(m), _) if m.contains_key(seg) => {
                    at = &m[seg];
                    slot = object(slot).entry(seg.clone()).or_insert(Value::Null);
                }
                _ => {
                    *slot = at.clone();
                    whole = false;
                    break;
                }
            }
        }
        if whole {
            *slot = at.clone();
        }
    }
    out
}

/// `v` as an object, made one (empty) if it is not.
fn object(v: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Default::default());
    }
    match v {
        Value::Object(o) => o,
        _ => unreachable!("made an object above"),
    }
}

fn render_str(s: &str, scope: &Value) -> Result<Value, String> {
    let source = normalize(s)?;
    let env = env();
    let prepared = prepared(env, &source)?;
    let ctx = match &prepared.paths {
        Some(paths) => minijinja::Value::from(minijinja::value::Serde(project(scope, paths))),
        None => minijinja::Value::from(minijinja::value::Serde(scope)),
    };
    if let Some(expr) = &prepared.expr {
        let value = expr.eval(ctx).map_err(|e| explain(e, s))?;
        // Strict mode only fails when an undefined value is used; a lookup that is the
        // whole value would otherwise become `null` and a typo would pass unnoticed. Other
        // expressions that yield nothing (`{{ a if cond }}` without `else`) stay `null`.
        if value.is_undefined() && whole_expression(&source).is_some_and(is_plain_lookup) {
            return Err(undefined(s));
        }
        return serde_json::to_value(&value).map_err(|e| e.to_string());
    }
    env.render_str(&source, ctx)
        .map(Value::String)
        .map_err(|e| explain(e, s))
}

/// `input.user.email`: names joined by dots, nothing else.
fn is_plain_lookup(expr: &str) -> bool {
    !expr.is_empty()
        && expr.split('.').all(|seg| {
            seg.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

fn undefined(template: &str) -> String {
    format!(
        "`{template}` is undefined: no such field or variable (for an optional one write \
         `{{{{ … | default(none) }}}}`)"
    )
}

/// A render error, naming the template when minijinja's message alone would not.
fn explain(e: minijinja::Error, template: &str) -> String {
    if e.kind() == minijinja::ErrorKind::UndefinedError {
        return undefined(template);
    }
    describe(e)
}

fn describe(e: minijinja::Error) -> String {
    let mut msg = e.to_string();
    // minijinja appends the template name; ours are anonymous strings.
    if let Some(stripped) = msg.strip_suffix(" (in <string>)") {
        msg = stripped.to_owned();
    }
    msg
}

/// Renders every template inside `value` against `scope` (the JSON of `input`, `steps`,
/// `vars`, `item`, `trigger`, `run`).
pub fn render(value: &Value, scope: &Value) -> Result<Value, TemplateError> {
    render_at(value, scope, &mut String::new())
}

fn render_at(value: &Value, scope: &Value, at: &mut String) -> Result<Value, TemplateError> {
    Ok(match value {
        Value::String(s) if is_template(s) => {
            render_str(s, scope).map_err(|message| TemplateError {
                location: if at.is_empty() {
                    "(value)".into()
                } else {
                    at.clone()
                },
                message,
            })?
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                out.push(render_at(item, scope, at)?);
                at.truncate(len);
            }
            Value::Array(out)
        }
        Value::Object(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (k, v) in map {
                let len = at.len();
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(k);
                out.insert(k.clone(), render_at(v, scope, at)?);
                at.truncate(len);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// Checks the syntax of every template inside `value` without rendering, reporting all
/// problems (for validation before a workflow is saved or run).
pub fn check(value: &Value) -> Vec<TemplateError> {
    let mut errors = Vec::new();
    check_at(value, &mut String::new(), &mut errors);
    errors
}

fn check_at(value: &Value, at: &mut String, errors: &mut Vec<TemplateError>) {
    match value {
        Value::String(s) if is_template(s) => {
            let result = normalize(s).and_then(|source| {
                let env = env();
                match whole_expression(&source) {
                    Some(expr) => env.compile_expression(expr).map(|_| ()).map_err(describe),
                    None => env.template_from_str(&source).map(|_| ()).map_err(describe),
                }
            });
            if let Err(message) = result {
                let location = if at.is_empty() {
                    "(value)".into()
                } else {
                    at.clone()
                };
                errors.push(TemplateError { location, message });
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                check_at(item, at, errors);
                at.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let len = at.len();
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(k);
                check_at(v, at, errors);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope() -> Value {
        json!({
            "input": {"resource": {"username": "jsmith"}, "count": 3, "body": {"actor": {"email": "A@B.C"}}},
            "steps": {"list": {"output": {"users": ["a", "b"]}}},
            "vars": {"domain": "example.com"},
        })
    }

    #[test]
    fn a_template_sees_what_it_reads_and_only_that() {
        let env = env();
        let paths = |src: &str| prepared(env, src).unwrap().paths.clone().unwrap();
        let scope = json!({
            "input": {"a": {"b": 1, "c": 2}, "s": "text"},
            "steps": {"x": {"output": {"n": 1, "list": [1, 2]}}, "y": {"output": "big"}},
        });
        // A plain path: the objects on the way hold only the value read.
        let p = project(&scope, &paths("{{ input.a.b + steps.x.output.n }}"));
        assert_eq!(
            Value::Object(p),
            json!({"input": {"a": {"b": 1}}, "steps": {"x": {"output": {"n": 1}}}})
        );
        // An index, a missing key or a whole object: the value where the path stops.
        let p = project(&scope, &paths("{{ steps.x.output.list[1] }}"));
        assert_eq!(p["steps"]["x"]["output"]["list"], json!([1, 2]));
        let p = project(&scope, &paths("{{ input.missing | default('d') }}"));
        assert_eq!(p["input"], scope["input"]);
        let p = project(&scope, &paths("{{ input.a.b }} and {{ input }}"));
        assert_eq!(p["input"], scope["input"]);
        // Through a string: the string itself.
        let p = project(&scope, &paths("{{ input.s.upper }}"));
        assert_eq!(p["input"]["s"], "text");
        // Rendering sees the same values, defaults and errors as against the whole scope.
        let r = |t: &str| render(&json!(t), &scope);
        assert_eq!(r("{{ steps.x.output.list[1] }}").unwrap(), json!(2));
        assert_eq!(r("{{ input.missing | default('d') }}").unwrap(), json!("d"));
        assert_eq!(r("{{ input.a }}").unwrap(), json!({"b": 1, "c": 2}));
        assert_eq!(
            r("{% for k in input.a %}{{ k }}{% endfor %}").unwrap(),
            json!("bc")
        );
        assert!(r("{{ steps.z.output }}").is_err());
        assert!(r("{{ nothing.here }}").is_err());
        // Statements see the whole scope: a variable rebound from itself still renders.
        assert!(
            prepared(env, "{% set input = input.a %}{{ input.b }}")
                .unwrap()
                .paths
                .is_none()
        );
        assert_eq!(
            r("{% set input = input.a %}{{ input.b }}").unwrap(),
            json!("1")
        );
        assert_eq!(
            r("{% with x = steps.x.output %}{{ x.n }}{% endwith %}").unwrap(),
            json!("1")
        );
    }

    #[test]
    fn the_three_spellings_render() {
        let v = json!({
            "a": "${input.resource.username}",
            "b": "{{ .input.body.actor.email }}",
            "c": "{{ input.body.actor.email | lower }}@{{ vars.domain }}",
            "d": "user ${input.resource.username} in {{ vars.domain }}",
        });
        assert_eq!(
            render(&v, &scope()).unwrap(),
            json!({"a": "jsmith", "b": "A@B.C", "c": "a@b.c@example.com", "d": "user jsmith in example.com"})
        );
    }

    #[test]
    fn a_whole_template_keeps_its_json_type() {
        let v = json!({"n": "${input.count}", "list": "{{ steps.list.output.users }}", "b": "{{ input.count > 2 }}", "s": " {{ input.count }}x"});
        assert_eq!(
            render(&v, &scope()).unwrap(),
            json!({"n": 3, "list": ["a", "b"], "b": true, "s": " 3x"})
        );
    }

    #[test]
    fn time_and_merge_helpers() {
        let v = json!({
            "m": "{{ {'a': 1, 'b': 2} | merge({'b': 3}) }}",
            "age": "{{ seconds_since('2000-01-01T00:00:00Z') > 0 }}",
            "now": "{{ now() }}",
        });
        let out = render(&v, &scope()).unwrap();
        assert_eq!(out["m"], json!({"a": 1, "b": 3}));
        assert_eq!(out["age"], true);
        assert!(chrono::DateTime::parse_from_rfc3339(out["now"].as_str().unwrap()).is_ok());
        assert!(render(&json!("{{ seconds_since('soon') }}"), &scope()).is_err());
        assert!(render(&json!("{{ 1 | merge({'a': 1}) }}"), &scope()).is_err());
    }

    #[test]
    fn an_undefined_name_is_an_error_with_its_location() {
        let v = json!({"body": {"fields": [{"summary": "${input.missing.key}"}]}});
        let err = render(&v, &scope()).unwrap_err();
        assert_eq!(err.location, "body.fields[0].summary");
        assert!(err.message.contains("undefined"), "{}", err.message);
    }

    /// A misspelt field that is the whole value must not quietly become `null` (a `null`
    /// filter can widen a JumpCloud listing to every user).
    #[test]
    fn a_missing_field_as_the_whole_value_is_an_error_naming_it() {
        for t in [
            "${input.usernmae}",
            "{{ input.usernmae }}",
            "{{ .input.usernmae }}",
        ] {
            let err = render(&json!({"username": t}), &scope()).unwrap_err();
            assert_eq!(err.location, "username");
            assert!(err.message.contains(t), "{t}: {}", err.message);
            assert!(err.message.contains("undefined"), "{t}: {}", err.message);
        }
        let err = render(&json!("Hello {{ input.nme }}!"), &scope()).unwrap_err();
        assert!(
            err.message.contains("Hello {{ input.nme }}!"),
            "{}",
            err.message
        );
        // An optional field says so.
        let out = render(&json!("{{ input.usernmae | default(none) }}"), &scope()).unwrap();
        assert_eq!(out, Value::Null);
        // A field that is present and null stays null, and so does a conditional without
        // `else` whose condition is false.
        let scope = json!({"input": {"manager": null, "n": 1}});
        let out = render(&json!("{{ 'x' if input.n > 1 }}"), &scope).unwrap();
        assert_eq!(out, Value::Null);
        assert_eq!(
            render(&json!("${input.manager}"), &scope).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn syntax_errors_are_all_reported_without_rendering() {
        let v = json!({"a": "{{ input. }}", "b": "ok", "c": ["${not a path}"], "d": "{% for %}"});
        let errors = check(&v);
        let locations: Vec<_> = errors.iter().map(|e| e.location.as_str()).collect();
        assert_eq!(locations, ["a", "c[0]", "d"], "{errors:?}");
        assert!(errors[1].message.contains("is not a plain path"));
    }

    #[test]
    fn templates_cannot_loop_forever() {
        let v = json!(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
        );
        let err = render(&v, &scope()).unwrap_err();
        assert!(err.message.contains("fuel"), "{}", err.message);
    }

    #[test]
    fn plain_values_pass_through() {
        let v = json!({"n": 1, "s": "no template", "arr": [true, null]});
        assert_eq!(render(&v, &scope()).unwrap(), v);
    }
}
