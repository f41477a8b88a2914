//! An engine for the engine's unit tests: the bundled plugins (loaded once per test process
//! through the compile cache the test suites share), a temporary store per engine, and a
//! connector broker that answers from the request's path: `/status/<n>` answers status `n`,
//! anything else 200 with the request (method, path, query, body) as its JSON body.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Engine, Progress, Quiet, RunRecord, StepRecord};
use crate::broker::{
    BrokerError, BrokerResponse, ConnectorRequest, HttpBroker, JumpCloudBroker, Unconfigured,
};
use crate::host::registry::Registry;
use crate::host::{HostConfig, PluginHost, Services};
use crate::store;
use crate::workflow::model::{WorkflowDoc, parse};

/// Answers connector calls from their path (see the module doc).
#[derive(Debug)]
struct PathBroker;

#[async_trait]
impl HttpBroker for PathBroker {
    async fn send(&self, req: ConnectorRequest) -> Result<BrokerResponse, BrokerError> {
        let status = req
            .path
            .strip_prefix("/status/")
            .and_then(|s| s.parse().ok())
            .unwrap_or(200);
        let body = json!({
            "connector": req.connector,
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "body": req.body,
        });
        Ok(BrokerResponse {
            status,
            headers: Vec::new(),
            body: body.to_string(),
            attempts: 1,
        })
    }
}

/// The registry the tests share: loading the bundled plugins once is most of its cost.
fn registry() -> Arc<Registry> {
    static SHARED: OnceLock<Arc<Registry>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let store = store::temporary().expect("temporary store");
            let jumpcloud: Arc<dyn JumpCloudBroker> = Arc::new(Unconfigured);
            let services = Services {
                jumpcloud,
                http: Arc::new(PathBroker),
                state: store.clone(),
            };
            let cache = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/tmp/component-cache");
            let config = HostConfig {
                cache_dir: Some(cache.into()),
                ..HostConfig::default()
            };
            let host = Arc::new(PluginHost::new(config, services).expect("plugin host"));
            Arc::new(Registry::new(host, store.clone(), store))
        })
        .clone()
}

/// A new engine over a store of its own.
pub(super) fn engine() -> Engine {
    Engine::new(registry(), store::temporary().expect("temporary store"))
}

/// A manual workflow named `name` with these steps (YAML, indented as list items).
pub(super) fn workflow(name: &str, steps: &str) -> WorkflowDoc {
    let text = format!(
        "version: 1\nname: {name}\ntrigger: {{ type: manual }}\nrun_as: Read Only\nsteps:\n{steps}"
    );
    parse("w.yaml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Records a run of `doc` (with `subs` as its sub-workflows) and executes it.
pub(super) async fn run_with(
    engine: &Engine,
    doc: WorkflowDoc,
    subs: Vec<WorkflowDoc>,
    input: Value,
    progress: &dyn Progress,
) -> (RunRecord, Vec<StepRecord>) {
    let subs: BTreeMap<String, WorkflowDoc> =
        subs.into_iter().map(|d| (d.name.clone(), d)).collect();
    let run = engine
        .create_run(
            doc,
            subs,
            Default::default(),
            input,
            json!({"type": "manual"}),
        )
        .expect("run recorded");
    let done = engine
        .execute(&run.id, progress)
        .await
        .expect("run executed");
    let journal = engine.journal(&run.id).expect("journal");
    (done, journal)
}

/// Runs a workflow of these steps on a new engine, with `input`.
pub(super) async fn run(steps: &str, input: Value) -> (RunRecord, Vec<StepRecord>) {
    run_with(&engine(), workflow("w", steps), Vec::new(), input, &Quiet).await
}

/// The journal's records by path.
pub(super) fn by_path(journal: &[StepRecord]) -> BTreeMap<&str, &StepRecord> {
    journal.iter().map(|r| (r.path.as_str(), r)).collect()
}

/// The first failed step of a run's report: its step id and error code (the report's
/// `type`).
pub(super) fn first_failure(run: &RunRecord) -> (String, String) {
    let report = run.report.as_ref().expect("a failure report");
    let f = &report["failed_steps"][0];
    (
        f["step"].as_str().unwrap_or_default().to_owned(),
        f["error"]["type"].as_str().unwrap_or_default().to_owned(),
    )
}
