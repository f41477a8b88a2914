//! Builds the bundled plugins (`plugins/transform`, `compare`, `http-request`, and every
//! plugin of the JumpCloud catalogue `plugins/jumpcloud` and of the connector plugins
//! `plugins/connectors`, one component each) and embeds them in the `sluice` binary; embeds
//! the web console's build too (`build_console.rs`).

mod build_console;

use std::path::Path;

use sluice_plugin_build::{PluginCrate, build_for_build_script, catalogue_plugins};

const BUNDLED: &[PluginCrate<'static>] = &[
    PluginCrate::single("transform", "plugins/transform"),
    PluginCrate::single("compare", "plugins/compare"),
    PluginCrate::single("http-request", "plugins/http-request"),
];

/// Catalogue crates, which declare many plugins (`sluice_plugin::components!`), each with
/// the cargo feature that builds it alone: (package, directory).
const CATALOGUES: &[(&str, &str)] = &[
    ("sluice-jumpcloud", "plugins/jumpcloud"),
    ("sluice-connectors", "plugins/connectors"),
];

fn main() {
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it");
    let root = Path::new(&manifest_dir).parent().unwrap_or(Path::new("."));
    let features: Vec<Vec<String>> = CATALOGUES
        .iter()
        .map(|(_, dir)| match catalogue_plugins(root, dir) {
            Ok(plugins) => plugins.into_iter().map(|p| p.name).collect(),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        })
        .collect();
    let mut crates = BUNDLED.to_vec();
    for ((package, dir), features) in CATALOGUES.iter().zip(&features) {
        crates.extend(features.iter().map(|f| PluginCrate {
            package,
            dir,
            feature: Some(f),
        }));
    }
    let paths = build_for_build_script(&crates);
    let mut code = String::from("&[\n");
    for (c, path) in crates.iter().zip(&paths) {
        code.push_str(&format!(
            "    ({:?}, include_bytes!({:?}) as &[u8]),\n",
            format!("{}.wasm", c.feature.unwrap_or(c.package)),
            path.display().to_string()
        ));
    }
    code.push(']');
    std::fs::write(Path::new(&out_dir).join("bundled.rs"), code).expect("write bundled.rs");
    build_console::embed(root, Path::new(&out_dir));
}
