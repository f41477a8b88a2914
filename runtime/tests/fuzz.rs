//! Property tests of the parser and the template layer: arbitrary input never panics, and
//! errors carry a location. Each property runs `CASES` generated inputs; the count is
//! printed so the suite's output says how many ran.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use sluice::workflow::{model, template};

const CASES: u32 = 3000;

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Strings made of the characters workflow documents are made of.
fn doc_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z0-9_:{}\\[\\]\\-\\$. \n\"'#@|%*&!>]{0,300}").unwrap()
}

#[test]
fn the_parser_never_panics_on_arbitrary_text() {
    let mut r = runner();
    r.run(&doc_text(), |text| {
        let _ = model::parse("fuzz.yaml", &text);
        let _ = model::parse("fuzz.json", &text);
        Ok(())
    })
    .unwrap();
    eprintln!("parser: {CASES} arbitrary documents (YAML and JSON each)");
}

#[test]
fn the_parser_never_panics_on_mutated_valid_documents() {
    let valid = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/group-routing.yaml"
    ))
    .unwrap();
    let mut r = runner();
    let strategy = (0..valid.len(), 0..valid.len(), doc_text());
    r.run(&strategy, |(a, b, insert)| {
        let (start, end) = (a.min(b), a.max(b));
        if !valid.is_char_boundary(start) || !valid.is_char_boundary(end) {
            return Ok(());
        }
        let mutated = format!("{}{}{}", &valid[..start], insert, &valid[end..]);
        if let Err(e) = model::parse("mutated.yaml", &mutated) {
            prop_assert!(e.to_string().starts_with("mutated.yaml"), "{e}");
        }
        Ok(())
    })
    .unwrap();
    eprintln!("parser: {CASES} mutated documents");
}

#[test]
fn templates_never_panic_and_errors_have_locations() {
    let scope = json!({"input": {"a": 1, "b": "x", "list": [1, 2]}, "steps": {}, "vars": {}});
    let template_text =
        proptest::string::string_regex("[a-z0-9_.|(){}%$\\[\\] +~'\"-]{0,80}").unwrap();
    let mut r = runner();
    r.run(&template_text, |t| {
        let value = json!({"field": t});
        let _ = template::check(&value);
        if let Err(e) = template::render(&value, &scope) {
            prop_assert_eq!(e.location.as_str(), "field");
        }
        Ok(())
    })
    .unwrap();
    eprintln!("templates: {CASES} arbitrary templates");
}

#[test]
fn whole_value_templates_keep_the_type_of_any_json() {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-z ]{0,10}".prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 20, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-z]{1,5}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let mut r = runner();
    r.run(&value, |v| {
        let scope = json!({"input": {"v": v}});
        let out = template::render(&json!("${input.v}"), &scope).unwrap();
        prop_assert_eq!(out, v);
        Ok(())
    })
    .unwrap();
    eprintln!("templates: {CASES} typed round trips");
}

/// A duration as a document may spell it: any number with any unit, including numbers far
/// beyond what any clock can hold.
fn duration_text() -> impl Strategy<Value = String> {
    let unit = prop_oneof![
        Just("ns"),
        Just("ms"),
        Just("s"),
        Just("m"),
        Just("h"),
        Just("d"),
        Just("w")
    ];
    let number = prop_oneof![0u64..100_000, any::<u64>(), Just(92_233_720_368_547_758u64)];
    (number, unit).prop_map(|(n, u)| format!("{n}{u}"))
}

/// Whatever durations, counts and sizes a document gives, validation either refuses them
/// with a located problem or accepts values the engine can use without overflow: deadlines
/// that fit the clock, retry delays that never panic, bounded concurrency.
#[test]
fn validated_durations_counts_and_sizes_are_usable_by_the_engine() {
    use sluice::workflow::validate::{MAX_BACKOFF, MAX_CONCURRENCY, PluginInfo, validate};
    let ceiling = std::time::Duration::from_secs(15 * 60);
    let mut plugins = sluice::workflow::validate::PluginTable::new();
    plugins.insert(
        "transform".into(),
        Ok(PluginInfo {
            id: "transform@0.1.0".into(),
            kind: sluice::host::PluginKind::Action,
            input_schema: json!({}),
            grants: Vec::new(),
        }),
    );
    let strategy = (duration_text(), duration_text(), any::<u32>(), any::<u32>());
    let mut r = runner();
    r.run(&strategy, |(timeout, backoff, attempts, concurrency)| {
        let text = format!(
            "version: 1\nname: bounds\ntrigger: {{type: manual}}\nrun_as: Read Only\nsteps:\n\
             - id: each\n  for_each: '${{input.list}}'\n  concurrency: {concurrency}\n  do:\n\
             \x20 - id: step\n    uses: transform\n    timeout: {timeout}\n\
             \x20   retry: {{attempts: {attempts}, backoff: {backoff}}}\n"
        );
        let doc = model::parse("bounds.yaml", &text).expect("the document parses");
        let report = validate(
            "bounds.yaml",
            &doc,
            &plugins,
            &sluice::role::RoleBook::default(),
            None,
            ceiling,
        );
        for p in &report.problems {
            prop_assert!(p.location.starts_with("steps["), "unlocated: {p}");
        }
        let step = &doc.steps[0].do_steps.as_ref().unwrap()[0];
        let t = humantime::parse_duration(step.timeout.as_deref().unwrap());
        let b = humantime::parse_duration(step.retry.as_ref().unwrap().backoff.as_deref().unwrap());
        let t_ok = matches!(&t, Ok(d) if !d.is_zero() && *d <= ceiling);
        let b_ok = matches!(&b, Ok(d) if *d <= MAX_BACKOFF);
        let a_ok = (1..=20).contains(&attempts);
        let c_ok = (1..=MAX_CONCURRENCY).contains(&concurrency);
        prop_assert_eq!(
            report.problems.is_empty(),
            t_ok && b_ok && a_ok && c_ok,
            "{:?}",
            report.problems
        );
        if report.problems.is_empty() {
            let t = t.unwrap();
            prop_assert!(std::time::Instant::now().checked_add(t).is_some());
            prop_assert!(sluice::host::wasm::ticks(t) < u64::MAX / 2);
            for attempt in 1..=attempts {
                for jitter in [0.0, 0.5, 0.999_999_999, 1.0] {
                    let d = sluice::engine::retry_delay(b.clone().unwrap(), attempt, jitter);
                    prop_assert!(d <= MAX_BACKOFF);
                }
            }
        }
        Ok(())
    })
    .unwrap();
    eprintln!("bounds: {CASES} documents with arbitrary durations and counts");
}
