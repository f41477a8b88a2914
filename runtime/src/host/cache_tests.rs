//! The compile cache refuses damaged, truncated and swapped artifacts: each is compiled
//! again, the file rewritten, and the plugin still runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use super::{CacheOutcome, HEADER_LEN};
use crate::broker::Unconfigured;
use crate::broker::permissions::Grants;
use crate::host::registry::BUNDLED;
use crate::host::{
    CallContext, HostConfig, LoadedPlugin, PluginHost, PluginKind, Services, digest,
};

fn bundled(file: &str) -> &'static [u8] {
    BUNDLED
        .iter()
        .find(|(f, _)| *f == file)
        .map(|(_, b)| *b)
        .unwrap_or_else(|| panic!("{file} is bundled"))
}

fn host(dir: &Path) -> PluginHost {
    let services = Services {
        jumpcloud: Arc::new(Unconfigured),
        http: Arc::new(Unconfigured),
        state: crate::store::temporary().expect("temporary store"),
    };
    let config = HostConfig {
        cache_dir: Some(dir.to_path_buf()),
        guest_threads: 1,
        ..HostConfig::default()
    };
    PluginHost::new(config, services).expect("plugin host")
}

fn cache_file(host: &PluginHost, bytes: &[u8]) -> PathBuf {
    host.cache.path(&digest(bytes)).expect("a cache dir")
}

async fn load(host: &PluginHost, bytes: &[u8]) -> LoadedPlugin {
    host.load("test", bytes)
        .await
        .expect("loads")
        .plugins
        .remove(0)
}

/// transform echoes its input: the loaded code is transform's and runs.
async fn assert_echoes(host: &PluginHost, plugin: &LoadedPlugin) {
    assert_eq!(plugin.manifest.name, "transform");
    let ctx = CallContext {
        run_id: "r".into(),
        workflow: "w".into(),
        step_id: "s".into(),
        attempt: 1,
        grants: Arc::new(Grants::default()),
        role: None,
        limits: host.limits(),
    };
    let input = json!({"user": "jane", "n": [1, 2]});
    let out = host.call(plugin, &ctx, &input.to_string()).await;
    assert_eq!(out.result.expect("the call succeeds"), input);
}

/// Writes `bad` over transform's cache file; the next load compiles again, runs, and leaves
/// a file the load after reads back.
async fn assert_replaced(host: &PluginHost, bytes: &[u8], bad: &[u8], what: &str) {
    let path = cache_file(host, bytes);
    std::fs::write(&path, bad).unwrap();
    let plugin = load(host, bytes).await;
    assert_eq!(plugin.cache, CacheOutcome::Replaced, "{what}");
    assert_echoes(host, &plugin).await;
    assert_ne!(std::fs::read(&path).unwrap(), bad, "{what}: rewritten");
    assert_eq!(load(host, bytes).await.cache, CacheOutcome::Hit, "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_or_truncated_artifact_is_compiled_again() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    let t = bundled("transform.wasm");
    let first = load(&host, t).await;
    assert_eq!(first.cache, CacheOutcome::Compiled);
    let again = load(&host, t).await;
    assert_eq!(again.cache, CacheOutcome::Hit);
    assert_echoes(&host, &again).await;
    let good = std::fs::read(cache_file(&host, t)).unwrap();
    assert!(good.len() > HEADER_LEN + 1000);

    // One byte of the artifact, one of the recorded component digest, one of the recorded
    // artifact digest, one of the engine hash, one of the format tag.
    for (at, what) in [
        (
            HEADER_LEN + (good.len() - HEADER_LEN) / 2,
            "a byte of the code",
        ),
        (good.len() - 1, "the last byte"),
        (8 + 5, "the component digest"),
        (8 + 32 + 5, "the engine hash"),
        (8 + 64 + 5, "the artifact digest"),
        (0, "the format tag"),
    ] {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        assert_replaced(&host, t, &bad, what).await;
    }
    // Truncated: within the artifact, within the header, empty.
    for len in [good.len() - 1, good.len() / 2, HEADER_LEN, 20, 0] {
        assert_replaced(&host, t, &good[..len], &format!("truncated to {len}")).await;
    }
    // A longer file whose header still claims the original length.
    let mut longer = good.clone();
    longer.extend_from_slice(&[0; 16]);
    assert_replaced(&host, t, &longer, "with bytes appended").await;
    // The artifact alone, as caches wrote it before headers.
    assert_replaced(&host, t, &good[HEADER_LEN..], "without a header").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifacts_swapped_between_components_are_compiled_again() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(dir.path());
    let (t, c) = (bundled("transform.wasm"), bundled("compare.wasm"));
    assert_eq!(load(&host, t).await.cache, CacheOutcome::Compiled);
    assert_eq!(load(&host, c).await.cache, CacheOutcome::Compiled);
    let (pt, pc) = (cache_file(&host, t), cache_file(&host, c));
    let (bt, bc) = (std::fs::read(&pt).unwrap(), std::fs::read(&pc).unwrap());
    std::fs::write(&pt, &bc).unwrap();
    std::fs::write(&pc, &bt).unwrap();

    let transform = load(&host, t).await;
    assert_eq!(transform.cache, CacheOutcome::Replaced);
    assert_eq!(transform.manifest.kind, PluginKind::Action);
    assert_echoes(&host, &transform).await;
    let compare = load(&host, c).await;
    assert_eq!(compare.cache, CacheOutcome::Replaced);
    assert_eq!(compare.manifest.name, "compare");
    assert_eq!(compare.manifest.kind, PluginKind::Condition);
    // Both files are each component's own again.
    assert_eq!(load(&host, t).await.cache, CacheOutcome::Hit);
    assert_eq!(load(&host, c).await.cache, CacheOutcome::Hit);
    assert_ne!(std::fs::read(&pt).unwrap(), bc);
}
