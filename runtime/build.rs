//! Builds the bundled plugins (`plugins/transform`, `compare`, `http-request`) into
//! components and embeds them in the `sluice` binary.

use std::path::Path;

use sluice_plugin_build::{PluginCrate, build_for_build_script};

const BUNDLED: &[PluginCrate<'static>] = &[
    PluginCrate {
        package: "transform",
        dir: "plugins/transform",
    },
    PluginCrate {
        package: "compare",
        dir: "plugins/compare",
    },
    PluginCrate {
        package: "http-request",
        dir: "plugins/http-request",
    },
];

fn main() {
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let paths = build_for_build_script(BUNDLED);
    let mut code = String::from("&[\n");
    for (c, path) in BUNDLED.iter().zip(&paths) {
        code.push_str(&format!(
            "    ({:?}, include_bytes!({:?}) as &[u8]),\n",
            format!("{}.wasm", c.package),
            path.display().to_string()
        ));
    }
    code.push(']');
    std::fs::write(Path::new(&out_dir).join("bundled.rs"), code).expect("write bundled.rs");
}
