//! The simulator's state over requests: persistence and replay, and the indexes.

use super::*;
use crate::seed;

/// The snapshot and the change log in memory, kept as the runtime's data dir keeps them
/// (one snapshot; log entries in the order appended; a save drops the log).
#[derive(Default)]
struct MemoryStore(Mutex<Persistent>);

impl SnapshotStore for MemoryStore {
    fn load(&self) -> Result<Persistent, String> {
        Ok(self.0.lock().unwrap().clone())
    }

    fn save(&self, snapshot: &[u8]) -> Result<(), String> {
        *self.0.lock().unwrap() = (Some(snapshot.to_vec()), Vec::new());
        Ok(())
    }

    fn append(&self, change: &[u8]) -> Result<(), String> {
        self.0.lock().unwrap().1.push(change.to_vec());
        Ok(())
    }
}

/// Where two JSON values first differ (a path), if they do.
fn first_difference(a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (u, v) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if let Some(p) = first_difference(u, v) {
                    return Some(format!(".{k}{p}"));
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_difference(u, v).map(|p| format!("[{i}]{p}"))),
        _ => (a != b).then(|| format!(": {a} vs {b}")),
    }
}

fn req(method: &str, path: &str, body: Option<Value>) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        query: Vec::new(),
        body,
    }
}

#[test]
fn changes_are_logged_and_a_reopened_simulator_replays_them_exactly() {
    let store = Arc::new(MemoryStore::default());
    let open = || {
        Simulator::new(
            seed::default_directory(),
            "key",
            Faults::default(),
            Some(store.clone() as Arc<dyn SnapshotStore>),
        )
        .unwrap()
    };
    let first = open();
    let created = first
        .dispatch(&req(
            "POST",
            "/api/systemusers",
            Some(json!({"username": "ada", "email": "ada@example.com"})),
        ))
        .unwrap();
    let user = created.body.unwrap()["_id"].as_str().unwrap().to_owned();
    let group = first.with_directory(|d| d.user_groups.keys().next().unwrap().clone());
    first
        .dispatch(&req(
            "POST",
            &format!("/api/v2/usergroups/{group}/members"),
            Some(json!({"op": "add", "type": "user", "id": user})),
        ))
        .unwrap();
    first
        .dispatch(&req(
            "POST",
            "/sandbox/mail/send",
            Some(json!({"to": ["ada@example.com"], "subject": "hi"})),
        ))
        .unwrap();
    first
        .dispatch(&req(
            "POST",
            &format!("/sandbox/users/{user}/lockout"),
            None,
        ))
        .unwrap();
    // A refused change and a read log nothing.
    assert!(
        first
            .dispatch(&req(
                "POST",
                "/api/systemusers",
                Some(json!({"username": "ada", "email": "ada@example.com"})),
            ))
            .is_err()
    );
    first.dispatch(&req("GET", "/sandbox/mail", None)).unwrap();
    // A search is a read; deleting an SSH key draws no id and raises no event, but it
    // is a change; a password never reaches the log.
    first
        .dispatch(&req(
            "POST",
            "/api/search/systemusers",
            Some(json!({"filter": [{"username": "ada"}]})),
        ))
        .unwrap();
    let with_password = first
        .dispatch(&req(
            "POST",
            "/api/systemusers",
            Some(json!({"username": "bob", "email": "bob@example.com", "password": "S3cret!Pass"})),
        ))
        .unwrap();
    let bob = with_password.body.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = first
        .dispatch(&req(
            "POST",
            &format!("/api/systemusers/{bob}/sshkeys"),
            Some(json!({"name": "laptop", "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0ZXN0a2V5Zm9ydGhlc2FuZGJveA== bob@laptop"})),
        ))
        .unwrap();
    let key_id = key.body.unwrap()["_id"].as_str().unwrap().to_owned();
    first
        .dispatch(&req(
            "DELETE",
            &format!("/api/systemusers/{bob}/sshkeys/{key_id}"),
            None,
        ))
        .unwrap();
    let (snapshot, changes) = store.load().unwrap();
    assert!(
        snapshot.is_some(),
        "the first change writes a snapshot for the log to apply to"
    );
    assert_eq!(
        changes.len(),
        6,
        "one entry per later change, none per read"
    );
    assert!(
        !changes
            .iter()
            .any(|c| String::from_utf8_lossy(c).contains("S3cret")),
        "the password is not in the log"
    );

    let expected = first.with_directory(|d| serde_json::to_value(&*d).unwrap());
    assert!(
        expected["users"][&bob]["ssh_keys"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let second = open();
    let replayed = second.with_directory(|d| serde_json::to_value(&*d).unwrap());
    assert_eq!(
        first_difference(&replayed, &expected),
        None,
        "timestamps and ids included"
    );
    let (snapshot, changes) = store.load().unwrap();
    assert!(
        snapshot.is_some() && changes.is_empty(),
        "the log was folded"
    );
    let third = open();
    assert_eq!(
        third.with_directory(|d| serde_json::to_value(&*d).unwrap()),
        expected
    );

    // Once the log outweighs the snapshot, the next change folds it into a new one.
    let mut fourth = open();
    fourth.min_log_bytes = 0;
    let snapshot_len = store.load().unwrap().0.unwrap().len();
    let mut logged = 0;
    while store.load().unwrap().1.len() == logged {
        fourth
            .dispatch(&req(
                "POST",
                "/sandbox/mail/send",
                Some(json!({"to": ["x@example.com"], "body": "y".repeat(1000)})),
            ))
            .unwrap();
        logged += 1;
        assert!(logged < 10_000, "the log was never folded");
    }
    let (snapshot, changes) = store.load().unwrap();
    assert!(changes.is_empty() && snapshot.unwrap().len() > snapshot_len);
    // Each entry is 1,000 – 1,200 bytes: folded once, and only once, the log outweighed
    // the snapshot.
    assert!(
        (logged - 1) * 1200 > snapshot_len && (logged - 2) * 1000 <= snapshot_len,
        "folded after {logged} changes; snapshot {snapshot_len} bytes"
    );
    let expected = fourth.with_directory(|d| serde_json::to_value(&*d).unwrap());
    assert_eq!(
        open().with_directory(|d| serde_json::to_value(&*d).unwrap()),
        expected
    );

    // A reset replaces the directory: a snapshot, no log.
    third
        .dispatch(&req("POST", "/sandbox/reset", None))
        .unwrap();
    let (_, changes) = store.load().unwrap();
    assert!(changes.is_empty());
    assert!(open().with_directory(|d| !d.users.contains_key(&user)));
}

#[test]
fn the_user_and_graph_indexes_follow_every_change() {
    let simulator =
        Simulator::new(seed::default_directory(), "key", Faults::default(), None).unwrap();
    let call = |method: &str, path: &str, body: Option<Value>| {
        simulator.dispatch(&req(method, path, body))
    };
    let query = |path: &str, filter: &str| {
        let mut r = req("GET", path, None);
        r.query = vec![("filter".into(), filter.into())];
        simulator.dispatch(&r).unwrap().body.unwrap()
    };
    let create = |name: &str| {
        call(
            "POST",
            "/api/systemusers",
            Some(json!({"username": name, "email": format!("{name}@example.com")})),
        )
    };
    let id = create("ada").unwrap().body.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Uniqueness is case-insensitive; an `$eq` listing is exact.
    assert!(create("ADA").is_err());
    assert_eq!(
        query("/api/systemusers", "username:$eq:ada")["totalCount"],
        1
    );
    assert_eq!(
        query("/api/systemusers", "username:$eq:ADA")["totalCount"],
        0
    );
    // A rename frees the old name and takes the new one.
    call(
        "PUT",
        &format!("/api/systemusers/{id}"),
        Some(json!({"username": "ada2", "email": "ada2@example.com"})),
    )
    .unwrap();
    assert_eq!(
        query("/api/systemusers", "username:$eq:ada")["totalCount"],
        0
    );
    assert_eq!(
        query("/api/systemusers", "username:$eq:ada2")["totalCount"],
        1
    );
    assert!(create("Ada2").is_err());
    // A number is compared numerically by filters: such users are always candidates.
    let numbered = call(
        "POST",
        "/api/systemusers",
        Some(json!({"username": "num", "email": "num@example.com", "employeeIdentifier": 1001})),
    )
    .unwrap()
    .body
    .unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        query("/api/systemusers", "employeeIdentifier:$eq:1001")["totalCount"],
        1
    );
    let mut skipped = req("GET", &format!("/api/systemusers/{numbered}"), None);
    skipped.query = vec![("skip".into(), "1".into())];
    assert_eq!(simulator.dispatch(&skipped).unwrap_err().status, 404);
    let other = create("ada").unwrap().body.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Memberships: added, listed, removed; a deleted user leaves no edge behind.
    let group = simulator.with_directory(|d| d.user_groups.keys().next().unwrap().clone());
    let members = || {
        let r = call("GET", &format!("/api/v2/usergroups/{group}/members"), None);
        r.unwrap().body.unwrap().as_array().unwrap().len()
    };
    let membership = |op: &str, user: &str| {
        call(
            "POST",
            &format!("/api/v2/usergroups/{group}/members"),
            Some(json!({"op": op, "type": "user", "id": user})),
        )
    };
    let before = members();
    for u in [&id, &other] {
        membership("add", u).unwrap();
    }
    assert_eq!(members(), before + 2);
    // Walks follow the typed index: the user reaches the group's systems through it,
    // and the group's users include the new member.
    let walk = |path: String| -> Vec<String> {
        let body = call("GET", &path, None).unwrap().body.unwrap();
        let mut ids: Vec<String> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let group_systems = walk(format!("/api/v2/usergroups/{group}/systems"));
    assert!(
        !group_systems.is_empty(),
        "the seed's first group has systems"
    );
    let user_systems = walk(format!("/api/v2/users/{id}/systems"));
    assert!(
        group_systems.iter().all(|s| user_systems.contains(s)),
        "{user_systems:?} lacks some of {group_systems:?}"
    );
    assert!(walk(format!("/api/v2/usergroups/{group}/users")).contains(&id));
    assert_eq!(membership("add", &id).unwrap_err().status, 409);
    membership("remove", &id).unwrap();
    assert_eq!(members(), before + 1);
    call("DELETE", &format!("/api/systemusers/{other}"), None).unwrap();
    assert_eq!(members(), before);
    assert!(create("ada").is_ok(), "a deleted user's name is free again");
    let memberships = call("GET", &format!("/api/v2/users/{id}/memberof"), None)
        .unwrap()
        .body
        .unwrap();
    assert_eq!(memberships.as_array().unwrap().len(), 0, "{memberships}");
}
