//! Measures building the bundled plugins both ways, side by side in one run: one component
//! per plugin (how they were built before packs: the single crates, and every catalogue
//! plugin through one cargo run per plugin kind) and what Sluice bundles now (the single
//! crates, and one pack per catalogue). Each way builds into a fresh target directory of
//! its own (dependencies included), then again after a catalogue source file changed, as
//! in everyday work. Prints a table (`--json` for JSON).
//!
//! `cargo run --release --locked -p sluice-plugin-build --bin bench-guests`
//! (`SLUICE_PLUGIN_PROFILE=plugin` for the release components).

use std::path::Path;
use std::time::Instant;

use sluice_plugin_build::{PluginCrate, build_plugins, bundled, one_component_per_plugin, profile};

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root");
    let entries = one_component_per_plugin(&root).unwrap_or_else(|e| fail(&e.to_string()));
    let per_plugin: Vec<PluginCrate<'_>> = entries.iter().map(PluginCrate::borrowed).collect();
    let packs: Vec<PluginCrate<'_>> = bundled().into_iter().map(|(_, c)| c).collect();
    let scratch = root.join("target/tmp/bench-guests");
    let touched = root.join("plugins/jumpcloud/src/users.rs");
    let mut rows = Vec::new();
    for (way, dir, crates) in [
        ("one component per plugin", "per-plugin", &per_plugin),
        ("one pack per catalogue", "packs", &packs),
    ] {
        let dir = scratch.join(dir);
        let _ = std::fs::remove_dir_all(&dir);
        // SAFETY: single-threaded; the builder reads it during the calls below only.
        unsafe { std::env::set_var("SLUICE_PLUGIN_TARGET_DIR", &dir) };
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in ["fresh", "after an edit"] {
            let started = Instant::now();
            let paths = build_plugins(&root, crates).unwrap_or_else(|e| fail(&e.to_string()));
            times.push(started.elapsed().as_secs_f64());
            bytes = paths
                .iter()
                .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
                .sum::<u64>();
            touch(&touched);
        }
        rows.push((way, crates.len(), bytes, times));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let base = &rows[0].3;
    if json {
        let rows: Vec<String> = rows
            .iter()
            .map(|(way, n, bytes, t)| {
                format!(
                    "{{\"way\":{way:?},\"components\":{n},\"bytes\":{bytes},\"fresh_s\":{:.1},\"after_edit_s\":{:.1}}}",
                    t[0], t[1]
                )
            })
            .collect();
        println!(
            "{{\"profile\":{:?},\"rows\":[{}]}}",
            profile(),
            rows.join(",")
        );
        return;
    }
    println!(
        "profile {}, each way in a fresh target directory",
        profile()
    );
    println!(
        "{:<26} {:>10} {:>10} {:>9} {:>7} {:>13} {:>7}",
        "way", "components", "MiB", "fresh s", "ratio", "after edit s", "ratio"
    );
    for (way, n, bytes, t) in &rows {
        println!(
            "{:<26} {:>10} {:>10.1} {:>9.1} {:>7.2} {:>13.1} {:>7.2}",
            way,
            n,
            *bytes as f64 / (1 << 20) as f64,
            t[0],
            t[0] / base[0],
            t[1],
            t[1] / base[1]
        );
    }
}

/// Changes a file's modification time, as an edit would.
fn touch(path: &Path) {
    let now = std::time::SystemTime::now();
    std::fs::File::options()
        .append(true)
        .open(path)
        .and_then(|f| f.set_modified(now))
        .unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
