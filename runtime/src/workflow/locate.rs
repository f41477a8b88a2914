//! Where a validation problem is in the document's text: its path in the document (the
//! step, or the trigger field) and, where it can be found, its line and column.
//!
//! Validation works on the parsed model, which keeps no positions; this maps a problem's
//! location (`steps[1] notify > then[0] mail`, `trigger.cron`) back to the text. A step is
//! found by its `id` key (ids are unique in a valid document; the n-th step with a repeated
//! id is matched to the n-th `id` with that value), a field of a step within the lines of
//! that step, a top-level field by its key. This reads block YAML, flow mappings and JSON;
//! a position it cannot find is left out and the path is still given.

use serde::Serialize;

use super::graph::{DocPath, Seg, path_id};
use super::model::{OnErrorDoc, StepDoc, WorkflowDoc};

/// A problem's place in the document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Located {
    /// The path of what the problem is about (`["steps", 1, "then", 0]`).
    pub path: Option<DocPath>,
    /// The graph node of the step it is about (`steps.1.then.0`).
    pub node: Option<String>,
    /// 1-based.
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
}

/// Where a parse error is: serde reports the line and column of YAML and JSON errors.
pub fn parse_error_position(text: &str) -> Option<(usize, usize)> {
    if text.trim_start().starts_with('{') {
        match serde_json::from_str::<WorkflowDoc>(text) {
            Err(e) if e.line() > 0 => Some((e.line(), e.column().max(1))),
            _ => None,
        }
    } else {
        match serde_yaml_ng::from_str::<WorkflowDoc>(text) {
            Err(e) => e.location().map(|l| (l.line(), l.column())),
            Ok(_) => None,
        }
    }
}

/// Fields a step problem's message may be about, in the order they are looked for.
const STEP_FIELDS: &[&str] = &[
    "with",
    "if",
    "then",
    "else",
    "for_each",
    "item",
    "concurrency",
    "do",
    "parallel",
    "workflow",
    "input",
    "connector",
    "method",
    "path",
    "headers",
    "query",
    "body",
    "expect",
    "retry",
    "timeout",
    "on_error",
    "when",
    "impact",
    "remediation",
    "recommended_actions",
    "errors",
];

/// Where the problem at `location` with `message` is in `text`, parsed as `doc`.
pub fn locate(text: &str, doc: &WorkflowDoc, location: &str, message: &str) -> Located {
    let lines: Vec<&str> = text.lines().collect();
    if let Some(path) = step_path(location, doc).or_else(|| referring_step(location, message, doc))
    {
        let mut out = Located {
            node: Some(path_id(&path)),
            path: Some(path.clone()),
            ..Located::default()
        };
        if let Some(step) = step_at(doc, &path) {
            let nth = same_id_before(doc, &path, &step.id);
            if let Some((line, col)) = find_key_value(&lines, "id", &step.id, 0, nth) {
                out.line = Some(line + 1);
                out.column = Some(col + 1);
                if let Some(field) = field_of(message)
                    && let Some((mut l, mut c)) = field_in_step(&lines, line, col, field)
                {
                    // `with.subject: bad template`: the `subject` key below `with`.
                    let end = step_end(&lines, line, col);
                    let keys = message
                        .split([':', ' '])
                        .next()
                        .unwrap_or_default()
                        .trim_matches('`');
                    for key in keys.split('.').skip(1).filter(|k| !k.is_empty()) {
                        let key = key.split('[').next().unwrap_or_default();
                        match key_at(lines[l], key, c + 1)
                            .map(|kc| (l, kc))
                            .or_else(|| find_key(&lines, key, l + 1, end, false))
                        {
                            Some(found) => (l, c) = found,
                            None => break,
                        }
                    }
                    out.line = Some(l + 1);
                    out.column = Some(c + 1);
                }
            }
        }
        return out;
    }
    let path: DocPath = match location {
        "workflow" => vec![Seg::Key("name")],
        "run_as" => vec![Seg::Key("run_as")],
        "output" => vec![Seg::Key("output")],
        "report" => vec![Seg::Key("report")],
        "steps" => vec![Seg::Key("steps")],
        "trigger" => vec![Seg::Key("trigger")],
        other => match other.strip_prefix("trigger.") {
            Some(field) => match TRIGGER_FIELDS.iter().find(|f| **f == field) {
                Some(f) => vec![Seg::Key("trigger"), Seg::Key(f)],
                None => vec![Seg::Key("trigger")],
            },
            None => return Located::default(),
        },
    };
    let mut out = Located {
        path: Some(path.clone()),
        ..Located::default()
    };
    let top = match &path[0] {
        Seg::Key(k) => *k,
        Seg::Index(_) => return out,
    };
    if let Some((line, col)) = find_key(&lines, top, 0, lines.len(), true) {
        out.line = Some(line + 1);
        out.column = Some(col + 1);
        if let Some(Seg::Key(field)) = path.get(1) {
            // A trigger field: the first such key from the trigger on.
            if let Some((l, c)) = find_key(&lines, field, line, lines.len(), false) {
                out.line = Some(l + 1);
                out.column = Some(c + 1);
            }
        }
    }
    out
}

const TRIGGER_FIELDS: &[&str] = &[
    "type",
    "input_schema",
    "cron",
    "timezone",
    "misfire",
    "event_type",
    "condition",
    "respond_with_output",
];

/// The step path of a location written by validation: `steps[2] a > then[0] b`,
/// `… > parallel[1][0] c`, or a sub-workflow's `workflow NAME > step ID`.
fn step_path(location: &str, doc: &WorkflowDoc) -> Option<DocPath> {
    if let Some(rest) = location.strip_prefix("workflow ") {
        let (_, id) = rest.split_once(" > step ")?;
        return find_step(doc, id);
    }
    if !location.starts_with("steps[") {
        return None;
    }
    let mut path = DocPath::new();
    for part in location.split(" > ") {
        let (name, rest) = part.split_once('[')?;
        let key = ["steps", "then", "else", "do", "parallel", "on_error"]
            .into_iter()
            .find(|k| *k == name)?;
        path.push(Seg::Key(key));
        let mut rest = rest;
        loop {
            let (n, after) = rest.split_once(']')?;
            path.push(Seg::Index(n.parse().ok()?));
            match after.strip_prefix('[') {
                Some(more) => rest = more,
                None => break,
            }
        }
    }
    step_at(doc, &path).map(|_| path)
}

/// For a problem reported on `steps` as a whole: the step it is about (the second use of
/// a repeated id; the first step referring to an unknown `steps.X`).
fn referring_step(location: &str, message: &str, doc: &WorkflowDoc) -> Option<DocPath> {
    if location != "steps" {
        return None;
    }
    let quoted = message.split('`').nth(1)?;
    if message.contains("is used more than once") {
        let all = all_steps(doc);
        return all
            .into_iter()
            .filter(|(_, s)| s.id == quoted)
            .nth(1)
            .map(|(p, _)| p);
    }
    if message.starts_with("a template refers to") {
        return all_steps(doc)
            .into_iter()
            .find(|(_, s)| {
                serde_json::to_string(&own_fields(s)).is_ok_and(|t| mentions(&t, quoted))
            })
            .map(|(p, _)| p);
    }
    None
}

/// Whether `text` mentions `steps.X` (not `steps.Xy`).
fn mentions(text: &str, reference: &str) -> bool {
    text.match_indices(reference).any(|(i, _)| {
        let next = text[i + reference.len()..].chars().next();
        !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// A step's own templated fields (not its children's).
fn own_fields(s: &StepDoc) -> Vec<&serde_json::Value> {
    let mut out: Vec<&serde_json::Value> = [
        &s.with,
        &s.input,
        &s.body,
        &s.headers,
        &s.query,
        &s.for_each,
        &s.when,
    ]
    .into_iter()
    .flatten()
    .collect();
    if let Some(c) = &s.condition {
        out.push(&c.with);
    }
    out
}

/// Every step with its path, in document order.
fn all_steps(doc: &WorkflowDoc) -> Vec<(DocPath, &StepDoc)> {
    fn walk<'a>(steps: &'a [StepDoc], base: DocPath, out: &mut Vec<(DocPath, &'a StepDoc)>) {
        for (i, s) in steps.iter().enumerate() {
            let mut p = base.clone();
            p.push(Seg::Index(i));
            out.push((p.clone(), s));
            let sub = |k: &'static str| {
                let mut q = p.clone();
                q.push(Seg::Key(k));
                q
            };
            if let Some(t) = &s.then {
                walk(t, sub("then"), out);
            }
            if let Some(e) = &s.otherwise {
                walk(e, sub("else"), out);
            }
            if let Some(d) = &s.do_steps {
                walk(d, sub("do"), out);
            }
            if let Some(branches) = &s.parallel {
                for (b, branch) in branches.iter().enumerate() {
                    let mut q = sub("parallel");
                    q.push(Seg::Index(b));
                    walk(branch, q, out);
                }
            }
            if let Some(OnErrorDoc::Steps(h)) = &s.on_error {
                walk(h, sub("on_error"), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&doc.steps, vec![Seg::Key("steps")], &mut out);
    out
}

fn find_step(doc: &WorkflowDoc, id: &str) -> Option<DocPath> {
    all_steps(doc)
        .into_iter()
        .find(|(_, s)| s.id == id)
        .map(|(p, _)| p)
}

/// The step at `path`, if the path names one.
fn step_at<'a>(doc: &'a WorkflowDoc, path: &[Seg]) -> Option<&'a StepDoc> {
    all_steps(doc)
        .into_iter()
        .find(|(p, _)| p == path)
        .map(|(_, s)| s)
}

/// How many steps before the one at `path` (in document order) have the id `id`.
fn same_id_before(doc: &WorkflowDoc, path: &[Seg], id: &str) -> usize {
    all_steps(doc)
        .into_iter()
        .take_while(|(p, _)| p != path)
        .filter(|(_, s)| s.id == id)
        .count()
}

/// The field a step problem's message is about: `with.x: bad template`, ``retry.backoff``,
/// `a connector step needs `path``.
fn field_of(message: &str) -> Option<&'static str> {
    // A plugin's input that its schema refuses is the step's `with`.
    if message.starts_with("input") && message.contains("does not match") {
        return Some("with");
    }
    // A plugin that does not resolve or is of the wrong kind: its `uses` (an `if`'s is
    // found below the `if`).
    if message.starts_with("plugin `") || message.contains(" plugin; this step needs") {
        return Some("uses");
    }
    let head = message
        .split([':', '.', ' ', '`', '['])
        .find(|w| !w.is_empty())?;
    if let Some(f) = STEP_FIELDS.iter().find(|f| **f == head) {
        return Some(*f);
    }
    let quoted = message.split('`').nth(1)?;
    let quoted = quoted.split(['.', ' ']).next()?;
    STEP_FIELDS.iter().find(|f| **f == quoted).copied()
}

/// The line and column of `key` among the keys of the step whose `id` key is at
/// (`line`, `col`): the step's lines run until one is indented less than its keys.
fn field_in_step(lines: &[&str], line: usize, col: usize, key: &str) -> Option<(usize, usize)> {
    // A flow mapping on one line: `- { id: a, uses: x, with: {...} }`.
    if let Some(c) = key_at(lines[line], key, col) {
        return Some((line, c));
    }
    let end = step_end(lines, line, col);
    // Keys of the step itself (at its indentation) first, then any.
    (line + 1..end)
        .find_map(|i| {
            let l = lines[i];
            let indent = l.len() - l.trim_start().len();
            (indent == col)
                .then(|| key_at(l, key, 0).map(|c| (i, c)))
                .flatten()
        })
        .or_else(|| find_key(lines, key, line + 1, end, false))
}

/// The line after the last of the step whose `id` key is at (`line`, `col`): the first
/// line indented less than the step's keys.
fn step_end(lines: &[&str], line: usize, col: usize) -> usize {
    let mut end = line + 1;
    while end < lines.len() {
        let l = lines[end];
        let t = l.trim_start();
        if !t.is_empty() && !t.starts_with('#') && l.len() - t.len() < col {
            break;
        }
        end += 1;
    }
    end
}

/// The first line in `from..to` with the key `key` (at the start of the line when
/// `top_level`), and the key's column.
fn find_key(
    lines: &[&str],
    key: &str,
    from: usize,
    to: usize,
    top_level: bool,
) -> Option<(usize, usize)> {
    (from..to.min(lines.len())).find_map(|i| {
        let l = lines[i];
        if top_level {
            let t = l.trim_start();
            // YAML top-level keys start the line; JSON ones are the first key of a line.
            let indent = l.len() - t.len();
            let json = t.starts_with('"');
            if indent != 0 && !json {
                return None;
            }
            key_at(l, key, 0).filter(|c| *c == indent).map(|c| (i, c))
        } else {
            key_at(l, key, 0).map(|c| (i, c))
        }
    })
}

/// The `nth` (0-based) line with `key: value` (value plain or quoted), from line `from`.
fn find_key_value(
    lines: &[&str],
    key: &str,
    value: &str,
    from: usize,
    nth: usize,
) -> Option<(usize, usize)> {
    let mut seen = 0;
    for (i, l) in lines.iter().enumerate().skip(from) {
        let mut start = 0;
        while let Some(c) = key_at(l, key, start) {
            if value_after_key(l, c, key) == Some(value) {
                if seen == nth {
                    return Some((i, c));
                }
                seen += 1;
            }
            start = c + key.len();
        }
    }
    None
}

/// The byte column of the key `key` in `line` at or after `start`: a word bounded by the
/// start of the line, whitespace, `-`, `{`, `,` or a quote, followed (after an optional
/// closing quote and spaces) by `:`. Text after a `#` comment start is ignored.
fn key_at(line: &str, key: &str, start: usize) -> Option<usize> {
    let code = strip_comment(line);
    let bytes = code.as_bytes();
    let mut from = start;
    while from <= code.len() {
        let i = from + code.get(from..)?.find(key)?;
        let before_ok = i == 0
            || matches!(
                bytes[i - 1],
                b' ' | b'\t' | b'-' | b'{' | b',' | b'"' | b'\''
            );
        let quote = i > 0 && matches!(bytes[i - 1], b'"' | b'\'');
        let mut j = i + key.len();
        if quote && bytes.get(j) == Some(&bytes[i - 1]) {
            j += 1;
        }
        while bytes.get(j) == Some(&b' ') {
            j += 1;
        }
        if before_ok && bytes.get(j) == Some(&b':') {
            return Some(if quote { i - 1 } else { i });
        }
        from = i + key.len();
    }
    None
}

/// The scalar after `key:` at `col`, without quotes.
fn value_after_key<'a>(line: &'a str, col: usize, key: &str) -> Option<&'a str> {
    let rest = &strip_comment(line)[col..];
    let rest = rest.trim_start_matches(['"', '\'']);
    let rest = rest.strip_prefix(key)?;
    let rest = rest.trim_start_matches(['"', '\'']).trim_start();
    let rest = rest.strip_prefix(':')?.trim_start();
    let end = rest.find([',', '}', ']']).unwrap_or(rest.len());
    Some(rest[..end].trim().trim_matches(['"', '\'']))
}

/// `line` without a YAML comment (a `#` at the start or after whitespace, outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' && prev.is_whitespace() => return &line[..i],
            None => {}
        }
        prev = c;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::model::parse;

    const DOC: &str = "\
# A comment mentioning id: x
version: 1
name: Bad_Name
trigger:
  type: schedule
  cron: 'every monday'   # not cron
run_as: Read Only
steps:
  - id: first
    uses: transform
    with: { x: \"{{ unclosed\" }
  - id: check
    if: { uses: compare, with: {} }
    then:
      - { id: inner, uses: nope, with: { a: 1 } }
    else:
      - id: first
        uses: transform
        retry:
          attempts: 0
";

    fn at(location: &str, message: &str) -> (Option<String>, Option<usize>, Option<usize>) {
        let doc = parse("w.yaml", DOC).unwrap();
        let l = locate(DOC, &doc, location, message);
        (l.node, l.line, l.column)
    }

    #[test]
    fn steps_are_found_by_their_path_and_id() {
        assert_eq!(
            at(
                "steps[1] check > then[0] inner",
                "plugin `nope` was not resolved"
            ),
            (Some("steps.1.then.0".into()), Some(15), Some(22))
        );
        // A field of the step named by the message: the line of that field.
        assert_eq!(
            at("steps[0] first", "with.x: bad template: unexpected end"),
            (Some("steps.0".into()), Some(11), Some(13))
        );
        assert_eq!(
            at(
                "steps[1] check > else[0] first",
                "`retry.attempts` must be between 1 and 20"
            ),
            (Some("steps.1.else.0".into()), Some(20), Some(11))
        );
        // The second use of a repeated id is the second `id: first`.
        assert_eq!(
            at("steps", "step id `first` is used more than once"),
            (Some("steps.1.else.0".into()), Some(17), Some(9))
        );
    }

    #[test]
    fn top_level_and_trigger_fields_are_found_by_key() {
        assert_eq!(
            at(
                "trigger.cron",
                "`every monday` is not a valid cron expression"
            ),
            (None, Some(6), Some(3))
        );
        assert_eq!(
            at("workflow", "name `Bad_Name`: use lower-case"),
            (None, Some(3), Some(1))
        );
        assert_eq!(at("run_as", "x"), (None, Some(7), Some(1)));
        let doc = parse("w.yaml", DOC).unwrap();
        let l = locate(DOC, &doc, "trigger.cron", "");
        assert_eq!(
            serde_json::to_value(l.path).unwrap(),
            serde_json::json!(["trigger", "cron"])
        );
    }

    #[test]
    fn json_documents_and_unknown_locations() {
        let json = "{\n  \"version\": 1,\n  \"name\": \"j\",\n  \"trigger\": {\"type\": \"manual\"},\n  \"run_as\": \"Read Only\",\n  \"steps\": [\n    {\"id\": \"a\", \"uses\": \"nope\"}\n  ]\n}";
        let doc = parse("w.json", json).unwrap();
        let l = locate(json, &doc, "steps[0] a", "the step does nothing");
        assert_eq!((l.line, l.column), (Some(7), Some(6)));
        let l = locate(json, &doc, "steps[0] a", "plugin `nope` was not resolved");
        assert_eq!((l.line, l.column), (Some(7), Some(17)));
        let l = locate(json, &doc, "run_as", "x");
        assert_eq!((l.line, l.column), (Some(5), Some(3)));
        assert_eq!(locate(json, &doc, "elsewhere", "x"), Located::default());
        // A path naming no step gives nothing rather than a wrong place.
        assert_eq!(locate(json, &doc, "steps[5] z", "x").node, None);
    }

    #[test]
    fn parse_errors_have_a_line_and_column() {
        assert_eq!(
            parse_error_position("version: 1\nname: x\nbogus: 1\n"),
            Some((3, 1))
        );
        assert!(parse_error_position("{\"version\": \"one\"}").is_some());
        assert_eq!(
            parse_error_position(
                "version: 1\nname: x\ntrigger: {type: manual}\nrun_as: Read Only\nsteps: []\n"
            ),
            None
        );
    }

    #[test]
    fn keys_are_words_outside_comments() {
        assert_eq!(key_at("  - id: first", "id", 0), Some(4));
        assert_eq!(key_at("  - { id: a, uses: x }", "uses", 0), Some(13));
        assert_eq!(key_at("  valid: 1", "id", 0), None);
        assert_eq!(key_at("  # id: a", "id", 0), None);
        assert_eq!(key_at("    \"id\": \"a\"", "id", 0), Some(4));
        assert_eq!(
            value_after_key("  - { id: 'a b', x: 1 }", 6, "id"),
            Some("a b")
        );
        assert_eq!(strip_comment("a: '#x' # c"), "a: '#x' ");
    }
}
