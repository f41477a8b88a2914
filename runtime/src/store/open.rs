//! Opening the store of a data dir, and moving what older versions kept beside it.

use std::path::Path;
use std::sync::Arc;

use super::{SledStore, Store, StoreError};

/// Opens (or creates) the store: the PostgreSQL database at `database` when given
/// (`--database` / `SLUICE_DATABASE_URL`), else the sled database in `<data-dir>/store`. A
/// sled store held by another process gives [`StoreError::Locked`].
///
/// This is the one place a backend is chosen; everything above works on the returned
/// `Arc<dyn Store>` whichever backend is behind it. The data dir stays in use either way:
/// it holds the compiled-component cache, which is per machine.
///
/// Components that older versions kept as files (`<data-dir>/plugins/<digest>.wasm`) are
/// moved into the store on the way (see [`adopt_component_files`]).
pub fn open(data_dir: &Path, database: Option<&str>) -> Result<Arc<dyn Store>, StoreError> {
    let store = match database {
        Some(url) => open_database(url)?,
        None => Arc::new(SledStore::open(&data_dir.join("store"))?) as Arc<dyn Store>,
    };
    adopt_component_files(data_dir, &*store)?;
    Ok(store)
}

/// Opens the PostgreSQL database at `url` (`postgres://user:password@host:port/db`),
/// bringing its schema up to date. `?options=-csearch_path%3DNAME` keeps the tables in the
/// schema NAME (created when missing), so several installations can share one database.
pub fn open_database(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(super::PgStore::open(url)?))
}

/// A throwaway store in a fresh schema of the PostgreSQL database at `url` (benchmarks):
/// its URL (for other processes), and the store, whose schema goes when [`Scratch`] is
/// dropped.
pub fn scratch_database(url: &str) -> Result<Scratch, StoreError> {
    let schema = format!("sluice_scratch_{:016x}", fastrand::u64(..));
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-csearch_path%3D{schema}");
    let store = super::PgStore::open_in_schema(url, &schema)?;
    Ok(Scratch {
        url: scoped,
        store: Arc::new(store),
    })
}

/// A store in a schema of its own, dropped with it.
#[derive(Debug)]
pub struct Scratch {
    /// The database URL with the schema in its options.
    pub url: String,
    store: Arc<super::PgStore>,
}

impl Scratch {
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = self.store.drop_schema() {
            tracing::warn!("cannot drop a scratch schema: {e}");
        }
    }
}

/// A throwaway in-memory store (tests, benchmarks).
pub fn temporary() -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(SledStore::temporary()?))
}

/// Where older versions kept installed components, under the data dir.
const COMPONENT_DIR: &str = "plugins";

/// Moves the components found in `<data-dir>/plugins/` (`<digest>.wasm`, as older versions
/// kept them) into `store`, once: each is stored and made durable before its file is
/// deleted, so an interrupted move is finished by the next open and nothing is lost. Files
/// an interrupted install left half-written (`<digest>.tmp`) are deleted; anything else in
/// the directory is left alone (and the directory with it). Returns how many were moved.
pub(super) fn adopt_component_files(
    data_dir: &Path,
    store: &dyn Store,
) -> Result<usize, StoreError> {
    let dir = data_dir.join(COMPONENT_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(moving(&dir, e)),
    };
    let (mut components, mut leftovers) = (Vec::new(), Vec::new());
    for entry in entries {
        let path = entry.map_err(|e| moving(&dir, e))?.path();
        let Some((stem, ext)) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.rsplit_once('.'))
        else {
            continue;
        };
        if !is_digest(stem) {
            continue;
        }
        match ext {
            "wasm" => components.push((stem.to_owned(), path)),
            "tmp" => leftovers.push(path),
            _ => {}
        }
    }
    for (digest, path) in &components {
        if !store.blob_exists(digest)? {
            let bytes = std::fs::read(path).map_err(|e| moving(path, e))?;
            store.blob_put(digest, &bytes)?;
        }
    }
    // Every component is durable in the store before any file goes.
    store.flush()?;
    for path in components.iter().map(|(_, p)| p).chain(&leftovers) {
        std::fs::remove_file(path).map_err(|e| moving(path, e))?;
    }
    // Gone when nothing else was kept there.
    let _ = std::fs::remove_dir(&dir);
    Ok(components.len())
}

/// A sha256 in lower-case hex, as components are named.
fn is_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn moving(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Backend(format!(
        "cannot move the installed component {} into the store: {e}",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn component_files_move_into_the_store_once_and_the_directory_goes() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join(COMPONENT_DIR);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join(format!("{A}.wasm")), b"component a").unwrap();
        std::fs::write(dir.join(format!("{B}.wasm")), b"component b").unwrap();
        std::fs::write(dir.join(format!("{B}.tmp")), b"half written").unwrap();
        {
            let store = open(data.path(), None).unwrap();
            assert_eq!(
                store.blob_get(A).unwrap().as_deref(),
                Some(&b"component a"[..])
            );
            assert_eq!(
                store.blob_get(B).unwrap().as_deref(),
                Some(&b"component b"[..])
            );
            assert!(!dir.exists(), "the old directory is gone");
        }
        // Kept across a reopen, and nothing is moved again.
        let store = open(data.path(), None).unwrap();
        let mut kept = store.blob_list().unwrap();
        kept.sort();
        assert_eq!(kept, [B, A]);
        assert_eq!(adopt_component_files(data.path(), &*store).unwrap(), 0);
    }

    #[test]
    fn files_that_are_not_components_stay_and_a_finished_move_is_not_redone() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join(COMPONENT_DIR);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
        std::fs::write(dir.join("short.wasm"), b"not named by a digest").unwrap();
        // A move interrupted after the store kept the component: the file is a leftover,
        // and the stored bytes stand.
        std::fs::write(dir.join(format!("{A}.wasm")), b"leftover").unwrap();
        let store = temporary().unwrap();
        store.blob_put(A, b"stored").unwrap();
        assert_eq!(adopt_component_files(data.path(), &*store).unwrap(), 1);
        assert_eq!(store.blob_get(A).unwrap().as_deref(), Some(&b"stored"[..]));
        assert_eq!(store.blob_list().unwrap(), [A]);
        assert!(dir.join("notes.txt").is_file() && dir.join("short.wasm").is_file());
        assert!(!dir.join(format!("{A}.wasm")).exists());
    }
}
