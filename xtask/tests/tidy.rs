//! Repository invariants, checked as plain tests (after rust-analyzer's `tidy.rs`).

use std::path::{Path, PathBuf};

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() && name != "target" && !name.starts_with('.') {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&project_root(), &mut files);
    assert!(files.len() > 10, "found only {files:?}");
    let undocumented: Vec<_> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            !(first.starts_with("//!") || first.starts_with("#![doc = include_str!"))
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "files without a leading //! doc: {undocumented:?}"
    );
}

#[test]
fn ci_runs_exactly_the_readme_test_command() {
    let root = project_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    assert!(
        readme.contains("cargo xtask test"),
        "README must show the test command"
    );
    assert!(
        readme.contains("cargo xtask perf standard"),
        "README must show the main command"
    );
    assert!(
        ci.lines().any(|l| l.trim() == "exec cargo xtask test"),
        ".ci/run must run `cargo xtask test`"
    );
}

#[test]
fn the_installed_iai_callgrind_runner_matches_the_benches_crate() {
    // iai-callgrind refuses a runner of another version; the installer and the check in
    // perf-runner use IAI_CALLGRIND_VERSION, which must be what benches/ pins.
    let manifest = std::fs::read_to_string(project_root().join("benches/Cargo.toml")).unwrap();
    let pinned = format!(
        "iai-callgrind = \"={}\"",
        perf_runner::tasks::bench::IAI_CALLGRIND_VERSION
    );
    assert!(
        manifest.contains(&pinned),
        "benches/Cargo.toml must pin {pinned}"
    );
}

#[test]
fn only_the_output_module_names_the_output_root() {
    // ARCHITECTURE.md: every path under target/perf comes from perf-runner's data/output.rs.
    // Comments and unit tests may mention the default root; code may not build it.
    let root = project_root();
    let mut files = Vec::new();
    rust_files(&root.join("perf-runner/src"), &mut files);
    rust_files(&root.join("xtask/src"), &mut files);
    let output = root.join("perf-runner/src/data/output.rs");
    assert!(files.contains(&output), "found only {files:?}");
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| **f != output)
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("").to_owned();
            code.lines()
                .enumerate()
                .filter(|(_, l)| !l.trim_start().starts_with("//") && l.contains("target/perf"))
                .map(|(i, l)| format!("{}:{}: {}", f.display(), i + 1, l.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "build output paths with data::output::OutputRoot instead:\n{}",
        offenders.join("\n")
    );
}
