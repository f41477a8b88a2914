//! One suite of the store traits' contracts, run against every backend: sled (a temporary
//! store) and PostgreSQL (a schema of its own per test in the database named by
//! `SLUICE_TEST_DATABASE_URL`, which `scripts/postgres run` provides; without it the
//! PostgreSQL tests fail, saying so).

use serde_json::json;

use super::{StateNamespace, StateQuota, Store, StoreError};
use crate::connector::{Auth, ConnectorDef};

/// Makes one case per backend: `cases!(backend, make)` gives module `backend` with a
/// `#[test]` for every case, each on a fresh store from `make()`.
macro_rules! cases {
    ($backend:ident, $make:ident) => {
        cases!(@ $backend, $make, [
            runs_are_kept_and_replaced_by_id,
            runs_are_scanned_newest_first_from_a_cursor_until_the_visitor_stops,
            a_scan_crosses_pages,
            the_journal_lists_a_runs_records_in_write_order,
            sensitive_input_is_kept_until_removed,
            a_run_opens_with_its_record_input_and_journal,
            a_burst_of_run_writes_leaves_what_writing_them_in_order_leaves,
            workflows_and_their_versions,
            tokens_by_hash,
            the_audit_log_lists_the_latest_first,
            trigger_state_is_kept_by_key,
            run_put_once_records_one_run_per_fire,
            fire_keys_are_forgotten_when_due,
            plugin_records_and_blobs,
            trusted_keys_are_added_once_per_name_and_settings_are_kept,
            role_records,
            secrets_and_connectors,
            the_simulator_snapshot_keeps_its_log_in_order_until_the_next_snapshot,
            state_is_namespaced_per_workflow_and_owner,
            the_state_quota_counts_keys_and_bytes_across_workflows,
            durability_calls_succeed,
            concurrent_fires_start_one_run,
            concurrent_state_writes_keep_the_quota,
        ]);
    };
    (@ $backend:ident, $make:ident, [$($case:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[test]
                fn $case() {
                    let store = super::$make();
                    super::$case(&*store);
                }
            )*
        }
    };
}

cases!(sled, sled_store);
cases!(postgres, postgres_store);

fn sled_store() -> Box<dyn Store> {
    Box::new(super::SledStore::temporary().expect("a temporary sled store"))
}

/// A PostgreSQL store in a schema of its own, dropped with the store.
struct PgTest(super::PgStore);

impl std::ops::Deref for PgTest {
    type Target = super::PgStore;
    fn deref(&self) -> &super::PgStore {
        &self.0
    }
}

impl Drop for PgTest {
    fn drop(&mut self) {
        let _ = self.0.drop_schema();
    }
}

/// The environment variable naming the tests' database.
const TEST_DATABASE: &str = "SLUICE_TEST_DATABASE_URL";

fn postgres_store() -> PgTest {
    let url = std::env::var(TEST_DATABASE).unwrap_or_else(|_| {
        panic!(
            "{TEST_DATABASE} is not set: the PostgreSQL store's tests need a database. Run \
             them under a throwaway one: `scripts/postgres run cargo test --profile suite --locked \
             --workspace --lib store::` (scripts/test does this)"
        )
    });
    let schema = format!("test_{:016x}", fastrand::u64(..));
    PgTest(
        super::PgStore::open_in_schema(&url, &schema)
            .unwrap_or_else(|e| panic!("opening the test database at {TEST_DATABASE}: {e}")),
    )
}

fn run_ids(s: &dyn Store, after: Option<&str>, stop_after: usize) -> Vec<String> {
    let mut seen = Vec::new();
    s.run_scan(after, &mut |id, bytes| {
        let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(v["id"], id, "each record comes with its own id");
        seen.push(id.to_owned());
        Ok(seen.len() < stop_after)
    })
    .unwrap();
    seen
}

fn put_run(s: &dyn Store, id: &str) {
    s.run_put(id, json!({ "id": id }).to_string().as_bytes())
        .unwrap();
}

pub(super) fn runs_are_kept_and_replaced_by_id(s: &dyn Store) {
    assert_eq!(s.run_get("0001-a").unwrap(), None);
    s.run_put("0001-a", br#"{"status":"running"}"#).unwrap();
    s.run_put("0001-a", br#"{"status":"done"}"#).unwrap();
    assert_eq!(
        s.run_get("0001-a").unwrap(),
        Some(json!({"status": "done"}))
    );
    // A record that is not JSON is reported as corrupt, not as a missing run.
    s.run_put("0002-b", b"not json").unwrap();
    let err = s.run_get("0002-b").unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
}

pub(super) fn runs_are_scanned_newest_first_from_a_cursor_until_the_visitor_stops(s: &dyn Store) {
    assert!(run_ids(s, None, 10).is_empty());
    for id in ["0002-b", "0004-d", "0001-a", "0003-c"] {
        put_run(s, id);
    }
    assert_eq!(
        run_ids(s, None, 10),
        ["0004-d", "0003-c", "0002-b", "0001-a"]
    );
    assert_eq!(run_ids(s, Some("0003-c"), 10), ["0002-b", "0001-a"]);
    // The cursor need not be a stored run.
    assert_eq!(run_ids(s, Some("0003"), 10), ["0002-b", "0001-a"]);
    assert_eq!(run_ids(s, None, 2), ["0004-d", "0003-c"]);
    assert!(run_ids(s, Some("0001-a"), 10).is_empty());
    // A visitor's error ends the scan with that error.
    let err = s
        .run_scan(None, &mut |_, _| Err(StoreError::Backend("stop".into())))
        .unwrap_err();
    assert_eq!(err.to_string(), "store error: stop");
}

pub(super) fn a_scan_crosses_pages(s: &dyn Store) {
    // More runs than a backend reads at once: every one is visited once, in order.
    let ids: Vec<String> = (0..150).map(|i| format!("{i:06}-run")).collect();
    for id in &ids {
        put_run(s, id);
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(run_ids(s, None, usize::MAX), newest_first);
    assert_eq!(run_ids(s, Some(&ids[100]), usize::MAX), newest_first[50..]);
    assert_eq!(run_ids(s, None, 70), newest_first[..70]);
}

pub(super) fn the_journal_lists_a_runs_records_in_write_order(s: &dyn Store) {
    assert!(s.journal_list("r1").unwrap().is_empty());
    // Interleaved with another run's records, and with run ids that prefix each other.
    for (run, n) in [("r1", 3), ("r10", 1), ("r1", 1), ("r", 2), ("r1", 2)] {
        s.journal_put(run, json!({ "n": n }).to_string().as_bytes())
            .unwrap();
    }
    let ns = |run| {
        s.journal_list(run)
            .unwrap()
            .into_iter()
            .map(|v| v["n"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(ns("r1"), [3, 1, 2]);
    assert_eq!(ns("r10"), [1]);
    assert_eq!(ns("r"), [2]);
}

pub(super) fn sensitive_input_is_kept_until_removed(s: &dyn Store) {
    assert_eq!(s.sensitive_get("r").unwrap(), None);
    s.sensitive_put("r", &json!({"/password": "a"})).unwrap();
    s.sensitive_put("r", &json!({"/password": "b"})).unwrap();
    assert_eq!(
        s.sensitive_get("r").unwrap(),
        Some(json!({"/password": "b"}))
    );
    s.sensitive_remove("r").unwrap();
    s.sensitive_remove("r").unwrap();
    assert_eq!(s.sensitive_get("r").unwrap(), None);
}

pub(super) fn a_run_opens_with_its_record_input_and_journal(s: &dyn Store) {
    let opened = s.run_open("r").unwrap();
    assert_eq!(opened.record, None);
    assert_eq!(opened.input, None);
    assert!(opened.journal.is_empty());
    s.run_create("r", br#"{"id": "r", "v": 1}"#).unwrap();
    s.sensitive_put("r", &json!({"/password": "p"})).unwrap();
    s.run_put("r", br#"{"id": "r", "v": 2}"#).unwrap();
    for n in 0..3 {
        s.journal_put("r", json!({ "n": n }).to_string().as_bytes())
            .unwrap();
    }
    s.journal_put("other", b"{}").unwrap();
    let opened = s.run_open("r").unwrap();
    assert_eq!(opened.record, Some(json!({"id": "r", "v": 2})));
    assert_eq!(opened.input, Some(json!({"/password": "p"})));
    assert_eq!(
        opened.journal,
        [json!({"n": 0}), json!({"n": 1}), json!({"n": 2})]
    );
}

/// Written back to back, as many runs' steps are (a backend that writes behind takes
/// them many at a time): each run keeps its last record, its last input (or none after a
/// removal) and every journal record in order.
pub(super) fn a_burst_of_run_writes_leaves_what_writing_them_in_order_leaves(s: &dyn Store) {
    let runs = ["b1", "b2", "b3", "b4"];
    for n in 0..200u32 {
        let run = runs[n as usize % runs.len()];
        s.run_put(run, json!({ "n": n }).to_string().as_bytes())
            .unwrap();
        s.journal_put(run, json!({ "n": n }).to_string().as_bytes())
            .unwrap();
        // b1 and b2 end with their input removed, b3 and b4 with one kept.
        if n % 3 == 0 {
            s.sensitive_put(run, &json!({ "n": n })).unwrap();
        } else if n % 3 == 1 && run < "b3" {
            s.sensitive_remove(run).unwrap();
        }
    }
    for run in ["b1", "b2"] {
        s.sensitive_remove(run).unwrap();
    }
    for (i, run) in runs.iter().enumerate() {
        let opened = s.run_open(run).unwrap();
        let written: Vec<u32> = (0..200).filter(|n| *n as usize % 4 == i).collect();
        assert_eq!(opened.record, Some(json!({ "n": written.last() })), "{run}");
        let journal: Vec<_> = written.iter().map(|n| json!({ "n": n })).collect();
        assert_eq!(opened.journal, journal, "{run}");
        let kept = written.iter().rev().find(|n| *n % 3 == 0);
        let input = (*run >= "b3").then(|| json!({ "n": kept }));
        assert_eq!(opened.input, input, "{run}");
    }
}

pub(super) fn workflows_and_their_versions(s: &dyn Store) {
    assert_eq!(s.workflow_get("b").unwrap(), None);
    s.workflow_put("b", &json!({"name": "b", "v": 1})).unwrap();
    s.workflow_put("a", &json!({"name": "a"})).unwrap();
    s.workflow_put("b", &json!({"name": "b", "v": 2})).unwrap();
    assert_eq!(
        s.workflow_list().unwrap(),
        [json!({"name": "a"}), json!({"name": "b", "v": 2})],
        "by name"
    );
    // Versions list oldest first (numerically: 10 after 2).
    for v in [10, 2, 1] {
        s.version_put("b", v, &json!({ "version": v })).unwrap();
    }
    s.version_put("bb", 1, &json!({"other": true})).unwrap();
    s.version_put("b", 2, &json!({"version": 2, "again": true}))
        .unwrap();
    assert_eq!(
        s.version_list("b").unwrap(),
        [
            json!({"version": 1}),
            json!({"version": 2, "again": true}),
            json!({"version": 10})
        ]
    );
    assert_eq!(
        s.version_get("b", 10).unwrap(),
        Some(json!({"version": 10}))
    );
    assert_eq!(s.version_get("b", 3).unwrap(), None);
    // Removing a workflow removes its versions, not another's.
    assert!(s.workflow_remove("b").unwrap());
    assert!(!s.workflow_remove("b").unwrap());
    assert_eq!(s.workflow_get("b").unwrap(), None);
    assert!(s.version_list("b").unwrap().is_empty());
    assert_eq!(s.version_list("bb").unwrap(), [json!({"other": true})]);
    assert_eq!(s.workflow_list().unwrap(), [json!({"name": "a"})]);
}

pub(super) fn tokens_by_hash(s: &dyn Store) {
    s.token_put("h2", &json!({"name": "two"})).unwrap();
    s.token_put("h1", &json!({"name": "one"})).unwrap();
    assert_eq!(s.token_get("h1").unwrap(), Some(json!({"name": "one"})));
    assert_eq!(s.token_get("h3").unwrap(), None);
    assert_eq!(
        s.token_list().unwrap(),
        [
            ("h1".to_owned(), json!({"name": "one"})),
            ("h2".to_owned(), json!({"name": "two"}))
        ]
    );
    assert!(s.token_remove("h1").unwrap());
    assert!(!s.token_remove("h1").unwrap());
    assert_eq!(s.token_list().unwrap().len(), 1);
}

pub(super) fn the_audit_log_lists_the_latest_first(s: &dyn Store) {
    assert!(s.audit_list(10).unwrap().is_empty());
    for n in 0..5 {
        s.audit_append(&json!({ "n": n })).unwrap();
    }
    assert_eq!(
        s.audit_list(3).unwrap(),
        [json!({"n": 4}), json!({"n": 3}), json!({"n": 2})]
    );
    assert_eq!(s.audit_list(100).unwrap().len(), 5);
    assert!(s.audit_list(0).unwrap().is_empty());
}

pub(super) fn trigger_state_is_kept_by_key(s: &dyn Store) {
    assert_eq!(s.trigger_get("schedule/w").unwrap(), None);
    s.trigger_put("schedule/w", &json!({"next": 1})).unwrap();
    s.trigger_put("schedule/w", &json!({"next": 2})).unwrap();
    assert_eq!(
        s.trigger_get("schedule/w").unwrap(),
        Some(json!({"next": 2}))
    );
}

pub(super) fn run_put_once_records_one_run_per_fire(s: &dyn Store) {
    let first = json!({"id": "0001-a", "n": 1});
    assert_eq!(s.run_put_once("fire-1", "0001-a", &first).unwrap(), None);
    assert_eq!(s.run_get("0001-a").unwrap(), Some(first.clone()));
    // The same fire again: nothing written, the first run's id returned.
    let again = json!({"id": "0002-b"});
    assert_eq!(
        s.run_put_once("fire-1", "0002-b", &again)
            .unwrap()
            .as_deref(),
        Some("0001-a")
    );
    assert_eq!(s.run_get("0002-b").unwrap(), None);
    assert_eq!(s.run_get("0001-a").unwrap(), Some(first));
    // Another fire has its own run.
    assert_eq!(s.run_put_once("fire-2", "0002-b", &again).unwrap(), None);
    assert_eq!(run_ids(s, None, 10), ["0002-b", "0001-a"]);
}

pub(super) fn fire_keys_are_forgotten_when_due(s: &dyn Store) {
    let record = |id: &str| json!({ "id": id });
    for (fire, id) in [("m1", "0001-a"), ("m2", "0002-b"), ("m3", "0003-c")] {
        assert_eq!(s.run_put_once(fire, id, &record(id)).unwrap(), None);
    }
    s.fire_expires("m1", 100).unwrap();
    s.fire_expires("m2", 200).unwrap();
    // m3 is never marked: it is kept.
    assert_eq!(s.fires_forget(99).unwrap(), 0);
    assert_eq!(s.fires_forget(100).unwrap(), 1, "due at or before now");
    assert_eq!(s.fires_forget(100).unwrap(), 0, "forgotten once");
    // A forgotten fire may start a run again; the others still may not.
    assert_eq!(
        s.run_put_once("m1", "0004-d", &record("0004-d")).unwrap(),
        None
    );
    assert_eq!(
        s.run_put_once("m2", "0005-e", &record("0005-e"))
            .unwrap()
            .as_deref(),
        Some("0002-b")
    );
    assert_eq!(s.fires_forget(u64::MAX).unwrap(), 1);
    assert_eq!(
        s.run_put_once("m2", "0005-e", &record("0005-e")).unwrap(),
        None
    );
    assert_eq!(
        s.run_put_once("m3", "0006-f", &record("0006-f"))
            .unwrap()
            .as_deref(),
        Some("0003-c")
    );
    // Forgetting removes fire keys only: every run stays.
    assert_eq!(run_ids(s, None, 10).len(), 5);
}

pub(super) fn plugin_records_and_blobs(s: &dyn Store) {
    s.plugin_put("b@1.0.0", &json!({"name": "b"})).unwrap();
    s.plugin_put("a@1.0.0", &json!({"name": "a"})).unwrap();
    s.plugin_put("a@1.0.0", &json!({"name": "a", "again": true}))
        .unwrap();
    assert_eq!(
        s.plugin_list().unwrap(),
        [json!({"name": "a", "again": true}), json!({"name": "b"})]
    );
    assert_eq!(s.plugin_get("c@1.0.0").unwrap(), None);
    assert!(s.plugin_remove("b@1.0.0").unwrap());
    assert!(!s.plugin_remove("b@1.0.0").unwrap());
    assert_eq!(s.plugin_list().unwrap().len(), 1);

    let bytes: Vec<u8> = (0..=255).cycle().take(100_000).collect();
    assert!(!s.blob_exists("d1").unwrap());
    assert_eq!(s.blob_get("d1").unwrap(), None);
    s.blob_put("d2", b"\0asm").unwrap();
    s.blob_put("d1", &bytes).unwrap();
    assert!(s.blob_exists("d1").unwrap());
    assert_eq!(s.blob_get("d1").unwrap(), Some(bytes));
    assert_eq!(s.blob_list().unwrap(), ["d1", "d2"]);
    assert!(s.blob_remove("d1").unwrap());
    assert!(!s.blob_remove("d1").unwrap());
    assert!(!s.blob_exists("d1").unwrap());
    assert_eq!(s.blob_list().unwrap(), ["d2"]);
}

pub(super) fn trusted_keys_are_added_once_per_name_and_settings_are_kept(s: &dyn Store) {
    let a = json!({"name": "a", "n": 1});
    assert!(s.trusted_key_add("a", &a).unwrap());
    assert!(!s.trusted_key_add("a", &json!({"n": 2})).unwrap());
    assert!(s.trusted_key_add("b", &json!({"n": 3})).unwrap());
    assert_eq!(
        s.trusted_key_list().unwrap()[0],
        a,
        "the first record stays"
    );
    assert!(s.trusted_key_remove("b").unwrap());
    assert!(!s.trusted_key_remove("b").unwrap());
    assert_eq!(s.trusted_key_list().unwrap(), [a]);
    assert_eq!(s.setting_get("x").unwrap(), None);
    s.setting_put("x", &json!(true)).unwrap();
    s.setting_put("x", &json!({"policy": "signed"})).unwrap();
    assert_eq!(
        s.setting_get("x").unwrap(),
        Some(json!({"policy": "signed"}))
    );
}

pub(super) fn role_records(s: &dyn Store) {
    assert_eq!(s.role_record_get("ops").unwrap(), None);
    s.role_record_put("ops", b"{\"v\":1}").unwrap();
    s.role_record_put("admin", b"{\"v\":2}").unwrap();
    s.role_record_put("ops", b"{\"v\":3}").unwrap();
    assert_eq!(
        s.role_record_get("ops").unwrap(),
        Some(b"{\"v\":3}".to_vec())
    );
    assert_eq!(
        s.role_record_list().unwrap(),
        [b"{\"v\":2}".to_vec(), b"{\"v\":3}".to_vec()],
        "by name"
    );
    assert!(s.role_record_remove("ops").unwrap());
    assert!(!s.role_record_remove("ops").unwrap());
    assert_eq!(s.role_record_list().unwrap().len(), 1);
}

pub(super) fn secrets_and_connectors(s: &dyn Store) {
    // Sealed bytes of any value, zero bytes included.
    s.secret_put("b", &[0, 1, 2, 255]).unwrap();
    s.secret_put("a", b"sealed").unwrap();
    assert_eq!(s.secret_get("b").unwrap(), Some(vec![0, 1, 2, 255]));
    assert_eq!(s.secret_get("c").unwrap(), None);
    assert_eq!(s.secret_names().unwrap(), ["a", "b"]);
    assert!(s.secret_remove("a").unwrap());
    assert!(!s.secret_remove("a").unwrap());
    assert_eq!(s.secret_names().unwrap(), ["b"]);

    let def = connector;
    assert_eq!(s.connector_get("jira").unwrap(), None);
    s.connector_put(&def("jira")).unwrap();
    s.connector_put(&def("github")).unwrap();
    let mut changed = def("jira");
    changed.timeout_ms = 9_000;
    s.connector_put(&changed).unwrap();
    assert_eq!(s.connector_get("jira").unwrap(), Some(changed.clone()));
    assert_eq!(s.connector_list().unwrap(), [def("github"), changed]);
    assert!(s.connector_remove("github").unwrap());
    assert!(!s.connector_remove("github").unwrap());
    assert_eq!(s.connector_list().unwrap().len(), 1);
}

pub(super) fn the_simulator_snapshot_keeps_its_log_in_order_until_the_next_snapshot(s: &dyn Store) {
    use sluice_jcsim::SnapshotStore as Snapshots;
    assert_eq!(Snapshots::load(s).unwrap(), (None, vec![]));
    // Changes logged before any snapshot are kept too.
    Snapshots::append(s, b"0").unwrap();
    assert_eq!(Snapshots::load(s).unwrap(), (None, vec![b"0".to_vec()]));
    Snapshots::save(s, b"first").unwrap();
    for change in [b"a".as_slice(), b"b", b"c"] {
        Snapshots::append(s, change).unwrap();
    }
    assert_eq!(
        Snapshots::load(s).unwrap(),
        (
            Some(b"first".to_vec()),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        )
    );
    // A new snapshot holds the logged changes: the log starts over.
    Snapshots::save(s, b"second").unwrap();
    Snapshots::append(s, b"d").unwrap();
    assert_eq!(
        Snapshots::load(s).unwrap(),
        (Some(b"second".to_vec()), vec![b"d".to_vec()])
    );
}

fn ns(workflow: &str, owner: &str) -> StateNamespace {
    StateNamespace {
        workflow: workflow.into(),
        owner: owner.into(),
    }
}

pub(super) fn state_is_namespaced_per_workflow_and_owner(s: &dyn Store) {
    let (a, b, c) = (ns("w", "p"), ns("w", "q"), ns("w\0p", ""));
    s.state_set(&a, "k", "1", StateQuota::DEFAULT).unwrap();
    assert_eq!(s.state_get(&a, "k").unwrap().as_deref(), Some("1"));
    assert_eq!(s.state_get(&b, "k").unwrap(), None);
    assert_eq!(s.state_get(&c, "k").unwrap(), None);
    // Any string is a key or a value, a zero byte included.
    s.state_set(&b, "k\0", "v\0x", StateQuota::DEFAULT).unwrap();
    assert_eq!(s.state_get(&b, "k\0").unwrap().as_deref(), Some("v\0x"));
    assert_eq!(s.state_get(&b, "k").unwrap(), None);
    s.state_delete(&a, "k").unwrap();
    assert_eq!(s.state_get(&a, "k").unwrap(), None);
    assert_eq!(s.state_usage("p").unwrap(), (0, 0));
}

pub(super) fn the_state_quota_counts_keys_and_bytes_across_workflows(s: &dyn Store) {
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
    assert_eq!(err.code(), crate::code::Code::StateQuota, "{err}");
    assert_eq!(s.state_get(&w2, "d").unwrap(), None, "nothing written");
    assert_eq!(s.state_usage("o").unwrap(), (3, 19), "nor counted");
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
    let err = s.state_set(&w2, "e", "larger!", lower).unwrap_err();
    assert_eq!(err.code(), crate::code::Code::StateQuota);
    assert_eq!(s.state_get(&w2, "e").unwrap().as_deref(), Some("small"));
    // Multi-byte characters count in bytes.
    let owner = ns("w", "utf8");
    s.state_set(&owner, "é", "€", quota).unwrap();
    assert_eq!(s.state_usage("utf8").unwrap(), (1, 5));
}

pub(super) fn durability_calls_succeed(s: &dyn Store) {
    put_run(s, "0001-a");
    s.flush().unwrap();
    // As the engine calls them: inside a tokio runtime.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        put_run(s, "0002-b");
        s.commit_soon();
        s.commit().await.unwrap();
        assert_eq!(s.run_get("0002-b").unwrap(), Some(json!({"id": "0002-b"})));
    });
    assert_eq!(run_ids(s, None, 10), ["0002-b", "0001-a"]);
}

pub(super) fn concurrent_fires_start_one_run(s: &dyn Store) {
    // Eight writers race for each of five fires: each fire gets exactly one run, and
    // every loser is told the winner's id.
    let outcomes: Vec<(usize, usize, Option<String>)> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..8)
            .map(|w| {
                scope.spawn(move || {
                    (0..5)
                        .map(|f| {
                            let id = format!("{f:04}-{w}");
                            let got = s
                                .run_put_once(&format!("fire-{f}"), &id, &json!({ "id": id }))
                                .unwrap();
                            (f, w, got)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        writers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    for f in 0..5 {
        let winners: Vec<usize> = outcomes
            .iter()
            .filter(|(g, _, got)| *g == f && got.is_none())
            .map(|(_, w, _)| *w)
            .collect();
        assert_eq!(winners.len(), 1, "fire {f}: {outcomes:?}");
        let winner = format!("{f:04}-{}", winners[0]);
        for (_, _, got) in outcomes
            .iter()
            .filter(|(g, _, got)| *g == f && got.is_some())
        {
            assert_eq!(got.as_deref(), Some(winner.as_str()));
        }
    }
    assert_eq!(run_ids(s, None, 100).len(), 5, "one run per fire");
}

pub(super) fn concurrent_state_writes_keep_the_quota(s: &dyn Store) {
    let quota = StateQuota {
        max_keys: 5,
        max_bytes: 1_000,
    };
    // Twelve new keys at once, from four workflows of one owner: five fit.
    let accepted: usize = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..4)
            .map(|w| {
                scope.spawn(move || {
                    let space = ns(&format!("w{w}"), "o");
                    (0..3)
                        .filter(|k| s.state_set(&space, &format!("k{k}"), "v", quota).is_ok())
                        .count()
                })
            })
            .collect();
        writers.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(accepted, 5);
    assert_eq!(s.state_usage("o").unwrap(), (5, 15));
}

/// A connector definition named `name` (no credential).
pub(super) fn connector(name: &str) -> ConnectorDef {
    ConnectorDef {
        version: 1,
        name: name.into(),
        base_url: "https://example.com/api".into(),
        auth: Auth::None,
        headers: [("x-team".to_owned(), "ops".to_owned())].into(),
        allow_hosts: vec!["cdn.example.com".into()],
        allow_http: false,
        timeout_ms: 5_000,
        max_response_bytes: 1 << 20,
        created_at: "2026-01-01T00:00:00Z".into(),
    }
}
