//! Tests of the sled store.

use super::*;

fn ns(workflow: &str, owner: &str) -> StateNamespace {
    StateNamespace {
        workflow: workflow.into(),
        owner: owner.into(),
    }
}

#[test]
fn state_written_before_counting_is_counted_once() {
    let s = SledStore::temporary().unwrap();
    // As an older Sluice left it: values without a usage record.
    let legacy = [("w", "old", "k1", "abc"), ("v", "old", "k2", "de")];
    for (workflow, owner, key, value) in legacy.into_iter().chain([("w", "older", "k3", "f")]) {
        s.state
            .insert(state_key(&ns(workflow, owner), key), value)
            .unwrap();
    }
    assert_eq!(s.state_usage("old").unwrap(), (2, 9));
    s.state_set(&ns("w", "old"), "k4", "g", StateQuota::DEFAULT)
        .unwrap();
    assert_eq!(s.state_usage("old").unwrap(), (3, 12));
}

#[test]
fn trusted_keys_and_settings_persist_across_opens() {
    // What they promise otherwise is in the conformance suite (`store::conformance`).
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SledStore::open(dir.path()).unwrap();
        assert!(
            s.trusted_key_add("a", &serde_json::json!({"n": 1}))
                .unwrap()
        );
        s.setting_put("x", &serde_json::json!(true)).unwrap();
    }
    let s = SledStore::open(dir.path()).unwrap();
    assert_eq!(s.trusted_key_list().unwrap(), [serde_json::json!({"n": 1})]);
    assert_eq!(s.setting_get("x").unwrap(), Some(serde_json::json!(true)));
}

#[test]
fn a_second_open_of_the_same_dir_reports_locked() {
    let dir = tempfile::tempdir().unwrap();
    let _first = SledStore::open(dir.path()).unwrap();
    let err = SledStore::open(dir.path()).unwrap_err();
    assert_eq!(err.code(), "STORE_LOCKED", "{err}");
}
