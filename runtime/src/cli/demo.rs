//! `sluice demo`: the new-user provisioning workflow, end to end, with nothing to set up. The
//! workflow and John Smith's input are compiled into the binary; JumpCloud is a fresh
//! sandbox organisation in memory (never the configured one), so the demo can run any
//! number of times; the run is recorded in the data dir like any other.

use std::path::PathBuf;

use super::{App, Failure, global_limits, workflow};

/// `examples/provision-user.yaml`, as shipped.
pub(crate) const WORKFLOW: &str = include_str!("../../../examples/provision-user.yaml");
/// The example new hire, John Smith.
const INPUT: &str = include_str!("../../../examples/inputs/provision-user.json");

pub(crate) async fn run(data_dir: Option<PathBuf>, json: bool) -> Result<(), Failure> {
    let dir = tempfile::tempdir()?;
    let wf = dir.path().join("provision-user.yaml");
    let input = dir.path().join("john-smith.json");
    std::fs::write(&wf, WORKFLOW)?;
    std::fs::write(&input, INPUT)?;
    let app = App::open_throwaway_simulator(data_dir, global_limits()?)?;
    eprintln!(
        "demo: provisioning the new hire John Smith into a throwaway sandbox organisation \
         ({}); nothing outside it is changed",
        app.jumpcloud.description
    );
    workflow::run_cmd(&app, &wf, Some(&input), None, json, 1).await?;
    eprintln!(
        "demo: the workflow is examples/provision-user.yaml; run it yourself with \
         `sluice run examples/provision-user.yaml --input examples/inputs/provision-user.json`"
    );
    Ok(())
}
