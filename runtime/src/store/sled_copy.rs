//! Reading out every record of the sled store ([`Export`]), for `sluice store copy`. Keys
//! are taken apart as `sled_store.rs` builds them.

use std::collections::BTreeMap;

use super::{SIMULATOR_LOG, SIMULATOR_SNAPSHOT, SledStore, Usage, backend};
use crate::store::StoreError;
use crate::store::copy::{Counts, Export, Record, Sink, Table};

impl SledStore {
    /// The trees that hold one table each, record for record.
    fn table_trees(&self) -> [(Table, &sled::Tree); 18] {
        [
            (Table::Runs, &self.runs),
            (Table::Journal, &self.journal),
            (Table::RunInputs, &self.run_inputs),
            (Table::Workflows, &self.workflows),
            (Table::WorkflowVersions, &self.versions),
            (Table::Tokens, &self.tokens),
            (Table::Audit, &self.audit),
            (Table::Triggers, &self.triggers),
            (Table::Fires, &self.fires),
            (Table::FireExpiry, &self.fire_expiry),
            (Table::Plugins, &self.plugins),
            (Table::Blobs, &self.components),
            (Table::TrustedKeys, &self.trusted_keys),
            (Table::Settings, &self.settings),
            (Table::Secrets, &self.secrets),
            (Table::Connectors, &self.connectors),
            (Table::Roles, &self.roles),
            (Table::State, &self.state),
        ]
    }

    /// Every state owner's usage: its stored record, or for an owner whose state was
    /// written before usage was counted (and not touched since), the count of its state,
    /// as the next state call would make it.
    fn all_usage(&self) -> Result<BTreeMap<Vec<u8>, Usage>, StoreError> {
        let mut counted: BTreeMap<Vec<u8>, Usage> = BTreeMap::new();
        for kv in self.state.iter() {
            let (k, v) = kv.map_err(backend)?;
            let (_, owner, key) = state_parts(&k)?;
            let usage = counted.entry(owner.to_vec()).or_default();
            usage.keys += 1;
            usage.bytes += (key.len() + v.len()) as u64;
        }
        for kv in self.state_usage.iter() {
            let (owner, v) = kv.map_err(backend)?;
            counted.insert(owner.to_vec(), Usage::decode(Some(&v[..])));
        }
        Ok(counted)
    }
}

impl Export for SledStore {
    fn counts(&self) -> Result<Counts, StoreError> {
        let mut counts = Counts::default();
        for (table, tree) in self.table_trees() {
            let mut n = 0;
            for key in tree.iter().keys() {
                key.map_err(backend)?;
                n += 1;
            }
            counts.set(table, n);
        }
        counts.set(Table::StateUsage, self.all_usage()?.len() as u64);
        let snapshot = self
            .simulator
            .contains_key(SIMULATOR_SNAPSHOT)
            .map_err(backend)?;
        counts.set(Table::SimulatorSnapshot, u64::from(snapshot));
        let mut log = 0;
        for key in self.simulator.scan_prefix(SIMULATOR_LOG).keys() {
            key.map_err(backend)?;
            log += 1;
        }
        counts.set(Table::SimulatorLog, log);
        Ok(counts)
    }

    fn export(&self, sink: &mut Sink<'_>) -> Result<(), StoreError> {
        // Tree order is key order: runs by id, journal by run then write order (a
        // process-wide increasing id), the audit log by its increasing id.
        for (table, tree) in self.table_trees() {
            for kv in tree.iter() {
                let (k, v) = kv.map_err(backend)?;
                sink(record(table, &k, v.to_vec())?)?;
            }
        }
        for (owner, usage) in self.all_usage()? {
            sink(Record::StateUsage {
                owner,
                keys: usage.keys,
                bytes: usage.bytes,
            })?;
        }
        if let Some(snapshot) = self.simulator.get(SIMULATOR_SNAPSHOT).map_err(backend)? {
            sink(Record::SimulatorSnapshot {
                snapshot: snapshot.to_vec(),
            })?;
        }
        for change in self.simulator.scan_prefix(SIMULATOR_LOG).values() {
            sink(Record::SimulatorChange {
                change: change.map_err(backend)?.to_vec(),
            })?;
        }
        Ok(())
    }
}

fn corrupt(table: Table, key: &[u8], reason: &str) -> StoreError {
    StoreError::Corrupt {
        key: format!("{}/{}", table.name(), String::from_utf8_lossy(key)),
        reason: reason.to_owned(),
    }
}

fn text(table: Table, key: &[u8], bytes: &[u8]) -> Result<String, StoreError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| corrupt(table, key, "text that is not UTF-8"))
}

/// A state key's workflow, owner and key.
type StateParts<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// `workflow \0 owner \0 key` (the key may hold `\0` itself).
fn state_parts(k: &[u8]) -> Result<StateParts<'_>, StoreError> {
    let mut parts = k.splitn(3, |b| *b == 0);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(w), Some(o), Some(key)) => Ok((w, o, key)),
        _ => Err(corrupt(
            Table::State,
            k,
            "a state key without its namespace",
        )),
    }
}

/// The record under key `k` with value `v` of a table kept in a tree of its own.
fn record(table: Table, k: &[u8], v: Vec<u8>) -> Result<Record, StoreError> {
    let key = || text(table, k, k);
    Ok(match table {
        Table::Runs => Record::Run {
            id: key()?,
            record: v,
        },
        Table::Journal => {
            // `run \0 id` (id: 8 bytes).
            let run = k
                .len()
                .checked_sub(9)
                .filter(|at| k[*at] == 0)
                .map(|at| &k[..at])
                .ok_or_else(|| corrupt(table, k, "a journal key without its run"))?;
            Record::Journal {
                run: text(table, k, run)?,
                record: v,
            }
        }
        Table::RunInputs => Record::RunInput {
            run: key()?,
            input: v,
        },
        Table::Workflows => Record::Workflow {
            name: key()?,
            record: v,
        },
        Table::WorkflowVersions => {
            // `name \0 version` (version: 4 bytes, big-endian).
            let at = k
                .len()
                .checked_sub(5)
                .filter(|at| k[*at] == 0)
                .ok_or_else(|| corrupt(table, k, "a version key without its number"))?;
            let mut version = [0; 4];
            version.copy_from_slice(&k[at + 1..]);
            Record::Version {
                name: text(table, k, &k[..at])?,
                version: u32::from_be_bytes(version),
                record: v,
            }
        }
        Table::Tokens => Record::Token {
            hash: key()?,
            record: v,
        },
        Table::Audit => Record::Audit { entry: v },
        Table::Triggers => Record::Trigger {
            key: key()?,
            value: v,
        },
        Table::Fires => Record::Fire {
            fire: key()?,
            run: text(table, k, &v)?,
        },
        Table::FireExpiry => {
            // `at (8 bytes, big-endian) ++ fire`.
            if k.len() < 8 {
                return Err(corrupt(table, k, "an expiry key without its time"));
            }
            let mut at = [0; 8];
            at.copy_from_slice(&k[..8]);
            Record::FireExpiry {
                at: u64::from_be_bytes(at),
                fire: text(table, k, &k[8..])?,
            }
        }
        Table::Plugins => Record::Plugin {
            id: key()?,
            record: v,
        },
        Table::Blobs => Record::Blob {
            digest: key()?,
            bytes: v,
        },
        Table::TrustedKeys => Record::TrustedKey {
            name: key()?,
            record: v,
        },
        Table::Settings => Record::Setting {
            key: key()?,
            value: v,
        },
        Table::Secrets => Record::Secret {
            name: key()?,
            sealed: v,
        },
        Table::Connectors => Record::Connector {
            name: key()?,
            def: v,
        },
        Table::Roles => Record::Role {
            name: key()?,
            record: v,
        },
        Table::State => {
            let (workflow, owner, key) = state_parts(k)?;
            Record::State {
                workflow: workflow.to_vec(),
                owner: owner.to_vec(),
                key: key.to_vec(),
                value: v,
            }
        }
        Table::StateUsage | Table::SimulatorSnapshot | Table::SimulatorLog => {
            return Err(StoreError::Backend(format!(
                "the {} table is not kept in a tree of its own",
                table.name()
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{StateNamespace, StateQuota, StateStore as _};

    #[test]
    fn usage_is_counted_for_state_written_before_usage_was() {
        let s = SledStore::temporary().unwrap();
        let ns = StateNamespace {
            workflow: "w".into(),
            owner: "o".into(),
        };
        s.state_set(&ns, "k", "value", StateQuota::DEFAULT).unwrap();
        // State as an older version left it: a key with no usage record for its owner.
        s.state
            .insert(b"w\0old\0key\0with nul", &b"vv"[..])
            .unwrap();
        let mut usage = Vec::new();
        s.export(&mut |r| {
            if let Record::StateUsage { owner, keys, bytes } = r {
                usage.push((owner, keys, bytes));
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(
            usage,
            [(b"o".to_vec(), 1, 6), (b"old".to_vec(), 1, 14)],
            "the stored record, and the old owner's state counted as a state call would"
        );
        assert_eq!(s.counts().unwrap().get(Table::StateUsage), 2);
        assert_eq!(s.state_usage("old").unwrap(), (1, 14));
    }

    #[test]
    fn a_key_that_cannot_be_taken_apart_is_corrupt_and_stops_the_export() {
        let s = SledStore::temporary().unwrap();
        s.journal.insert(b"short", &b"{}"[..]).unwrap();
        let err = s.export(&mut |_| Ok(())).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt { key, .. } if key == "journal/short"),
            "{err}"
        );
    }
}
