//! Tests of the sled store.

use super::*;

#[test]
fn the_simulator_snapshot_keeps_its_log_in_order_until_the_next_snapshot() {
    use sluice_jcsim::SnapshotStore as Snapshots;
    let s = SledStore::temporary().unwrap();
    assert_eq!(Snapshots::load(&s).unwrap(), (None, vec![]));
    Snapshots::save(&s, b"first").unwrap();
    for change in [b"a".as_slice(), b"b", b"c"] {
        Snapshots::append(&s, change).unwrap();
    }
    assert_eq!(
        Snapshots::load(&s).unwrap(),
        (
            Some(b"first".to_vec()),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        )
    );
    // A new snapshot holds the logged changes: the log starts over.
    Snapshots::save(&s, b"second").unwrap();
    Snapshots::append(&s, b"d").unwrap();
    assert_eq!(
        Snapshots::load(&s).unwrap(),
        (Some(b"second".to_vec()), vec![b"d".to_vec()])
    );
}

fn ns(workflow: &str, owner: &str) -> StateNamespace {
    StateNamespace {
        workflow: workflow.into(),
        owner: owner.into(),
    }
}

#[test]
fn state_is_namespaced_per_workflow_and_owner() {
    let s = SledStore::temporary().unwrap();
    let (a, b, c) = (ns("w", "p"), ns("w", "q"), ns("w\0p", ""));
    s.state_set(&a, "k", "1", StateQuota::DEFAULT).unwrap();
    assert_eq!(s.state_get(&a, "k").unwrap().as_deref(), Some("1"));
    assert_eq!(s.state_get(&b, "k").unwrap(), None);
    assert_eq!(s.state_get(&c, "k").unwrap(), None);
    s.state_delete(&a, "k").unwrap();
    assert_eq!(s.state_get(&a, "k").unwrap(), None);
}

#[test]
fn the_state_quota_counts_keys_and_bytes_across_workflows() {
    let s = SledStore::temporary().unwrap();
    let quota = StateQuota {
        max_keys: 3,
        max_bytes: 100,
    };
    let (w1, w2) = (ns("w1", "o"), ns("w2", "o"));
    s.state_set(&w1, "a", "0123456789", quota).unwrap();
    s.state_set(&w2, "b", "0123456789", quota).unwrap();
    assert_eq!(s.state_usage("o").unwrap(), (2, 22));
    // Replacing a value counts the difference only.
    s.state_set(&w1, "a", "01234", quota).unwrap();
    assert_eq!(s.state_usage("o").unwrap(), (2, 17));
    s.state_set(&w1, "c", "x", quota).unwrap();
    let err = s.state_set(&w2, "d", "x", quota).unwrap_err();
    assert_eq!(err.code(), "STATE_QUOTA", "{err}");
    assert_eq!(s.state_get(&w2, "d").unwrap(), None, "nothing written");
    // Existing keys may still change; deleting frees room.
    s.state_set(&w2, "b", "y", quota).unwrap();
    s.state_delete(&w1, "c").unwrap();
    s.state_delete(&w1, "c").unwrap();
    assert_eq!(s.state_usage("o").unwrap(), (2, 8));
    let big = "z".repeat(93);
    let err = s.state_set(&w2, "e", &big, quota).unwrap_err();
    assert!(matches!(err, StoreError::Quota { bytes: 102, .. }), "{err}");
    s.state_set(&w2, "e", &big[..91], quota).unwrap();
    assert_eq!(s.state_usage("o").unwrap(), (3, 100));
    // Another owner has its own count.
    assert_eq!(s.state_usage("other").unwrap(), (0, 0));
    // Over a lowered quota, a value can still shrink but not grow.
    let lower = StateQuota {
        max_keys: 1,
        max_bytes: 10,
    };
    s.state_set(&w2, "e", "small", lower).unwrap();
    assert_eq!(
        s.state_set(&w2, "e", "larger!", lower).unwrap_err().code(),
        "STATE_QUOTA"
    );
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
fn runs_are_scanned_newest_first_from_a_cursor_until_the_visitor_stops() {
    let s = SledStore::temporary().unwrap();
    for id in ["0001-a", "0002-b", "0003-c", "0004-d"] {
        s.run_put(id, serde_json::json!({ "id": id }).to_string().as_bytes())
            .unwrap();
    }
    let scan = |after: Option<&str>, stop_after: usize| {
        let mut seen = Vec::new();
        s.run_scan(after, &mut |id, bytes| {
            let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            assert_eq!(v["id"], id);
            seen.push(id.to_owned());
            Ok(seen.len() < stop_after)
        })
        .unwrap();
        seen
    };
    assert_eq!(scan(None, 10), ["0004-d", "0003-c", "0002-b", "0001-a"]);
    assert_eq!(scan(Some("0003-c"), 10), ["0002-b", "0001-a"]);
    assert_eq!(scan(None, 2), ["0004-d", "0003-c"]);
    assert!(scan(Some("0001-a"), 10).is_empty());
}

#[test]
fn trusted_keys_are_added_once_per_name_and_settings_persist() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SledStore::open(dir.path()).unwrap();
        let a = serde_json::json!({"name": "a", "n": 1});
        assert!(s.trusted_key_add("a", &a).unwrap());
        assert!(
            !s.trusted_key_add("a", &serde_json::json!({"n": 2}))
                .unwrap()
        );
        assert!(
            s.trusted_key_add("b", &serde_json::json!({"n": 3}))
                .unwrap()
        );
        assert_eq!(
            s.trusted_key_list().unwrap()[0],
            a,
            "the first record stays"
        );
        assert!(s.trusted_key_remove("b").unwrap());
        assert!(!s.trusted_key_remove("b").unwrap());
        assert_eq!(s.setting_get("x").unwrap(), None);
        s.setting_put("x", &serde_json::json!(true)).unwrap();
    }
    let s = SledStore::open(dir.path()).unwrap();
    assert_eq!(s.trusted_key_list().unwrap().len(), 1);
    assert_eq!(s.setting_get("x").unwrap(), Some(serde_json::json!(true)));
}

#[test]
fn a_second_open_of_the_same_dir_reports_locked() {
    let dir = tempfile::tempdir().unwrap();
    let _first = SledStore::open(dir.path()).unwrap();
    let err = SledStore::open(dir.path()).unwrap_err();
    assert_eq!(err.code(), "STORE_LOCKED", "{err}");
}
