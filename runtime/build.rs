//! Builds the bundled plugins (`plugins/transform`, `compare`, `http-request`) into
//! components and embeds them in the `sluice` binary.

use std::path::Path;

use sluice_plugin_build::{PluginCrate, build_plugins};

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
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir)
        .parent()
        .expect("runtime/ sits in the workspace");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let paths = match build_plugins(root, BUNDLED) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
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
