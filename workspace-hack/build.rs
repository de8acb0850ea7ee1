//! Empty on purpose, as in cargo-hakari's workspace-hack: cargo considers a package's
//! `[build-dependencies]` only when it has a build script, and this crate's turn on the
//! host-side features (of proc-macros and build scripts).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
}
