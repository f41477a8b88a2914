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
