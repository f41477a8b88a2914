//! `sluice store copy --to URL`, through the binary: a data dir's store copied into
//! PostgreSQL (a schema of its own per test in the database `SLUICE_TEST_DATABASE_URL`
//! names; `scripts/postgres run` provides one, and without it these tests fail, saying so),
//! and then used with `--database`.

mod common;

use common::{Sluice, stderr};
use serde_json::Value;

/// The test database's URL with a fresh schema of its own (made when first opened).
fn fresh_database() -> String {
    let url = std::env::var("SLUICE_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "SLUICE_TEST_DATABASE_URL is not set: `sluice store copy` needs a PostgreSQL \
             database to copy into. Run the tests under a throwaway one: `scripts/postgres run \
             cargo test --profile suite --locked --workspace --test store_copy` (scripts/test does this)"
        )
    });
    let schema = format!("copy_{:016x}", fastrand::u64(..));
    let join = if url.contains('?') { '&' } else { '?' };
    format!("{url}{join}options=-csearch_path%3D{schema}")
}

fn count(report: &Value, table: &str) -> (u64, u64) {
    let row = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == table)
        .unwrap_or_else(|| panic!("no {table} in {report}"));
    (
        row["data_dir"].as_u64().unwrap(),
        row["database"].as_u64().unwrap(),
    )
}

#[test]
fn a_data_dir_copied_into_postgres_is_what_the_database_serves() {
    let s = Sluice::new();
    let token = s.json(&["token", "create", "--name", "ci", "--json"]);
    s.json(&["trust", "require-signatures", "on", "--json"]);
    let out = s.run(&[
        "role",
        "add",
        "--name",
        "auditor",
        "--scope",
        "users.readonly",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let db = fresh_database();

    let report = s.json(&["store", "copy", "--to", &db, "--json"]);
    assert_eq!(report["matches"], true, "{report}");
    assert_eq!(count(&report, "tokens"), (1, 1));
    assert_eq!(count(&report, "settings"), (1, 1));
    assert_eq!(count(&report, "roles"), (1, 1));
    assert!(count(&report, "audit").1 >= 1, "{report}");
    let total: u64 = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["database"].as_u64().unwrap())
        .sum();
    assert_eq!(report["records"].as_u64(), Some(total));

    // The same records, read through the database.
    let tokens = s.json(&["--database", &db, "token", "list", "--json"]);
    let names: Vec<&str> = tokens
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ci"]);
    assert_eq!(tokens[0]["hint"], token["hint"]);
    let policy = s.json(&["--database", &db, "trust", "require-signatures", "--json"]);
    assert_eq!(policy["require_signatures"], true);
    let roles = s.json(&["--database", &db, "role", "list", "--json"]);
    assert!(roles.to_string().contains("auditor"), "{roles}");

    // A second copy into it is refused: it is not empty. Nothing changes.
    s.json(&["token", "create", "--name", "later", "--json"]);
    let out = s.run(&["store", "copy", "--to", &db]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
    assert!(stderr(&out).contains("tokens (1)"), "{}", stderr(&out));
    let tokens = s.json(&["--database", &db, "token", "list", "--json"]);
    assert_eq!(tokens.as_array().unwrap().len(), 1);

    // The text output: a table of counts.
    let other = Sluice::new();
    other.json(&["token", "create", "--name", "x", "--json"]);
    let out = other.run(&["store", "copy", "--to", &fresh_database()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("tokens") && table.contains("simulator_log"),
        "{table}"
    );
    assert!(!table.contains("differs"), "{table}");
    assert!(
        stderr(&out).contains("every table holds as many"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_copy_that_cannot_start_says_why_and_exits_2() {
    // Nothing listens on port 1; none of these gets as far as the database.
    let nowhere = "postgres://sluice@127.0.0.1:1/none";
    let s = Sluice::new();
    // No store in the data dir yet.
    let out = s.run(&["store", "copy", "--to", nowhere]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("nothing to copy"), "{}", stderr(&out));

    s.json(&["token", "create", "--name", "ci", "--json"]);
    let out = s.run(&["store", "copy", "--to", nowhere]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot reach PostgreSQL"),
        "{}",
        stderr(&out)
    );

    // The data dir held by another process (as by a running `sluice serve`).
    let held = sled::open(s.data.path().join("store")).unwrap();
    let out = s.run(&["store", "copy", "--to", nowhere]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("in use"), "{}", stderr(&out));
    drop(held);
}
