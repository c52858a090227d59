//! Embeds `frontend/dist` (the output of `cd frontend && npm ci && npm run build`, including the
//! `.br` and `.gz` variants it writes) into the crate as a sorted table of `include_bytes!`.
//! No build: the table is empty, the crate still builds, and the server answers `/` with
//! `frontend_not_built`. `EDUGRAPH_WEBAPP_DIR` points at another build directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=EDUGRAPH_WEBAPP_DIR");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let frontend = manifest.join("../../frontend");
    let dist = std::env::var_os("EDUGRAPH_WEBAPP_DIR").map_or_else(|| frontend.join("dist"), PathBuf::from);
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        // Cargo scans a directory recursively for changes.
        println!("cargo:rerun-if-changed={}", dist.display());
        collect(&dist, &dist, &mut files);
    } else if frontend.is_dir() {
        // Not built yet: build again when it appears (as `frontend/dist`).
        println!("cargo:rerun-if-changed={}", frontend.display());
    }
    files.sort();
    let mut out = String::from("/// Every file of the build: (path relative to the build, bytes), sorted by path.\n");
    out.push_str("pub static FILES: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        writeln!(out, "    ({rel:?}, include_bytes!({:?})),", abs.display().to_string()).expect("write to a String");
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out_dir.join("files.rs"), out).expect("write files.rs");
}

/// Regular files under `dir` (symbolic links and hidden entries are left out).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else { continue };
        if name.starts_with('.') || kind.is_symlink() {
            continue;
        }
        let path = entry.path();
        if kind.is_dir() {
            collect(root, &path, files);
        } else if kind.is_file() {
            let rel = path.strip_prefix(root).expect("under the root").to_string_lossy().replace('\\', "/");
            let abs = path.canonicalize().unwrap_or(path);
            files.push((rel, abs));
        }
    }
}
