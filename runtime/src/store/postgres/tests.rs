//! What only the PostgreSQL store has: migrations, several processes on one database, its
//! errors, and being called from async code. The traits' contracts are in
//! `store::conformance`, run against every backend.

use serde_json::json;

use super::{MIGRATIONS, PgStore};
use crate::store::{
    RunStore, ServiceStore, StateNamespace, StateQuota, StateStore, Store, StoreError,
};

fn url() -> String {
    std::env::var("SLUICE_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "SLUICE_TEST_DATABASE_URL is not set: the PostgreSQL store's tests need a \
             database. Run them under a throwaway one: `scripts/postgres run cargo test \
             --profile suite --locked --workspace --lib store::` (scripts/test does this)"
        )
    })
}

/// A fresh schema's name; [`Schema`] drops it at the end.
pub(super) struct Schema(pub(super) String);

impl Schema {
    pub(super) fn new() -> Self {
        Schema(format!("test_{:016x}", fastrand::u64(..)))
    }

    pub(super) fn open(&self) -> Result<PgStore, StoreError> {
        PgStore::open_in_schema(&url(), &self.0)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(s) = self.open() {
            let _ = s.drop_schema();
        }
    }
}

#[test]
fn stores_opened_at_once_migrate_once() {
    let schema = Schema::new();
    let opened: Vec<Result<PgStore, StoreError>> = std::thread::scope(|scope| {
        let openers: Vec<_> = (0..4).map(|_| scope.spawn(|| schema.open())).collect();
        openers.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let stores: Vec<PgStore> = opened.into_iter().map(Result::unwrap).collect();
    let latest = MIGRATIONS.last().unwrap().0;
    for s in &stores {
        assert_eq!(s.schema_version().unwrap(), latest);
    }
    let applied = stores[0]
        .one("SELECT count(*) FROM schema_version", super::params![])
        .unwrap();
    assert_eq!(applied.get::<_, i64>(0), MIGRATIONS.len() as i64);
    // One process's write is every process's read: a new run at once, the rest once
    // committed (run writes are written behind).
    stores[0].run_create("0001-a", br#"{"n":1}"#).unwrap();
    assert_eq!(stores[3].run_get("0001-a").unwrap(), Some(json!({"n": 1})));
    stores[0].run_put("0001-a", br#"{"n":2}"#).unwrap();
    stores[0].journal_put("0001-a", br#"{"step":1}"#).unwrap();
    // This process reads its own writes at once.
    assert_eq!(stores[0].run_get("0001-a").unwrap(), Some(json!({"n": 2})));
    stores[0].flush().unwrap();
    assert_eq!(stores[3].run_get("0001-a").unwrap(), Some(json!({"n": 2})));
    assert_eq!(stores[3].journal_list("0001-a").unwrap().len(), 1);
}

#[test]
fn a_database_from_a_newer_sluice_is_refused() {
    let schema = Schema::new();
    let s = schema.open().unwrap();
    s.exec(
        "INSERT INTO schema_version (version) VALUES ($1)",
        super::params![999_i32],
    )
    .unwrap();
    let err = schema.open().unwrap_err().to_string();
    assert!(
        err.contains("version 999") && err.contains("newer Sluice"),
        "{err}"
    );
    // Nothing was changed by the refused open.
    assert_eq!(s.schema_version().unwrap(), 999);
}

#[test]
fn two_processes_racing_for_a_fire_start_one_run() {
    let schema = Schema::new();
    let (a, b) = (schema.open().unwrap(), schema.open().unwrap());
    let results: Vec<Option<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let s = if i % 2 == 0 { &a } else { &b };
                scope.spawn(move || {
                    let id = format!("0001-{i}");
                    s.run_put_once("fire", &id, &json!({ "id": id })).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_none()).count(), 1);
    let mut ids = Vec::new();
    a.run_scan(None, &mut |id, _| {
        ids.push(id.to_owned());
        Ok(true)
    })
    .unwrap();
    assert_eq!(ids.len(), 1);
    assert!(results.iter().flatten().all(|r| *r == ids[0]));
}

#[test]
fn the_quota_holds_across_processes() {
    let schema = Schema::new();
    let (a, b) = (schema.open().unwrap(), schema.open().unwrap());
    let quota = StateQuota {
        max_keys: 3,
        max_bytes: 1_000,
    };
    let ns = StateNamespace {
        workflow: "w".into(),
        owner: "o".into(),
    };
    let ok = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (s, ns) = (if i % 2 == 0 { &a } else { &b }, &ns);
                scope.spawn(move || s.state_set(ns, &format!("k{i}"), "v", quota).is_ok())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|ok| *ok)
            .count()
    });
    assert_eq!(ok, 3);
    assert_eq!(b.state_usage("o").unwrap(), (3, 9));
}

#[test]
fn an_unreachable_or_invalid_database_is_a_clear_error() {
    // Nothing listens on port 1: unavailable (HTTP 503, retryable), not a failure.
    let err = PgStore::open("postgres://sluice@127.0.0.1:1/postgres").unwrap_err();
    assert_eq!(err.code(), crate::code::Code::StoreUnavailable);
    assert!(
        matches!(&err, StoreError::Unavailable(m)
            if m.contains("cannot reach PostgreSQL") && m.contains("refused")),
        "{err}"
    );
    // The server's own message comes through.
    let s = Schema::new();
    let store = s.open().unwrap();
    let err = store
        .exec("SELECT * FROM no_such_table", super::params![])
        .unwrap_err();
    assert!(
        err.to_string().contains("no_such_table\" does not exist"),
        "{err}"
    );
    assert_eq!(err.code(), crate::code::Code::StoreError);
    let err = PgStore::open("postgres://user:secret@host:notaport/db").unwrap_err();
    assert!(err.to_string().contains("URL is not valid"), "{err}");
    assert!(err.to_string().contains("port"), "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
    let err = PgStore::open_in_schema(&url(), "Bad-Name").unwrap_err();
    assert!(err.to_string().contains("schema `Bad-Name`"), "{err}");
}

/// A TCP proxy to the test database that can be cut (the port closed and every
/// connection through it dropped, as when the database's host goes away) and restored on
/// the same port.
struct Proxy {
    rt: tokio::runtime::Runtime,
    port: u16,
    target: (String, u16),
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    fn new() -> Self {
        let config: tokio_postgres::Config = url().parse().unwrap();
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            _ => panic!("SLUICE_TEST_DATABASE_URL must name a TCP host for this test"),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut proxy = Proxy {
            port: listener.local_addr().unwrap().port(),
            rt,
            target: (host, port),
            task: None,
        };
        proxy.serve(listener);
        proxy
    }

    /// The test database's URL, through the proxy.
    fn url(&self) -> String {
        let config: tokio_postgres::Config = url().parse().unwrap();
        let user = config.get_user().unwrap_or("postgres");
        let password = config
            .get_password()
            .map(|p| format!(":{}", String::from_utf8_lossy(p)))
            .unwrap_or_default();
        let db = config.get_dbname().unwrap_or(user);
        format!("postgres://{user}{password}@127.0.0.1:{}/{db}", self.port)
    }

    fn serve(&mut self, listener: std::net::TcpListener) {
        listener.set_nonblocking(true).unwrap();
        let target = self.target.clone();
        let _enter = self.rt.enter();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        self.task = Some(self.rt.spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                connections.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        }));
    }

    fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = self.rt.block_on(task);
        }
    }

    fn restore(&mut self) {
        let listener = std::net::TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        self.serve(listener);
    }
}

#[test]
fn a_lost_database_is_unavailable_and_the_store_recovers_when_it_is_back() {
    let schema = Schema::new();
    let mut proxy = Proxy::new();
    let s = PgStore::open_in_schema(&proxy.url(), &schema.0).unwrap();
    s.run_create("0001-a", b"{}").unwrap();
    proxy.cut();
    let started = std::time::Instant::now();
    for _ in 0..3 {
        let err = s.run_get("0001-a").unwrap_err();
        assert!(
            matches!(&err, StoreError::Unavailable(m) if m.contains("PostgreSQL")),
            "{err}"
        );
        assert!(
            s.workflow_put("w", &json!({})).is_err(),
            "nothing is written"
        );
    }
    // A run's writes are queued, and lost: the run's next commit says so, once.
    s.run_put("0002-b", b"{}").unwrap();
    s.journal_put("0002-b", b"{}").unwrap();
    let lost = futures::executor::block_on(crate::store::Store::commit_run(&s, "0002-b"));
    assert!(
        matches!(&lost, Err(StoreError::Unavailable(m)) if m.contains("lost")),
        "{lost:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    proxy.restore();
    assert_eq!(s.run_get("0001-a").unwrap(), Some(json!({})));
    assert_eq!(s.run_get("0002-b").unwrap(), None);
    assert!(s.journal_list("0002-b").unwrap().is_empty());
    // Back: what is queued now is written.
    s.run_put("0003-c", b"{}").unwrap();
    futures::executor::block_on(crate::store::Store::commit_run(&s, "0003-c")).unwrap();
    assert_eq!(s.run_get("0003-c").unwrap(), Some(json!({})));
}

#[tokio::test]
async fn calls_from_a_current_thread_runtime_and_dropping_there_are_fine() {
    let schema = Schema::new();
    let s = schema.open().unwrap();
    s.workflow_put("w", &json!({"name": "w"})).unwrap();
    assert_eq!(s.workflow_list().unwrap().len(), 1);
    drop(s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_from_many_tasks_of_a_multi_thread_runtime() {
    let schema = Schema::new();
    let s = std::sync::Arc::new(schema.open().unwrap());
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.journal_put("r", format!("{{\"n\":{i}}}").as_bytes())
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(s.journal_list("r").unwrap().len(), 16);
}

/// Many calls from one task without a yield in between (a loop over runs): each waits for
/// its answer, however far past tokio's cooperative budget the task is.
#[tokio::test]
async fn many_calls_in_a_row_from_one_task_all_answer() {
    let schema = Schema::new();
    let s = schema.open().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // A watchdog: spinning on a spent budget would never finish.
    std::thread::spawn(move || {
        if rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .is_err()
        {
            eprintln!("500 store calls from one task did not finish in 120 s");
            std::process::abort();
        }
    });
    for i in 0..500 {
        s.run_put(&format!("{i:04}-r"), b"{}").unwrap();
    }
    assert_eq!(s.run_get("0499-r").unwrap(), Some(json!({})));
    tx.send(()).unwrap();
}
