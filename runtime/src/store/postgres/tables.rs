//! The store traits on the PostgreSQL tables (`migrations/`), with the embedded store's
//! semantics.

use tokio_postgres::Row;

use super::queue::{Table, Write};
use super::{PgStore, params, pg_error, pool_error};
use crate::store::{
    BlobStore, Commit, OpenedRun, PluginStore, RoleRecords, RunStore, RunVisitor, ServiceStore,
    Store, StoreError, TrustStore,
};

/// The statements of a table of documents under one text key.
struct Doc {
    put: &'static str,
    /// Inserts unless the key is taken.
    add: &'static str,
    get: &'static str,
    list: &'static str,
    remove: &'static str,
}

macro_rules! doc {
    ($table:literal, $key:literal, $value:literal) => {
        Doc {
            put: concat!(
                "INSERT INTO ",
                $table,
                " (",
                $key,
                ", ",
                $value,
                ") VALUES ($1, $2) ",
                "ON CONFLICT (",
                $key,
                ") DO UPDATE SET ",
                $value,
                " = EXCLUDED.",
                $value
            ),
            add: concat!(
                "INSERT INTO ",
                $table,
                " (",
                $key,
                ", ",
                $value,
                ") VALUES ($1, $2) ",
                "ON CONFLICT (",
                $key,
                ") DO NOTHING"
            ),
            get: concat!(
                "SELECT ", $value, " FROM ", $table, " WHERE ", $key, " = $1"
            ),
            list: concat!(
                "SELECT ",
                $key,
                ", ",
                $value,
                " FROM ",
                $table,
                " ORDER BY ",
                $key
            ),
            remove: concat!("DELETE FROM ", $table, " WHERE ", $key, " = $1"),
        }
    };
}

const RUNS: Doc = doc!("runs", "id", "record");
const JOURNAL_LIST: &str = "SELECT record FROM journal WHERE run = $1 ORDER BY seq";
const RUN_INPUTS: Doc = doc!("run_inputs", "run", "input");
const WORKFLOWS: Doc = doc!("workflows", "name", "record");
const TOKENS: Doc = doc!("tokens", "hash", "record");
const TRIGGERS: Doc = doc!("triggers", "key", "value");
const PLUGINS: Doc = doc!("plugins", "id", "record");
const BLOBS: Doc = doc!("blobs", "digest", "bytes");
const TRUSTED_KEYS: Doc = doc!("trusted_keys", "name", "record");
const SETTINGS: Doc = doc!("settings", "key", "value");
const SECRETS: Doc = doc!("secrets", "name", "sealed");
const CONNECTORS: Doc = doc!("connectors", "name", "def");
const ROLES: Doc = doc!("roles", "name", "record");

/// Runs read per query by [`RunStore::run_scan`].
const SCAN_PAGE: i64 = 64;

pub(super) fn bytes_at(row: &Row, i: usize) -> Result<Vec<u8>, StoreError> {
    row.try_get(i).map_err(pg_error)
}

fn text_at(row: &Row, i: usize) -> Result<String, StoreError> {
    row.try_get(i).map_err(pg_error)
}

fn decode(key: &str, bytes: &[u8]) -> Result<serde_json::Value, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

fn encode(record: &serde_json::Value) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(record).map_err(|e| StoreError::Backend(e.to_string()))
}

impl PgStore {
    fn doc_put(&self, t: &Doc, key: &str, value: Vec<u8>) -> Result<(), StoreError> {
        self.exec(t.put, params![key.to_owned(), value]).map(drop)
    }

    fn doc_add(&self, t: &Doc, key: &str, value: Vec<u8>) -> Result<bool, StoreError> {
        Ok(self.exec(t.add, params![key.to_owned(), value])? == 1)
    }

    fn doc_get(&self, t: &Doc, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.opt(t.get, params![key.to_owned()])?
            .map(|row| bytes_at(&row, 0))
            .transpose()
    }

    fn doc_json(&self, t: &Doc, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.doc_get(t, key)?.map(|b| decode(key, &b)).transpose()
    }

    /// Every key and value, by key.
    fn doc_list(&self, t: &Doc) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.rows(t.list, params![])?
            .iter()
            .map(|row| Ok((text_at(row, 0)?, bytes_at(row, 1)?)))
            .collect()
    }

    fn doc_list_json(&self, t: &Doc) -> Result<Vec<serde_json::Value>, StoreError> {
        self.doc_list(t)?
            .iter()
            .map(|(k, v)| decode(k, v))
            .collect()
    }

    fn doc_remove(&self, t: &Doc, key: &str) -> Result<bool, StoreError> {
        Ok(self.exec(t.remove, params![key.to_owned()])? > 0)
    }
}

impl Store for PgStore {
    /// Waits for the queued run writes; every other statement is committed when its call
    /// returns.
    fn flush(&self) -> Result<(), StoreError> {
        futures::executor::block_on(tokio::task::unconstrained(self.queue.commit()))
    }

    fn commit(&self) -> Commit<'_> {
        Box::pin(self.queue.commit())
    }

    fn commit_run<'a>(&'a self, run: &'a str) -> Commit<'a> {
        Box::pin(self.queue.commit_run(run))
    }

    /// The queue's writer never waits: there is nothing to ask for.
    fn commit_soon(&self) {}

    fn cluster(
        &self,
        node: &str,
        lease: std::time::Duration,
    ) -> std::sync::Arc<dyn crate::store::Cluster> {
        std::sync::Arc::new(super::cluster::PgCluster::new(
            self.for_coordination(),
            node,
            lease,
        ))
    }

    fn remote(&self) -> bool {
        true
    }
}

impl BlobStore for PgStore {
    fn blob_put(&self, digest: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.doc_put(&BLOBS, digest, bytes.to_vec())
    }

    fn blob_get(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.doc_get(&BLOBS, digest)
    }

    fn blob_exists(&self, digest: &str) -> Result<bool, StoreError> {
        let row = self.opt(
            "SELECT 1 FROM blobs WHERE digest = $1",
            params![digest.to_owned()],
        )?;
        Ok(row.is_some())
    }

    fn blob_remove(&self, digest: &str) -> Result<bool, StoreError> {
        self.doc_remove(&BLOBS, digest)
    }

    fn blob_list(&self) -> Result<Vec<String>, StoreError> {
        self.rows("SELECT digest FROM blobs ORDER BY digest", params![])?
            .iter()
            .map(|row| text_at(row, 0))
            .collect()
    }
}

impl PluginStore for PgStore {
    fn plugin_put(&self, id: &str, record: &serde_json::Value) -> Result<(), StoreError> {
        self.doc_put(&PLUGINS, id, encode(record)?)
    }

    fn plugin_get(&self, id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.doc_json(&PLUGINS, id)
    }

    fn plugin_list(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        self.doc_list_json(&PLUGINS)
    }

    fn plugin_remove(&self, id: &str) -> Result<bool, StoreError> {
        self.doc_remove(&PLUGINS, id)
    }
}

impl TrustStore for PgStore {
    fn trusted_key_add(&self, name: &str, record: &serde_json::Value) -> Result<bool, StoreError> {
        self.doc_add(&TRUSTED_KEYS, name, encode(record)?)
    }

    fn trusted_key_list(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        self.doc_list_json(&TRUSTED_KEYS)
    }

    fn trusted_key_remove(&self, name: &str) -> Result<bool, StoreError> {
        self.doc_remove(&TRUSTED_KEYS, name)
    }

    fn setting_get(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.doc_json(&SETTINGS, key)
    }

    fn setting_put(&self, key: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        self.doc_put(&SETTINGS, key, encode(value)?)
    }
}

impl RoleRecords for PgStore {
    fn role_record_put(&self, name: &str, record: &[u8]) -> Result<(), StoreError> {
        self.doc_put(&ROLES, name, record.to_vec())
    }

    fn role_record_get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.doc_get(&ROLES, name)
    }

    fn role_record_list(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self.doc_list(&ROLES)?.into_iter().map(|(_, v)| v).collect())
    }

    fn role_record_remove(&self, name: &str) -> Result<bool, StoreError> {
        self.doc_remove(&ROLES, name)
    }
}

impl crate::secrets::SecretStore for PgStore {
    fn secret_put(&self, name: &str, sealed: &[u8]) -> Result<(), crate::secrets::SecretError> {
        self.doc_put(&SECRETS, name, sealed.to_vec())
            .map_err(secret_error)
    }

    fn secret_get(&self, name: &str) -> Result<Option<Vec<u8>>, crate::secrets::SecretError> {
        self.doc_get(&SECRETS, name).map_err(secret_error)
    }

    fn secret_names(&self) -> Result<Vec<String>, crate::secrets::SecretError> {
        self.rows("SELECT name FROM secrets ORDER BY name", params![])
            .and_then(|rows| rows.iter().map(|row| text_at(row, 0)).collect())
            .map_err(secret_error)
    }

    fn secret_remove(&self, name: &str) -> Result<bool, crate::secrets::SecretError> {
        self.doc_remove(&SECRETS, name).map_err(secret_error)
    }
}

fn secret_error(e: StoreError) -> crate::secrets::SecretError {
    crate::secrets::SecretError::Store(e.to_string())
}

fn connector_error(e: impl std::fmt::Display) -> crate::connector::ConnectorError {
    crate::connector::ConnectorError::Store(e.to_string())
}

impl crate::connector::ConnectorStore for PgStore {
    fn connector_put(
        &self,
        def: &crate::connector::ConnectorDef,
    ) -> Result<(), crate::connector::ConnectorError> {
        let bytes = serde_json::to_vec(def).map_err(connector_error)?;
        self.doc_put(&CONNECTORS, &def.name, bytes)
            .map_err(connector_error)
    }

    fn connector_get(
        &self,
        name: &str,
    ) -> Result<Option<crate::connector::ConnectorDef>, crate::connector::ConnectorError> {
        let Some(bytes) = self.doc_get(&CONNECTORS, name).map_err(connector_error)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| connector_error(format!("connector `{name}`: {e}")))
    }

    fn connector_list(
        &self,
    ) -> Result<Vec<crate::connector::ConnectorDef>, crate::connector::ConnectorError> {
        self.doc_list(&CONNECTORS)
            .map_err(connector_error)?
            .iter()
            .map(|(name, bytes)| {
                serde_json::from_slice(bytes)
                    .map_err(|e| connector_error(format!("connector `{name}`: {e}")))
            })
            .collect()
    }

    fn connector_remove(&self, name: &str) -> Result<bool, crate::connector::ConnectorError> {
        self.doc_remove(&CONNECTORS, name).map_err(connector_error)
    }
}

/// A run's writes go through the write queue (`queue.rs`), except its creation, which
/// every node may be asked about at once; its reads wait for what this process queued.
impl RunStore for PgStore {
    fn run_put(&self, id: &str, record: &[u8]) -> Result<(), StoreError> {
        self.queue.push(id, Write::Record(record.to_vec()))
    }

    fn run_create(&self, id: &str, record: &[u8]) -> Result<(), StoreError> {
        self.doc_put(&RUNS, id, record.to_vec())
    }

    fn run_get(&self, id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.queue.drain_run(Table::Runs, id)?;
        self.doc_json(&RUNS, id)
    }

    fn run_scan(&self, after: Option<&str>, visit: &mut RunVisitor<'_>) -> Result<(), StoreError> {
        self.queue.drain()?;
        // Run ids start with a zero-padded timestamp: descending id order is newest first.
        // Read a page at a time, so no more than a page of runs is held at once.
        let mut after = after.map(str::to_owned);
        loop {
            let rows = match after.take() {
                None => self.rows(
                    "SELECT id, record FROM runs ORDER BY id DESC LIMIT $1",
                    params![SCAN_PAGE],
                )?,
                Some(a) => self.rows(
                    "SELECT id, record FROM runs WHERE id < $1 ORDER BY id DESC LIMIT $2",
                    params![a, SCAN_PAGE],
                )?,
            };
            let full = rows.len() as i64 == SCAN_PAGE;
            for row in &rows {
                let id = text_at(row, 0)?;
                if !visit(&id, &bytes_at(row, 1)?)? {
                    return Ok(());
                }
                after = Some(id);
            }
            if !full {
                return Ok(());
            }
        }
    }

    fn journal_put(&self, run: &str, record: &[u8]) -> Result<(), StoreError> {
        self.queue.push(run, Write::Journal(record.to_vec()))
    }

    fn journal_list(&self, run: &str) -> Result<Vec<serde_json::Value>, StoreError> {
        self.queue.drain_run(Table::Journal, run)?;
        self.rows(JOURNAL_LIST, params![run.to_owned()])?
            .iter()
            .map(|row| decode(run, &bytes_at(row, 0)?))
            .collect()
    }

    fn sensitive_put(&self, run: &str, values: &serde_json::Value) -> Result<(), StoreError> {
        self.queue.push(run, Write::Input(encode(values)?))
    }

    fn sensitive_get(&self, run: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.queue.drain_run(Table::Inputs, run)?;
        self.doc_json(&RUN_INPUTS, run)
    }

    fn sensitive_remove(&self, run: &str) -> Result<(), StoreError> {
        self.queue.push(run, Write::InputRemoved)
    }

    fn run_open(&self, id: &str) -> Result<OpenedRun, StoreError> {
        for table in [Table::Runs, Table::Inputs, Table::Journal] {
            self.queue.drain_run(table, id)?;
        }
        let run = id.to_owned();
        let (record, input, journal) = self.block(move |pool| async move {
            let client = pool.get().await.map_err(pool_error)?;
            let (record, input, journal) = futures::future::try_join3(
                client.prepare_cached(RUNS.get),
                client.prepare_cached(RUN_INPUTS.get),
                client.prepare_cached(JOURNAL_LIST),
            )
            .await
            .map_err(pg_error)?;
            let args: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&run];
            // Sent together (pipelined): one round trip.
            futures::future::try_join3(
                client.query_opt(&record, &args),
                client.query_opt(&input, &args),
                client.query(&journal, &args),
            )
            .await
            .map_err(pg_error)
        })?;
        Ok(OpenedRun {
            record: record.map(|r| decode(id, &bytes_at(&r, 0)?)).transpose()?,
            input: input.map(|r| decode(id, &bytes_at(&r, 0)?)).transpose()?,
            journal: journal
                .iter()
                .map(|r| decode(id, &bytes_at(r, 0)?))
                .collect::<Result<_, _>>()?,
        })
    }
}

impl ServiceStore for PgStore {
    fn workflow_put(&self, name: &str, record: &serde_json::Value) -> Result<(), StoreError> {
        self.doc_put(&WORKFLOWS, name, encode(record)?)
    }

    fn workflow_get(&self, name: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.doc_json(&WORKFLOWS, name)
    }

    fn workflow_list(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        self.doc_list_json(&WORKFLOWS)
    }

    fn workflow_remove(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.block(move |pool| async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            let tx = client.transaction().await.map_err(pg_error)?;
            let removed = tx
                .execute("DELETE FROM workflows WHERE name = $1", &[&name])
                .await
                .map_err(pg_error)?;
            tx.execute("DELETE FROM workflow_versions WHERE name = $1", &[&name])
                .await
                .map_err(pg_error)?;
            tx.commit().await.map_err(pg_error)?;
            Ok(removed > 0)
        })
    }

    fn version_put(
        &self,
        name: &str,
        version: u32,
        record: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO workflow_versions (name, version, record) VALUES ($1, $2, $3) \
             ON CONFLICT (name, version) DO UPDATE SET record = EXCLUDED.record",
            params![name.to_owned(), i64::from(version), encode(record)?],
        )
        .map(drop)
    }

    fn version_get(
        &self,
        name: &str,
        version: u32,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        self.opt(
            "SELECT record FROM workflow_versions WHERE name = $1 AND version = $2",
            params![name.to_owned(), i64::from(version)],
        )?
        .map(|row| decode(name, &bytes_at(&row, 0)?))
        .transpose()
    }

    fn version_list(&self, name: &str) -> Result<Vec<serde_json::Value>, StoreError> {
        self.rows(
            "SELECT record FROM workflow_versions WHERE name = $1 ORDER BY version",
            params![name.to_owned()],
        )?
        .iter()
        .map(|row| decode(name, &bytes_at(row, 0)?))
        .collect()
    }

    fn token_put(&self, hash: &str, record: &serde_json::Value) -> Result<(), StoreError> {
        self.doc_put(&TOKENS, hash, encode(record)?)
    }

    fn token_get(&self, hash: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.doc_json(&TOKENS, hash)
    }

    fn token_list(&self) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        self.doc_list(&TOKENS)?
            .into_iter()
            .map(|(k, v)| {
                let record = decode(&k, &v)?;
                Ok((k, record))
            })
            .collect()
    }

    fn token_remove(&self, hash: &str) -> Result<bool, StoreError> {
        self.doc_remove(&TOKENS, hash)
    }

    fn audit_append(&self, entry: &serde_json::Value) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO audit (entry) VALUES ($1)",
            params![encode(entry)?],
        )
        .map(drop)
    }

    fn audit_list(&self, limit: usize) -> Result<Vec<serde_json::Value>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.rows(
            "SELECT entry FROM audit ORDER BY seq DESC LIMIT $1",
            params![limit],
        )?
        .iter()
        .map(|row| decode("audit", &bytes_at(row, 0)?))
        .collect()
    }

    fn trigger_get(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.doc_json(&TRIGGERS, key)
    }

    fn trigger_put(&self, key: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        self.doc_put(&TRIGGERS, key, encode(value)?)
    }

    fn run_put_once(
        &self,
        fire: &str,
        id: &str,
        record: &serde_json::Value,
    ) -> Result<Option<String>, StoreError> {
        // One statement: the fire's row and the run's, or neither when the fire has a run.
        let row = self.one(
            "WITH fire AS (
                 INSERT INTO fires (fire, run) VALUES ($1, $2)
                 ON CONFLICT (fire) DO NOTHING RETURNING run
             ), run AS (
                 INSERT INTO runs (id, record) SELECT $2, $3 FROM fire
                 ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record RETURNING id
             )
             SELECT (SELECT count(*) FROM run)",
            params![fire.to_owned(), id.to_owned(), encode(record)?],
        )?;
        if row.try_get::<_, i64>(0).map_err(pg_error)? == 1 {
            return Ok(None);
        }
        // The fire had a run (a concurrent insert of the same fire waited for the other
        // transaction, which committed): that run.
        let row = self.one(
            "SELECT run FROM fires WHERE fire = $1",
            params![fire.to_owned()],
        )?;
        Ok(Some(row.try_get(0).map_err(pg_error)?))
    }

    /// Without waiting for the disk: a mark lost in a database crash leaves one message id
    /// remembered for good, which costs a row and refuses nothing that should pass.
    fn fire_expires(&self, fire: &str, at: u64) -> Result<(), StoreError> {
        self.for_coordination()
            .exec(
                "INSERT INTO fire_expiry (at, fire) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                params![seconds(at), fire.to_owned()],
            )
            .map(drop)
    }

    fn fires_forget(&self, now: u64) -> Result<usize, StoreError> {
        let row = self.one(
            "WITH due AS (DELETE FROM fire_expiry WHERE at <= $1 RETURNING fire), \
                  gone AS (DELETE FROM fires WHERE fire IN (SELECT fire FROM due)) \
             SELECT count(*) FROM due",
            params![seconds(now)],
        )?;
        let n: i64 = row.try_get(0).map_err(pg_error)?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

/// Unix seconds (or a count) as PostgreSQL's bigint (past its range: its largest value).
pub(super) fn seconds(at: u64) -> i64 {
    i64::try_from(at).unwrap_or(i64::MAX)
}
