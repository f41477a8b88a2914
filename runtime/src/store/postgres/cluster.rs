//! [`Cluster`] on PostgreSQL: nodes renew a row and their runs' leases; a lapsed lease is
//! taken over with `FOR UPDATE SKIP LOCKED`; the leader holds a lease row of its own; a
//! workflow's execution slots are counted under an advisory lock on its name.

use std::time::Duration;

use super::{PgStore, params, pg_error, pool_error};
use crate::store::StoreError;
use crate::store::cluster::{Claim, Cluster, NodeInfo, NodeStatus, Renewal, Slot, TakenOver};

/// The advisory-lock class of workflows' execution slots (the second key is the hash of
/// the workflow's name).
const SLOT_LOCK: i32 = 0x736c_7574;

/// How long a node that stopped renewing stays listed.
const FORGET_NODES: &str = "1 hour";

/// A timestamp as RFC 3339 text, in SQL.
macro_rules! rfc3339 {
    ($col:literal) => {
        concat!(
            "to_char(",
            $col,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        )
    };
}

/// This node's view of the cluster on one database.
#[derive(Debug)]
pub(crate) struct PgCluster {
    store: PgStore,
    node: String,
    lease: Duration,
}

impl PgCluster {
    pub(crate) fn new(store: PgStore, node: &str, lease: Duration) -> Self {
        Self {
            store,
            node: node.to_owned(),
            lease,
        }
    }

    fn secs(&self) -> f64 {
        self.lease.as_secs_f64()
    }
}

impl Cluster for PgCluster {
    fn node(&self) -> &str {
        &self.node
    }

    fn shared(&self) -> bool {
        true
    }

    fn lease(&self) -> Duration {
        self.lease
    }

    fn heartbeat(&self, info: &NodeInfo, held: &[String]) -> Result<Renewal, StoreError> {
        let info = serde_json::to_vec(info).map_err(|e| StoreError::Backend(e.to_string()))?;
        let (node, secs, held) = (self.node.clone(), self.secs(), held.to_vec());
        self.store.block(move |pool| async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            let tx = client.transaction().await.map_err(pg_error)?;
            tx.execute(
                "INSERT INTO nodes (id, info, seen_at, expires_at)
                 VALUES ($1, $2, now(), now() + make_interval(secs => $3))
                 ON CONFLICT (id) DO UPDATE
                 SET info = EXCLUDED.info, seen_at = EXCLUDED.seen_at,
                     expires_at = EXCLUDED.expires_at",
                &[&node, &info, &secs],
            )
            .await
            .map_err(pg_error)?;
            let rows = tx
                .query(
                    "UPDATE run_leases SET expires_at = now() + make_interval(secs => $2)
                     WHERE node = $1 AND run = ANY($3)
                     RETURNING run, cancel",
                    &[&node, &secs, &held],
                )
                .await
                .map_err(pg_error)?;
            tx.execute(
                &format!("DELETE FROM nodes WHERE expires_at < now() - interval '{FORGET_NODES}'"),
                &[],
            )
            .await
            .map_err(pg_error)?;
            tx.commit().await.map_err(pg_error)?;
            let mut renewal = Renewal::default();
            let mut kept = std::collections::HashSet::new();
            for row in rows {
                let run: String = row.try_get(0).map_err(pg_error)?;
                if row.try_get::<_, bool>(1).map_err(pg_error)? {
                    renewal.cancel.push(run.clone());
                }
                kept.insert(run);
            }
            renewal.lost = held.into_iter().filter(|r| !kept.contains(r)).collect();
            Ok(renewal)
        })
    }

    fn nodes(&self) -> Result<Vec<NodeStatus>, StoreError> {
        let rows = self.store.rows(
            concat!(
                "SELECT n.info, ",
                rfc3339!("n.seen_at"),
                ", ",
                rfc3339!("n.expires_at"),
                ", n.expires_at > now(),
                  coalesce((SELECT array_agg(l.role ORDER BY l.role) FROM leaders l
                            WHERE l.node = n.id AND l.expires_at > now()), '{}'),
                  (SELECT count(*) FROM run_leases r WHERE r.node = n.id AND r.expires_at > now())
                 FROM nodes n ORDER BY n.expires_at > now() DESC, n.id"
            ),
            params![],
        )?;
        rows.iter()
            .map(|row| {
                let info: Vec<u8> = row.try_get(0).map_err(pg_error)?;
                let info: NodeInfo =
                    serde_json::from_slice(&info).map_err(|e| StoreError::Corrupt {
                        key: "nodes".into(),
                        reason: e.to_string(),
                    })?;
                Ok(NodeStatus {
                    info,
                    seen_at: row.try_get(1).map_err(pg_error)?,
                    expires_at: row.try_get(2).map_err(pg_error)?,
                    alive: row.try_get(3).map_err(pg_error)?,
                    leader_of: row.try_get(4).map_err(pg_error)?,
                    runs: row.try_get::<_, i64>(5).map_err(pg_error)?.max(0) as u64,
                })
            })
            .collect()
    }

    fn claim(&self, run: &str, workflow: &str) -> Result<Claim, StoreError> {
        let claimed = self.store.opt(
            "INSERT INTO run_leases (run, workflow, node, expires_at)
             VALUES ($1, $2, $3, now() + make_interval(secs => $4))
             ON CONFLICT (run) DO UPDATE
             SET node = EXCLUDED.node, expires_at = EXCLUDED.expires_at, executing = false
             WHERE run_leases.node = EXCLUDED.node OR run_leases.expires_at < now()
             RETURNING node",
            params![
                run.to_owned(),
                workflow.to_owned(),
                self.node.clone(),
                self.secs()
            ],
        )?;
        if claimed.is_some() {
            return Ok(Claim::Mine);
        }
        let holder = self.store.opt(
            "SELECT node FROM run_leases WHERE run = $1",
            params![run.to_owned()],
        )?;
        match holder {
            Some(row) => Ok(Claim::Held(row.try_get(0).map_err(pg_error)?)),
            // Released in between: it finished.
            None => self.claim(run, workflow),
        }
    }

    fn take_over(&self, limit: usize) -> Result<Vec<TakenOver>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = self.store.rows(
            "UPDATE run_leases l
             SET node = $1, expires_at = now() + make_interval(secs => $2), executing = false
             FROM (SELECT run FROM run_leases WHERE expires_at < now()
                   ORDER BY expires_at LIMIT $3 FOR UPDATE SKIP LOCKED) lapsed
             WHERE l.run = lapsed.run
             RETURNING l.run, l.workflow, l.cancel",
            params![self.node.clone(), self.secs(), limit as i64],
        )?;
        rows.iter()
            .map(|row| {
                Ok(TakenOver {
                    run: row.try_get(0).map_err(pg_error)?,
                    workflow: row.try_get(1).map_err(pg_error)?,
                    cancel: row.try_get(2).map_err(pg_error)?,
                })
            })
            .collect()
    }

    fn release(&self, run: &str) -> Result<(), StoreError> {
        self.store.exec(
            "DELETE FROM run_leases WHERE run = $1 AND node = $2",
            params![run.to_owned(), self.node.clone()],
        )?;
        Ok(())
    }

    fn request_cancel(&self, run: &str) -> Result<Option<String>, StoreError> {
        let row = self.store.opt(
            "UPDATE run_leases SET cancel = true
             WHERE run = $1 AND node <> $2 AND expires_at > now()
             RETURNING node",
            params![run.to_owned(), self.node.clone()],
        )?;
        row.map(|r| r.try_get(0).map_err(pg_error)).transpose()
    }

    fn lead(&self, role: &str) -> Result<bool, StoreError> {
        let row = self.store.opt(
            "INSERT INTO leaders (role, node, expires_at)
             VALUES ($1, $2, now() + make_interval(secs => $3))
             ON CONFLICT (role) DO UPDATE
             SET node = EXCLUDED.node, expires_at = EXCLUDED.expires_at
             WHERE leaders.node = EXCLUDED.node OR leaders.expires_at < now()
             RETURNING node",
            params![role.to_owned(), self.node.clone(), self.secs()],
        )?;
        Ok(row.is_some())
    }

    fn leave(&self) -> Result<(), StoreError> {
        let node = self.node.clone();
        self.store.block(move |pool| async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            let tx = client.transaction().await.map_err(pg_error)?;
            for sql in [
                "DELETE FROM leaders WHERE node = $1",
                "UPDATE run_leases SET expires_at = now() - interval '1 second',
                 executing = false WHERE node = $1",
                "UPDATE nodes SET expires_at = now() WHERE id = $1",
            ] {
                tx.execute(sql, &[&node]).await.map_err(pg_error)?;
            }
            tx.commit().await.map_err(pg_error)
        })
    }

    fn bump(&self, name: &str) -> Result<(), StoreError> {
        self.store.exec(
            "INSERT INTO generations (name, n) VALUES ($1, 1)
             ON CONFLICT (name) DO UPDATE SET n = generations.n + 1",
            params![name.to_owned()],
        )?;
        Ok(())
    }

    fn generation(&self, name: &str) -> Result<u64, StoreError> {
        let row = self.store.opt(
            "SELECT n FROM generations WHERE name = $1",
            params![name.to_owned()],
        )?;
        Ok(match row {
            Some(r) => r.try_get::<_, i64>(0).map_err(pg_error)?.max(0) as u64,
            None => 0,
        })
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.store.one("SELECT 1", params![]).map(|_| ())
    }

    fn held_elsewhere(&self, run: &str) -> Result<Option<String>, StoreError> {
        let row = self.store.opt(
            "SELECT node FROM run_leases WHERE run = $1 AND node <> $2 AND expires_at > now()",
            params![run.to_owned(), self.node.clone()],
        )?;
        row.map(|r| r.try_get(0).map_err(pg_error)).transpose()
    }

    fn unfinished(&self) -> Result<u64, StoreError> {
        let row = self
            .store
            .one("SELECT count(*) FROM run_leases", params![])?;
        Ok(row.try_get::<_, i64>(0).map_err(pg_error)?.max(0) as u64)
    }

    fn slot(&self, run: &str, workflow: &str, limit: usize) -> Result<Slot, StoreError> {
        let (run, workflow, node) = (run.to_owned(), workflow.to_owned(), self.node.clone());
        let limit = limit as i64;
        // One statement (`take_slot`, migrations/0003_slot.sql): the lock, the count and
        // the take in one transaction and one round trip.
        let row = self.store.one(
            "SELECT take_slot($1, $2, $3, $4, $5)",
            params![run, node, workflow, limit, SLOT_LOCK],
        )?;
        match row.try_get::<_, &str>(0).map_err(pg_error)? {
            "taken" => Ok(Slot::Taken),
            "full" => Ok(Slot::Full),
            "not_held" => Ok(Slot::NotHeld),
            other => Err(StoreError::Backend(format!("take_slot answered `{other}`"))),
        }
    }
}
