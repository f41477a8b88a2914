//! Builds the bundled plugins (`plugins/transform`, `compare`, `http-request`, one component
//! each, and the JumpCloud catalogue `plugins/jumpcloud` and the connector plugins
//! `plugins/connectors`, one pack each) and embeds them in the `sluice` binary; embeds
//! the web console's build too (`build_console.rs`). Without the `bundled-plugins` feature
//! (on by default) no plugin is built, so a check of host code builds no guest.

mod build_console;

use std::path::Path;

use sluice_plugin_build::{PluginCrate, build_for_build_script, bundled};

fn main() {
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it");
    let root = Path::new(&manifest_dir).parent().unwrap_or(Path::new("."));
    build_console::embed(root, Path::new(&out_dir));
    if std::env::var_os("CARGO_FEATURE_BUNDLED_PLUGINS").is_none() {
        // A check of host code (`--no-default-features`): no plugin is compiled.
        std::fs::write(Path::new(&out_dir).join("bundled.rs"), "&[]").expect("write bundled.rs");
        return;
    }
    let bundled = bundled();
    let crates: Vec<PluginCrate<'_>> = bundled.iter().map(|(_, c)| *c).collect();
    let paths = build_for_build_script(&crates);
    let mut code = String::from("&[\n");
    for ((file, _), path) in bundled.iter().zip(&paths) {
        code.push_str(&format!(
            "    ({file:?}, include_bytes!({:?}) as &[u8]),\n",
            path.display().to_string()
        ));
    }
    code.push(']');
    std::fs::write(Path::new(&out_dir).join("bundled.rs"), code).expect("write bundled.rs");
}
