//! Builds the plugins written for the tests (`tests/plugins/*`) into components and tells
//! the tests where they are.

use sluice_plugin_build::{PluginCrate, build_for_build_script};

const PLUGINS: &[PluginCrate<'static>] = &[
    PluginCrate::single("hostile", "tests/plugins/hostile"),
    PluginCrate::single("bad-manifest", "tests/plugins/bad-manifest"),
];

fn main() {
    let paths = build_for_build_script(PLUGINS);
    println!(
        "cargo:rustc-env=SLUICE_TEST_HOSTILE_WASM={}",
        paths[0].display()
    );
    println!(
        "cargo:rustc-env=SLUICE_TEST_BAD_MANIFEST_WASM={}",
        paths[1].display()
    );
}
