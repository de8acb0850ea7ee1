//! Empty on purpose: this crate exists for its dependencies (see its Cargo.toml).
