//! Measures building the bundled plugins both ways, side by side in one run: one cargo run
//! per component (how they were built before catalogues were built in one run per kind)
//! and [`sluice_plugin_build::build_plugins`]. Each way builds into a fresh target
//! directory of its own (dependencies included), then again after a catalogue source file
//! changed, as in everyday work. Prints a table (`--json` for JSON).
//!
//! `cargo run --release --locked -p sluice-plugin-build --bin bench-guests`
//! (`SLUICE_PLUGIN_PROFILE=plugin` for the release components).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sluice_plugin_build::{PluginCrate, TARGET, build_plugins, bundled, profile};

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root");
    let entries = bundled(&root).unwrap_or_else(|e| fail(&e.to_string()));
    let crates: Vec<PluginCrate<'_>> = entries.iter().map(PluginCrate::borrowed).collect();
    let scratch = root.join("target/tmp/bench-guests");
    let touched = root.join("plugins/jumpcloud/src/users.rs");
    let mut rows = Vec::new();
    for (way, runs) in [
        ("one cargo run per component", crates.len()),
        ("one run per kind", 0),
    ] {
        let dir = scratch.join(if runs > 0 {
            "per-component"
        } else {
            "per-kind"
        });
        let _ = std::fs::remove_dir_all(&dir);
        let mut times = Vec::new();
        for _ in ["fresh", "after an edit"] {
            let started = Instant::now();
            if runs > 0 {
                per_component(&root, &dir, &crates);
            } else {
                // SAFETY: single-threaded; the builder reads it for this call only.
                unsafe { std::env::set_var("SLUICE_PLUGIN_TARGET_DIR", &dir) };
                build_plugins(&root, &crates).unwrap_or_else(|e| fail(&e.to_string()));
            }
            times.push(started.elapsed().as_secs_f64());
            touch(&touched);
        }
        rows.push((way, if runs > 0 { runs } else { kinds(&crates) }, times));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let base = &rows[0].2;
    if json {
        let rows: Vec<String> = rows
            .iter()
            .map(|(way, runs, t)| {
                format!(
                    "{{\"way\":{way:?},\"cargo_runs\":{runs},\"fresh_s\":{:.1},\"after_edit_s\":{:.1}}}",
                    t[0], t[1]
                )
            })
            .collect();
        println!(
            "{{\"profile\":{:?},\"components\":{},\"rows\":[{}]}}",
            profile(),
            crates.len(),
            rows.join(",")
        );
        return;
    }
    println!(
        "{} components, profile {}, each way in a fresh target directory",
        crates.len(),
        profile()
    );
    println!(
        "{:<30} {:>10} {:>10} {:>8} {:>14} {:>8}",
        "way", "cargo runs", "fresh s", "ratio", "after edit s", "ratio"
    );
    for (way, runs, t) in &rows {
        println!(
            "{:<30} {:>10} {:>10.1} {:>8.2} {:>14.1} {:>8.2}",
            way,
            runs,
            t[0],
            t[0] / base[0],
            t[1],
            t[1] / base[1]
        );
    }
}

/// How many cargo runs `build_plugins` makes: one per single crate, one per plugin kind.
fn kinds(crates: &[PluginCrate<'_>]) -> usize {
    let singles = crates.iter().filter(|c| c.feature.is_none()).count();
    let catalogue = crates.iter().any(|c| c.feature.is_some());
    singles + if catalogue { 3 } else { 0 }
}

/// The way before: `cargo build -p PACKAGE [--features PLUGIN]`, once per component.
fn per_component(root: &Path, dir: &PathBuf, crates: &[PluginCrate<'_>]) {
    for c in crates {
        let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cmd.current_dir(root)
            .args([
                "build",
                "--profile",
                &profile(),
                "--target",
                TARGET,
                "-p",
                c.package,
            ])
            .arg("--target-dir")
            .arg(dir);
        if let Some(f) = c.feature {
            cmd.args(["--features", f]);
        }
        let out = cmd.output().unwrap_or_else(|e| fail(&e.to_string()));
        if !out.status.success() {
            fail(&String::from_utf8_lossy(&out.stderr));
        }
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
