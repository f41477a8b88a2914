//! Builds the plugins written for the tests (`tests/plugins/*`) into components and tells
//! the tests where they are.

use std::path::Path;

use sluice_plugin_build::{PluginCrate, build_plugins};

const PLUGINS: &[PluginCrate<'static>] = &[
    PluginCrate {
        package: "hostile",
        dir: "tests/plugins/hostile",
    },
    PluginCrate {
        package: "bad-manifest",
        dir: "tests/plugins/bad-manifest",
    },
];

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir)
        .parent()
        .expect("tests/ sits in the workspace");
    match build_plugins(root, PLUGINS) {
        Ok(paths) => {
            println!(
                "cargo:rustc-env=SLUICE_TEST_HOSTILE_WASM={}",
                paths[0].display()
            );
            println!(
                "cargo:rustc-env=SLUICE_TEST_BAD_MANIFEST_WASM={}",
                paths[1].display()
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
