//! Plugins' state (with its quota counters) and the JumpCloud simulator's snapshot on
//! PostgreSQL: the traits whose writes take more than one statement.

use super::tables::{bytes_at, seconds};
use super::{PgStore, params, pg_error, pool_error};
use crate::store::{StateNamespace, StateQuota, StateStore, StoreError};

impl StateStore for PgStore {
    fn state_get(&self, ns: &StateNamespace, key: &str) -> Result<Option<String>, StoreError> {
        let row = self.opt(
            "SELECT value FROM state WHERE workflow = $1 AND owner = $2 AND key = $3",
            params![
                ns.workflow.as_bytes().to_vec(),
                ns.owner.as_bytes().to_vec(),
                key.as_bytes().to_vec()
            ],
        )?;
        let Some(row) = row else { return Ok(None) };
        String::from_utf8(bytes_at(&row, 0)?)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                key: format!("{}/{}/{key}", ns.workflow, ns.owner),
                reason: e.to_string(),
            })
    }

    fn state_set(
        &self,
        ns: &StateNamespace,
        key: &str,
        value: &str,
        quota: StateQuota,
    ) -> Result<(), StoreError> {
        let workflow = ns.workflow.as_bytes().to_vec();
        let owner = ns.owner.as_bytes().to_vec();
        let (key, value) = (key.as_bytes().to_vec(), value.as_bytes().to_vec());
        self.block(move |pool| async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            let tx = client.transaction().await.map_err(pg_error)?;
            // The owner's usage row, locked: writers of one owner take turns.
            let (keys, bytes) = lock_usage(&tx, &owner).await?;
            let old = tx
                .query_opt(
                    "SELECT octet_length(value) FROM state \
                     WHERE workflow = $1 AND owner = $2 AND key = $3",
                    &[&workflow, &owner, &key],
                )
                .await
                .map_err(pg_error)?
                .map(|row| row.try_get::<_, i32>(0).map_err(pg_error))
                .transpose()?;
            let new_len = value.len() as u64;
            let (after_keys, after_bytes) = match old {
                Some(old) => (keys, (bytes + new_len).saturating_sub(old.max(0) as u64)),
                None => (keys + 1, bytes + key.len() as u64 + new_len),
            };
            let grows_keys = after_keys > keys && after_keys > quota.max_keys;
            let grows_bytes = after_bytes > bytes && after_bytes > quota.max_bytes;
            if grows_keys || grows_bytes {
                // Dropping the transaction rolls it back: nothing is written.
                return Err(StoreError::Quota {
                    keys: after_keys,
                    bytes: after_bytes,
                    max_keys: quota.max_keys,
                    max_bytes: quota.max_bytes,
                });
            }
            tx.execute(
                "INSERT INTO state (workflow, owner, key, value) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (workflow, owner, key) DO UPDATE SET value = EXCLUDED.value",
                &[&workflow, &owner, &key, &value],
            )
            .await
            .map_err(pg_error)?;
            set_usage(&tx, &owner, after_keys, after_bytes).await?;
            tx.commit().await.map_err(pg_error)
        })
    }

    fn state_delete(&self, ns: &StateNamespace, key: &str) -> Result<(), StoreError> {
        let workflow = ns.workflow.as_bytes().to_vec();
        let owner = ns.owner.as_bytes().to_vec();
        let key = key.as_bytes().to_vec();
        self.block(move |pool| async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            let tx = client.transaction().await.map_err(pg_error)?;
            let (keys, bytes) = lock_usage(&tx, &owner).await?;
            let removed = tx
                .query_opt(
                    "DELETE FROM state WHERE workflow = $1 AND owner = $2 AND key = $3 \
                     RETURNING octet_length(value)",
                    &[&workflow, &owner, &key],
                )
                .await
                .map_err(pg_error)?;
            if let Some(row) = removed {
                let old: i32 = row.try_get(0).map_err(pg_error)?;
                let freed = key.len() as u64 + old.max(0) as u64;
                set_usage(
                    &tx,
                    &owner,
                    keys.saturating_sub(1),
                    bytes.saturating_sub(freed),
                )
                .await?;
            }
            tx.commit().await.map_err(pg_error)
        })
    }

    fn state_usage(&self, owner: &str) -> Result<(u64, u64), StoreError> {
        let row = self.opt(
            "SELECT keys, bytes FROM state_usage WHERE owner = $1",
            params![owner.as_bytes().to_vec()],
        )?;
        let Some(row) = row else { return Ok((0, 0)) };
        let keys: i64 = row.try_get(0).map_err(pg_error)?;
        let bytes: i64 = row.try_get(1).map_err(pg_error)?;
        Ok((keys.max(0) as u64, bytes.max(0) as u64))
    }
}

/// The owner's key count and bytes, its row made if missing and locked until the
/// transaction ends.
async fn lock_usage(
    tx: &deadpool_postgres::Transaction<'_>,
    owner: &[u8],
) -> Result<(u64, u64), StoreError> {
    tx.execute(
        "INSERT INTO state_usage (owner, keys, bytes) VALUES ($1, 0, 0) \
         ON CONFLICT (owner) DO NOTHING",
        &[&owner],
    )
    .await
    .map_err(pg_error)?;
    let row = tx
        .query_one(
            "SELECT keys, bytes FROM state_usage WHERE owner = $1 FOR UPDATE",
            &[&owner],
        )
        .await
        .map_err(pg_error)?;
    let keys: i64 = row.try_get(0).map_err(pg_error)?;
    let bytes: i64 = row.try_get(1).map_err(pg_error)?;
    Ok((keys.max(0) as u64, bytes.max(0) as u64))
}

async fn set_usage(
    tx: &deadpool_postgres::Transaction<'_>,
    owner: &[u8],
    keys: u64,
    bytes: u64,
) -> Result<(), StoreError> {
    let (keys, bytes) = (seconds(keys), seconds(bytes));
    tx.execute(
        "UPDATE state_usage SET keys = $2, bytes = $3 WHERE owner = $1",
        &[&owner, &keys, &bytes],
    )
    .await
    .map_err(pg_error)
    .map(drop)
}

/// The simulator's snapshot is one row; logged changes are rows in write order.
impl sluice_jcsim::SnapshotStore for PgStore {
    fn load(&self) -> Result<sluice_jcsim::Persistent, String> {
        self.block(|pool| async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            // One snapshot of the database for both reads.
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(pg_error)?;
            let snapshot = tx
                .query_opt("SELECT snapshot FROM simulator_snapshot WHERE id = 1", &[])
                .await
                .map_err(pg_error)?
                .map(|row| bytes_at(&row, 0))
                .transpose()?;
            let changes = tx
                .query("SELECT change FROM simulator_log ORDER BY seq", &[])
                .await
                .map_err(pg_error)?
                .iter()
                .map(|row| bytes_at(row, 0))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit().await.map_err(pg_error)?;
            Ok((snapshot, changes))
        })
        .map_err(|e| e.to_string())
    }

    fn save(&self, snapshot: &[u8]) -> Result<(), String> {
        let snapshot = snapshot.to_vec();
        self.block(move |pool| async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            let tx = client.transaction().await.map_err(pg_error)?;
            tx.execute("DELETE FROM simulator_log", &[])
                .await
                .map_err(pg_error)?;
            tx.execute(
                "INSERT INTO simulator_snapshot (id, snapshot) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE SET snapshot = EXCLUDED.snapshot",
                &[&snapshot],
            )
            .await
            .map_err(pg_error)?;
            tx.commit().await.map_err(pg_error)
        })
        .map_err(|e| e.to_string())
    }

    fn append(&self, change: &[u8]) -> Result<(), String> {
        self.exec(
            "INSERT INTO simulator_log (change) VALUES ($1)",
            params![change.to_vec()],
        )
        .map(drop)
        .map_err(|e| e.to_string())
    }
}
