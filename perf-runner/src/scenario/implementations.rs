//! Mixed networks: `[[node_groups]]`, which nodes run another implementation than the run's
//! own node, and the registry of implementations a scenario may name.
//!
//! The registry lives here rather than in `cluster` because validation needs it (an unknown
//! name, a transport the implementation lacks) and `cluster` already depends on `scenario`.
//! A name resolves to a binary in this workspace (`js-libp2p` → `nodes/js-libp2p/bin/js-libp2p-node`);
//! `tasks::preflight` checks that it is installed before anything is built or started.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::{Locator, ScenarioError, Transport};

/// A node implementation that ships in this workspace and a scenario can name.
#[derive(Debug, PartialEq, Eq)]
pub struct Implementation {
    /// The name a scenario uses (`implementation = "js-libp2p"`), also its name in breakdowns.
    pub name: &'static str,
    /// Its start script or binary, relative to the workspace root.
    pub bin: &'static str,
    /// What must exist, relative to the workspace root, besides `bin` (installed dependencies).
    pub installed: &'static str,
    /// How to install it, for the error when it is missing.
    pub install: &'static str,
    /// The transports it speaks.
    pub transports: &'static [Transport],
}

/// Every implementation a scenario can name.
pub const KNOWN: &[Implementation] = &[Implementation {
    name: "js-libp2p",
    bin: "nodes/js-libp2p/bin/js-libp2p-node",
    installed: "nodes/js-libp2p/node_modules",
    install: "run `npm ci` in nodes/js-libp2p (or `cargo xtask test`, which does it)",
    transports: &[Transport::Tcp],
}];

impl Implementation {
    /// The implementation named `name`, if it is known.
    pub fn find(name: &str) -> Option<&'static Implementation> {
        KNOWN.iter().find(|i| i.name == name)
    }

    /// The binary the cluster starts for it.
    pub fn bin(&self) -> PathBuf {
        workspace_root().join(self.bin)
    }

    /// Whether its binary and its installed dependencies are there; if not, what is missing and
    /// how to install it.
    pub fn check_installed(&self) -> Result<(), String> {
        let root = workspace_root();
        for needed in [self.bin, self.installed] {
            if !root.join(needed).exists() {
                return Err(format!(
                    "the scenario runs nodes of implementation {}, but {} is missing: {}",
                    self.name,
                    root.join(needed).display(),
                    self.install
                ));
            }
        }
        Ok(())
    }
}

/// The workspace this perf-runner was built in: implementations' paths are relative to it.
fn workspace_root() -> PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `"js-libp2p"`, … for a message.
fn known_names() -> String {
    KNOWN
        .iter()
        .map(|i| format!("{:?}", i.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One `[[node_groups]]`: these nodes run `implementation` instead of the run's own node.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NodeGroup {
    /// A name from [`KNOWN`].
    pub implementation: String,
    /// Node indices.
    pub nodes: Vec<usize>,
}

/// `[[node_groups]]` as serde reads it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNodeGroup {
    implementation: Spanned<String>,
    nodes: Spanned<Vec<Spanned<i64>>>,
}

/// Checks the node groups: a known implementation that speaks `transport`, node indices in
/// range, at least one per group, none in two groups.
pub(super) fn node_groups(
    raw: &[RawNodeGroup],
    nodes: usize,
    transport: Transport,
    transport_span: Option<std::ops::Range<usize>>,
    loc: &Locator,
) -> Result<Vec<NodeGroup>, ScenarioError> {
    let mut owner: Vec<Option<usize>> = vec![None; nodes];
    let mut groups = Vec::with_capacity(raw.len());
    for (g, group) in raw.iter().enumerate() {
        let name = group.implementation.get_ref();
        let Some(implementation) = Implementation::find(name) else {
            return Err(loc.error(
                group.implementation.span(),
                format!(
                    "unknown implementation {name:?}; known: {} (nodes in no group run the run's own node, swarm-node unless --node-bin)",
                    known_names()
                ),
            ));
        };
        if !implementation.transports.contains(&transport) {
            let speaks: Vec<&str> = implementation
                .transports
                .iter()
                .map(|t| t.as_str())
                .collect();
            // At the transport when the file sets it (or the flag that did), else at the name.
            let span = transport_span
                .clone()
                .unwrap_or_else(|| group.implementation.span());
            return Err(loc.error(
                span,
                format!(
                    "transport {transport} is not spoken by implementation {name} (node_groups), which speaks only {}",
                    speaks.join(", ")
                ),
            ));
        }
        let mut members = Vec::new();
        for n in group.nodes.get_ref() {
            let i = *n.get_ref();
            if i < 0 || i as usize >= nodes {
                return Err(loc.error(
                    n.span(),
                    format!(
                        "a node group names node {i}, but the scenario has nodes 0 to {}",
                        nodes - 1
                    ),
                ));
            }
            let i = i as usize;
            if let Some(other) = owner[i] {
                let what = if other == g {
                    "twice in this group".to_owned()
                } else {
                    format!(
                        "in two node groups ({} and {name})",
                        raw[other].implementation.get_ref()
                    )
                };
                return Err(loc.error(n.span(), format!("node {i} is {what}")));
            }
            owner[i] = Some(g);
            members.push(i);
        }
        if members.is_empty() {
            return Err(loc.error(group.nodes.span(), "a node group needs at least one node"));
        }
        groups.push(NodeGroup {
            implementation: name.clone(),
            nodes: members,
        });
    }
    Ok(groups)
}
