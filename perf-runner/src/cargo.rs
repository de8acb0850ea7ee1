//! The one way this project starts cargo from inside a process that cargo started.
//!
//! `cargo xtask …` runs xtask through `cargo run`, and the CLI tests run under `cargo test`;
//! cargo gives those processes the variables it sets for a crate (`CARGO_MANIFEST_DIR`,
//! `CARGO_PKG_NAME`, …). A nested cargo that inherits them passes them on to the build scripts,
//! and build scripts that declare them with `rerun-if-env-changed` (ring's does, for
//! `CARGO_MANIFEST_DIR`) are then out of date for every build started without them: ring,
//! rustls, libp2p and everything above recompiled whenever a `cargo build` from a shell
//! followed a nested one, or the other way round (measured: 79 s to re-check one benchmark
//! build; a release node's measured build time included that rebuild too). [`command`] clears
//! exactly those variables, so nested and direct builds share one set of artifacts.

use std::{ffi::OsStr, process::Command};

/// Variables cargo sets for the crate it builds or runs, which say nothing about the build a
/// nested cargo should make.
const CRATE_VARIABLES: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
];

/// Prefixes of such variables (`CARGO_PKG_VERSION`, `CARGO_BIN_EXE_swarm-node`, …).
const CRATE_VARIABLE_PREFIXES: &[&str] = &["CARGO_PKG_", "CARGO_BIN_EXE_"];

/// The cargo that started this process (`$CARGO`), or `cargo` from PATH.
fn program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// A `cargo` command whose environment is this process's without the crate variables, so its
/// builds reuse (and leave reusable) the artifacts of a `cargo` started from a shell.
pub fn command() -> Command {
    let mut command = Command::new(program());
    for (name, _) in std::env::vars_os() {
        if is_crate_variable(&name) {
            command.env_remove(&name);
        }
    }
    command
}

fn is_crate_variable(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    CRATE_VARIABLES.contains(&name) || CRATE_VARIABLE_PREFIXES.iter().any(|p| name.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_variables_are_recognised_and_configuration_is_kept() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_BIN_EXE_swarm-node",
            "CARGO_TARGET_TMPDIR",
        ] {
            assert!(is_crate_variable(OsStr::new(name)), "{name}");
        }
        // What configures cargo itself must reach the nested cargo.
        for name in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_PROFILE_DEV_DEBUG",
            "CARGO_BUILD_JOBS",
            "RUSTFLAGS",
        ] {
            assert!(!is_crate_variable(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    fn the_command_does_not_pass_crate_variables_on() {
        // Under `cargo test` this process has CARGO_MANIFEST_DIR and CARGO_PKG_NAME.
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        let command = command();
        let removed: Vec<&OsStr> = command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name)
            .collect();
        assert!(
            removed.contains(&OsStr::new("CARGO_MANIFEST_DIR")),
            "{removed:?}"
        );
        assert!(
            removed.contains(&OsStr::new("CARGO_PKG_NAME")),
            "{removed:?}"
        );
        assert!(!removed.contains(&OsStr::new("PATH")));
    }
}
