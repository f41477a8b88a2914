//! The PostgreSQL implementation of the store traits: [`PgStore`], for several `sluice`
//! processes sharing one database.
//!
//! # Layout
//! - `mod.rs`: opening (the pool, the store's own runtime, migrations) and the helpers that
//!   run one query from the synchronous traits.
//! - `tables.rs`: the traits on the tables of `migrations/`; `queue.rs`: run writes
//!   written behind, many runs' at a time in one transaction; `state.rs`: plugins' state
//!   (with its quota counters) and the simulator's snapshot.
//! - `cluster.rs`: [`Cluster`](crate::store::Cluster) on the `nodes`, `run_leases` and
//!   `leaders` tables: several nodes on one database.
//! - `migrations/NNNN_*.sql`: the schema, one file per version, embedded in the binary.
//!
//! # Client
//! tokio-postgres with deadpool-postgres: the plain asynchronous client and a small pool,
//! no ORM and no build-time query checking (sqlx's macros would cost build time and need a
//! database or cached query data to compile).
//!
//! # Synchronous traits over an asynchronous client
//! The store traits are synchronous and are called from async code (as sled blocks, so do
//! they). Every query runs as a task on a runtime the store owns, and the calling thread
//! waits for that task with `futures::executor::block_on`, which is sound on any thread,
//! inside a tokio runtime or not (tokio's own `block_on` panics inside a runtime). The
//! connections live on the store's runtime, so they keep working whoever calls.

mod cluster;
#[cfg(test)]
mod cluster_tests;
mod copy;
mod queue;
mod state;
mod tables;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::StoreError;

/// The schema versions, oldest first: each file is applied once, in one transaction with
/// its row in `schema_version`.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("migrations/0001_tables.sql")),
    (2, include_str!("migrations/0002_cluster.sql")),
    (3, include_str!("migrations/0003_slot.sql")),
];

/// The advisory lock held while migrating, so processes starting at once migrate one at a
/// time (`"sluice.sc"` as a number).
const MIGRATION_LOCK: i64 = 0x736c_7569_6365_7363;

/// Connections per process.
const POOL_SIZE: usize = 16;

/// Connections per process for coordination (leases, elections).
const COORDINATION_POOL_SIZE: usize = 4;

/// The write-behind writer's connection: its own, so no caller queues ahead of the writes
/// every run's commit waits for.
const WRITER_POOL_SIZE: usize = 1;

/// How long a query waits for a connection, or for one to be made, before failing.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Every store trait on one PostgreSQL database (or one schema of it).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// Connections whose commits do not wait for the disk, for coordination only.
    coordination: Pool,
    /// Run writes, written behind (`queue.rs`).
    queue: std::sync::Arc<queue::WriteQueue>,
    rt: std::sync::Arc<StoreRuntime>,
    /// The schema the store's tables live in, when not the database's default.
    schema: Option<String>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// The store's tokio runtime, shut down without waiting when the last handle goes, so
/// dropping a store inside async code does not panic.
struct StoreRuntime(Option<tokio::runtime::Runtime>);

impl Drop for StoreRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// An owned query parameter (queries run as tasks, so they own what they send).
pub(super) type Param = Box<dyn ToSql + Send + Sync>;

/// `params![a, b]`: owned query parameters.
macro_rules! params {
    ($($p:expr),* $(,)?) => { vec![$(Box::new($p) as $crate::store::postgres::Param),*] };
}
pub(super) use params;

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p.as_ref() as _).collect()
}

/// An error and its causes, `: `-separated (tokio-postgres's own text leaves out the
/// server's message and the I/O error).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let more = cause.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        next = cause.source();
    }
    text
}

/// A PostgreSQL error as a store error: a lost or refused connection says so.
pub(super) fn pg_error(e: tokio_postgres::Error) -> StoreError {
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    if e.is_closed() || io {
        StoreError::Unavailable(format!(
            "lost the connection to PostgreSQL: {}",
            with_causes(&e)
        ))
    } else {
        StoreError::Backend(format!("PostgreSQL: {}", with_causes(&e)))
    }
}

fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(format!("cannot reach PostgreSQL: {}", with_causes(&e)))
}

/// The schema a URL's `options` put first on the search path (`-c search_path=NAME` or
/// `--search_path=NAME`), checked as [`check_schema`] does.
fn url_schema(config: &tokio_postgres::Config) -> Result<Option<String>, StoreError> {
    let Some(options) = config.get_options() else {
        return Ok(None);
    };
    let Some((_, rest)) = options.split_once("search_path=") else {
        return Ok(None);
    };
    let first = rest
        .split(|c: char| c == ',' || c.is_whitespace())
        .next()
        .unwrap_or_default();
    check_schema(first)?;
    Ok(Some(first.to_owned()))
}

/// A pool of connections made with `config`, its timeouts on `rt`.
fn new_pool(
    rt: &tokio::runtime::Runtime,
    config: tokio_postgres::Config,
    size: usize,
) -> Result<Pool, StoreError> {
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    // The pool's timeouts run on the runtime it is built in.
    let _enter = rt.enter();
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(CONNECT_TIMEOUT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(|e| StoreError::Backend(format!("the PostgreSQL pool: {e}")))
}

/// Rejects schema names that would need quoting.
fn check_schema(schema: &str) -> Result<(), StoreError> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Backend(format!(
            "PostgreSQL schema `{schema}`: use lower-case letters, digits and `_` (at most 63)"
        )))
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`) and
    /// brings its schema up to date. A database migrated by a newer Sluice is refused.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_in(url, None)
    }

    /// As [`Self::open`], with the tables in `schema` (created when missing) rather than
    /// the database's default, so several stores can share one database.
    pub fn open_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        check_schema(schema)?;
        Self::open_in(url, Some(schema))
    }

    fn open_in(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            // The URL may hold a password: only the parser's reason is shown.
            StoreError::Backend(format!(
                "the PostgreSQL URL is not valid: {}",
                with_causes(&e)
            ))
        })?;
        // A schema named in the URL (`?options=-csearch_path%3Dname`) is made when missing,
        // as one passed here is.
        let from_url = match schema {
            Some(_) => None,
            None => url_schema(&config)?,
        };
        let schema = schema.or(from_url.as_deref());
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if let Some(schema) = schema {
            config.options(format!("-c search_path={schema}"));
        }
        if config.get_application_name().is_none() {
            // What pg_stat_activity shows for the store's connections.
            config.application_name(match schema {
                Some(schema) => format!("sluice/{schema}"),
                None => "sluice".to_owned(),
            });
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sluice-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot start the store's runtime: {e}")))?;
        // Coordination (leases, the leader's role, live nodes) commits without waiting for
        // the disk: a lease a database crash loses is claimed again or lapses, and that
        // saves several disk flushes per run.
        let mut coordination = config.clone();
        coordination.options(format!(
            "{} -c synchronous_commit=off",
            coordination.get_options().unwrap_or_default()
        ));
        let writer = new_pool(&rt, config.clone(), WRITER_POOL_SIZE)?;
        let pool = new_pool(&rt, config, POOL_SIZE)?;
        let coordination = new_pool(&rt, coordination, COORDINATION_POOL_SIZE)?;
        let queue = std::sync::Arc::new(queue::WriteQueue::start(&rt, writer));
        let store = Self {
            queue,
            pool,
            coordination,
            rt: std::sync::Arc::new(StoreRuntime(Some(rt))),
            schema: schema.map(str::to_owned),
        };
        let schema = store.schema.clone();
        store.block(move |pool| async move { migrate(pool, schema).await })?;
        Ok(store)
    }

    /// This store, on the connections for coordination (commits that do not wait for the
    /// disk).
    pub(super) fn for_coordination(&self) -> PgStore {
        PgStore {
            pool: self.coordination.clone(),
            ..self.clone()
        }
    }

    /// The schema version this database is at.
    pub fn schema_version(&self) -> Result<i32, StoreError> {
        let row = self.one(
            "SELECT coalesce(max(version), 0) FROM schema_version",
            params![],
        )?;
        row.try_get(0).map_err(pg_error)
    }

    /// Runs `work` on the store's runtime and waits for it on this thread.
    pub(super) fn block<T, F>(&self, work: impl FnOnce(Pool) -> F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let Some(rt) = &self.rt.0 else {
            return Err(StoreError::Backend("the PostgreSQL store is closed".into()));
        };
        let task = rt.spawn(work(self.pool.clone()));
        // Unconstrained: called from inside a tokio task, the join handle would otherwise
        // spend that task's cooperative budget, and once it is spent (many store calls
        // without a yield: a loop over runs) answer "not yet" forever while this thread
        // spins on it.
        futures::executor::block_on(tokio::task::unconstrained(task))
            .map_err(|e| StoreError::Backend(format!("a PostgreSQL store task failed: {e}")))?
    }

    /// Runs one statement; returns how many rows it changed.
    pub(super) fn exec(&self, sql: &'static str, params: Vec<Param>) -> Result<u64, StoreError> {
        self.block(move |pool| async move {
            let client = pool.get().await.map_err(pool_error)?;
            let stmt = client.prepare_cached(sql).await.map_err(pg_error)?;
            client
                .execute(&stmt, &refs(&params))
                .await
                .map_err(pg_error)
        })
    }

    /// Runs one query; returns its rows.
    pub(super) fn rows(
        &self,
        sql: &'static str,
        params: Vec<Param>,
    ) -> Result<Vec<Row>, StoreError> {
        self.block(move |pool| async move {
            let client = pool.get().await.map_err(pool_error)?;
            let stmt = client.prepare_cached(sql).await.map_err(pg_error)?;
            client.query(&stmt, &refs(&params)).await.map_err(pg_error)
        })
    }

    /// Runs a query of at most one row.
    pub(super) fn opt(
        &self,
        sql: &'static str,
        params: Vec<Param>,
    ) -> Result<Option<Row>, StoreError> {
        self.block(move |pool| async move {
            let client = pool.get().await.map_err(pool_error)?;
            let stmt = client.prepare_cached(sql).await.map_err(pg_error)?;
            client
                .query_opt(&stmt, &refs(&params))
                .await
                .map_err(pg_error)
        })
    }

    /// Runs a query of exactly one row.
    pub(super) fn one(&self, sql: &'static str, params: Vec<Param>) -> Result<Row, StoreError> {
        self.opt(sql, params)?
            .ok_or_else(|| StoreError::Backend(format!("PostgreSQL returned no row for: {sql}")))
    }

    /// Drops the store's schema and everything in it (tests and benchmarks: each has its
    /// own schema).
    pub(crate) fn drop_schema(&self) -> Result<(), StoreError> {
        let Some(schema) = self.schema.clone() else {
            return Err(StoreError::Backend(
                "the store has no schema of its own".into(),
            ));
        };
        self.block(move |pool| async move {
            let client = pool.get().await.map_err(pool_error)?;
            client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .await
                .map_err(pg_error)
        })
    }
}

/// Brings the schema up to date: under an advisory lock, in one transaction, each missing
/// version in order. A database at a version newer than this binary knows is refused.
async fn migrate(pool: Pool, schema: Option<String>) -> Result<(), StoreError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await.map_err(pg_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_error)?;
    if let Some(schema) = &schema {
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await
            .map_err(pg_error)?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(pg_error)?;
    let current: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await
        .map_err(pg_error)?
        .try_get(0)
        .map_err(pg_error)?;
    let latest = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if current > latest {
        return Err(StoreError::Backend(format!(
            "the PostgreSQL database's schema is at version {current}, made by a newer Sluice \
             (this one knows versions up to {latest}): upgrade Sluice, or use another database"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(sql).await.map_err(|e| {
            StoreError::Backend(format!(
                "PostgreSQL schema migration {version}: {}",
                with_causes(&e)
            ))
        })?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[version],
        )
        .await
        .map_err(pg_error)?;
    }
    tx.commit().await.map_err(pg_error)
}
