//! Copying a sled store into PostgreSQL (a schema of its own per test in the database
//! `SLUICE_TEST_DATABASE_URL` names, which `scripts/postgres run` provides; without it these
//! tests fail, saying so).

use serde_json::json;

use super::*;
use crate::store::conformance::connector;
use crate::store::{
    PgStore, RunStore as _, ServiceStore as _, SledStore, StateNamespace, StateQuota, Store,
};

const DIGEST: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A PostgreSQL store in a fresh schema, dropped at the end.
struct Pg(PgStore);

impl Pg {
    fn new() -> Pg {
        let url = std::env::var("SLUICE_TEST_DATABASE_URL").unwrap_or_else(|_| {
            panic!(
                "SLUICE_TEST_DATABASE_URL is not set: copying into PostgreSQL needs a database. \
                 Run the tests under a throwaway one: `scripts/postgres run cargo test \
                 --profile suite --locked --workspace --lib store::copy` (scripts/test does this)"
            )
        });
        let schema = format!("test_{:016x}", fastrand::u64(..));
        Pg(PgStore::open_in_schema(&url, &schema)
            .unwrap_or_else(|e| panic!("opening the test database: {e}")))
    }
}

impl std::ops::Deref for Pg {
    type Target = PgStore;
    fn deref(&self) -> &PgStore {
        &self.0
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = self.0.drop_schema();
    }
}

fn ns(workflow: &str, owner: &str) -> StateNamespace {
    StateNamespace {
        workflow: workflow.into(),
        owner: owner.into(),
    }
}

/// At least one record in every table, through the traits, with the journal of two runs
/// interleaved, several audit entries and simulator changes (order matters there).
fn fill(s: &dyn Store) {
    s.run_put("0001-a", br#"{"id":"0001-a","status":"done"}"#)
        .unwrap();
    s.run_put("0002-b", br#"{"id":"0002-b","status":"running"}"#)
        .unwrap();
    for (run, step) in [("0001-a", 1), ("0002-b", 1), ("0001-a", 2), ("0002-b", 2)] {
        s.journal_put(run, json!({ "step": step }).to_string().as_bytes())
            .unwrap();
    }
    s.sensitive_put("0002-b", &json!({"/password": "hunter2"}))
        .unwrap();
    s.workflow_put("onboard", &json!({"name": "onboard", "version": 2}))
        .unwrap();
    s.version_put("onboard", 1, &json!({"v": 1})).unwrap();
    s.version_put("onboard", 2, &json!({"v": 2})).unwrap();
    s.token_put("hash-1", &json!({"name": "ci"})).unwrap();
    for n in 0..3 {
        s.audit_append(&json!({ "n": n })).unwrap();
    }
    s.trigger_put("schedule:onboard", &json!({"last": 100}))
        .unwrap();
    assert_eq!(
        s.run_put_once("fire:onboard:100", "0003-c", &json!({"id": "0003-c"}))
            .unwrap(),
        None
    );
    s.fire_expires("fire:onboard:100", 1_000).unwrap();
    s.plugin_put("greet@1.0.0", &json!({"name": "greet"}))
        .unwrap();
    s.blob_put(DIGEST, &[0, 97, 115, 109, 255]).unwrap();
    assert!(
        s.trusted_key_add("release", &json!({"name": "release"}))
            .unwrap()
    );
    s.setting_put("require_signatures", &json!(true)).unwrap();
    s.secret_put("jumpcloud", &[0, 1, 2, 255]).unwrap();
    s.connector_put(&connector("jira")).unwrap();
    s.role_record_put("auditor", br#"{"name":"auditor"}"#)
        .unwrap();
    let quota = StateQuota::DEFAULT;
    s.state_set(&ns("onboard", "greet"), "k", "v1", quota)
        .unwrap();
    s.state_set(&ns("offboard", "greet"), "k\0two", "value", quota)
        .unwrap();
    s.save(b"snapshot").unwrap();
    s.append(b"change 1").unwrap();
    s.append(b"change 2").unwrap();
}

fn export_all(s: &dyn Export) -> Vec<Record> {
    let mut records = Vec::new();
    s.export(&mut |r| {
        records.push(r);
        Ok(())
    })
    .unwrap();
    records
}

/// What the two stores answer through the traits, read the same way from each.
fn read_back(s: &dyn Store) -> serde_json::Value {
    let journal = |run: &str| s.journal_list(run).unwrap();
    let runs = ["0001-a", "0002-b", "0003-c"].map(|id| s.run_get(id).unwrap());
    json!({
        "runs": runs,
        "journal": [journal("0001-a"), journal("0002-b")],
        "inputs": s.sensitive_get("0002-b").unwrap(),
        "workflows": s.workflow_list().unwrap(),
        "versions": s.version_list("onboard").unwrap(),
        "tokens": s.token_list().unwrap(),
        "audit": s.audit_list(100).unwrap(),
        "trigger": s.trigger_get("schedule:onboard").unwrap(),
        "plugins": s.plugin_list().unwrap(),
        "blobs": s.blob_list().unwrap(),
        "blob": s.blob_get(DIGEST).unwrap(),
        "trusted": s.trusted_key_list().unwrap(),
        "setting": s.setting_get("require_signatures").unwrap(),
        "secrets": s.secret_names().unwrap(),
        "secret": s.secret_get("jumpcloud").unwrap(),
        "connectors": s.connector_list().unwrap(),
        "roles": s.role_record_list().unwrap(),
        "state": [
            s.state_get(&ns("onboard", "greet"), "k").unwrap(),
            s.state_get(&ns("offboard", "greet"), "k\0two").unwrap(),
        ],
        "usage": s.state_usage("greet").unwrap(),
        "simulator": s.load().unwrap(),
    })
}

#[test]
fn every_table_of_a_sled_store_is_copied_into_postgres_as_it_was() {
    let sled = SledStore::temporary().unwrap();
    fill(&sled);
    let pg = Pg::new();
    let report = copy(&sled, &*pg).unwrap();
    for table in Table::ALL {
        assert!(
            report.source.get(table) > 0,
            "the fixture leaves {} empty: fill every table",
            table.name()
        );
    }
    assert!(report.matches(), "{report:?}");
    assert_eq!(report.destination.get(Table::Journal), 4);
    assert_eq!(report.destination.get(Table::Runs), 3);

    // Every record, byte for byte and in order, and the same answers through the traits.
    assert_eq!(export_all(&*pg), export_all(&sled));
    assert_eq!(read_back(&*pg), read_back(&sled));
    assert_eq!(
        pg.journal_list("0001-a").unwrap(),
        [json!({"step": 1}), json!({"step": 2})]
    );

    // The copy goes on as the original would: a fire is still taken, and forgotten when
    // due; the logs continue after the copied entries.
    for s in [&*pg as &dyn Store, &sled] {
        assert_eq!(
            s.run_put_once("fire:onboard:100", "0004-d", &json!({}))
                .unwrap()
                .as_deref(),
            Some("0003-c")
        );
        assert_eq!(s.fires_forget(1_000).unwrap(), 1);
        s.journal_put("0001-a", br#"{"step":3}"#).unwrap();
        s.audit_append(&json!({"n": 3})).unwrap();
        s.append(b"change 3").unwrap();
        assert_eq!(s.state_usage("greet").unwrap(), (2, (1 + 2 + 5 + 5) as u64));
    }
    assert_eq!(read_back(&*pg), read_back(&sled));
    assert_eq!(pg.audit_list(1).unwrap(), [json!({"n": 3})]);
    assert_eq!(pg.journal_list("0001-a").unwrap()[2], json!({"step": 3}));
}

#[test]
fn a_destination_that_is_not_empty_is_refused_and_left_as_it_was() {
    let sled = SledStore::temporary().unwrap();
    fill(&sled);
    let pg = Pg::new();
    pg.token_put("hash-2", &json!({"name": "other"})).unwrap();
    pg.audit_append(&json!({"kept": true})).unwrap();
    let before = export_all(&*pg);
    let err = copy(&sled, &*pg).unwrap_err();
    assert!(
        matches!(&err, CopyError::NotEmpty(held) if held == "tokens (1), audit (1)"),
        "{err}"
    );
    assert_eq!(err.code(), crate::code::Code::StoreNotEmpty);
    assert!(err.to_string().contains("nothing was copied"), "{err}");
    assert_eq!(export_all(&*pg), before);

    // A store copied into once is not empty either.
    let pg = Pg::new();
    copy(&sled, &*pg).unwrap();
    let copied = export_all(&*pg);
    assert!(matches!(copy(&sled, &*pg), Err(CopyError::NotEmpty(_))));
    assert_eq!(export_all(&*pg), copied);
}

/// A source that fails half-way: `good` records, then an error.
struct Failing {
    good: Vec<Record>,
}

impl Export for Failing {
    fn counts(&self) -> Result<Counts, StoreError> {
        let mut counts = Counts::default();
        for r in &self.good {
            counts.add(r.table(), 1);
        }
        Ok(counts)
    }

    fn export(&self, sink: &mut Sink<'_>) -> Result<(), StoreError> {
        for r in &self.good {
            sink(r.clone())?;
        }
        Err(StoreError::Corrupt {
            key: "runs/0009-z".into(),
            reason: "test".into(),
        })
    }
}

#[test]
fn a_copy_that_fails_half_way_leaves_the_destination_empty() {
    let sled = SledStore::temporary().unwrap();
    fill(&sled);
    // More records than one chunk, so some were written before the failure.
    for i in 0..1_500 {
        sled.journal_put("0001-a", format!("{{\"n\":{i}}}").as_bytes())
            .unwrap();
    }
    let source = Failing {
        good: export_all(&sled),
    };
    let pg = Pg::new();
    let err = copy(&source, &*pg).unwrap_err();
    assert!(
        matches!(&err, CopyError::Store(StoreError::Corrupt { key, .. }) if key == "runs/0009-z"),
        "{err}"
    );
    assert_eq!(pg.counts().unwrap(), Counts::default());
    // A write the database refuses (a run twice) rolls back the same way.
    let mut twice = export_all(&sled);
    twice.push(Record::Run {
        id: "0001-a".into(),
        record: b"{}".to_vec(),
    });
    let err = pg
        .import(&mut |sink| {
            for r in twice.clone() {
                sink(r)?;
            }
            Ok(())
        })
        .unwrap_err();
    assert!(err.to_string().contains("duplicate key"), "{err}");
    assert_eq!(pg.counts().unwrap(), Counts::default());
    // And then the copy itself goes through.
    assert!(copy(&sled, &*pg).unwrap().matches());
}

#[test]
fn a_data_dir_in_use_or_without_a_store_is_refused_before_anything_is_copied() {
    let url = "postgres://sluice@127.0.0.1:1/none";
    let data = tempfile::tempdir().unwrap();
    let err = copy_data_dir(data.path(), url).unwrap_err();
    assert!(matches!(&err, CopyError::NoSource(_)), "{err}");
    let held = SledStore::open(&data.path().join("store")).unwrap();
    let err = copy_data_dir(data.path(), url).unwrap_err();
    assert!(
        matches!(&err, CopyError::Source(StoreError::Locked(_))),
        "{err}"
    );
    drop(held);
    // Free now: the destination is the problem (nothing listens on port 1).
    let err = copy_data_dir(data.path(), url).unwrap_err();
    assert!(
        matches!(&err, CopyError::Destination(_)) && err.to_string().contains("PostgreSQL"),
        "{err}"
    );
}
