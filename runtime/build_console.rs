//! The web console's files, embedded in the binary: writes `console_assets.rs` (a table of
//! `(path, include_bytes!(…))`) from `console/dist` when it holds a build (`index.html`),
//! an empty table otherwise, so building the binary never needs Node.
//!
//! Cargo watches `console/dist` when it exists, else the whole `console/` folder (so that a
//! first console build is noticed); a new console build makes the next `cargo build` embed
//! it.

use std::path::{Path, PathBuf};

pub fn embed(root: &Path, out_dir: &Path) {
    let dist = root.join("console").join("dist");
    let watched = if dist.is_dir() {
        dist.clone()
    } else {
        root.join("console")
    };
    println!("cargo:rerun-if-changed={}", watched.display());
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        collect(&dist, &dist, &mut files);
    }
    files.sort();
    let mut code = String::from("&[\n");
    for (rel, path) in &files {
        code.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?}) as &[u8]),\n",
            path.display().to_string()
        ));
    }
    code.push(']');
    std::fs::write(out_dir.join("console_assets.rs"), code).expect("write console_assets.rs");
}

/// Every file under `dir` but dotfiles, as (path relative to `base` with `/`, full path).
fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(base, &path, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((rel.join("/"), path));
        }
    }
}
