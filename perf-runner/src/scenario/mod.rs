//! Scenario files: parse and validate, with errors that point at `file:line:col`.
//!
//! A scenario is data, not code: TOML in `perf-runner/scenarios/` or any path a user passes.
//! Parsing happens in two steps. serde reads the file into `Raw*` structs that keep the byte
//! span of every value; `validate` then checks ranges and relations (degree < nodes) and
//! turns spans into line and column for the error message.
//!
//! Command-line overrides are applied to the raw form and validated by the same checks
//! (`validate::RawScenario::override_with`).
//!
//! This file holds the validated types and the entry points (read, resolve, overrides);
//! `validate` the checks, `phases` the workload tables, `network` and `faults` their tables.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

mod validate;
mod phases;
mod network;
mod faults;
mod implementations;

pub use faults::{ChaosPhase, Fault, FaultKind};
pub use implementations::{Implementation, NodeGroup};
pub use network::{LossModel, NetworkGroup, NetworkLink, NetworkRules, NetworkSpec};
pub use phases::{DhtPhase, FormationPhase, GossipPhase, IdlePhase, NodeSettings, ThroughputPhase};
use validate::{Locator, RawScenario};

/// A scenario file that cannot be used, located as precisely as possible.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: cannot read scenario: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A syntax, type or range error at a position in the file.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// No scenario of that name ships with swarmbench.
    #[error(
        "no scenario named {name:?}; shipped scenarios: {available}; or pass a path to a .toml file"
    )]
    UnknownName {
        /// The name asked for.
        name: String,
        /// Comma-separated shipped names.
        available: String,
    },
    /// The path is not a scenario file (a FIFO, a directory, a device) or is too large.
    #[error("{path}: {reason}")]
    Unusable {
        /// The path.
        path: PathBuf,
        /// What it is and what was expected.
        reason: String,
    },
    /// A command-line override is out of range, or breaks a rule of the scenario.
    #[error("{0}")]
    Override(String),
}

/// How nodes find each other at start: which earlier nodes each node bootstraps from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Topology {
    /// Everyone bootstraps from node 0.
    Star,
    /// Everyone bootstraps from every earlier node.
    Full,
    /// A bootstrap hierarchy (seed 002): node 0, then a tier of √n nodes under it, the rest
    /// spread round-robin over that tier.
    Tiered,
    /// Each node bootstraps from `degree` distinct earlier nodes chosen by a seeded RNG.
    Random {
        /// Bootstrap peers per node.
        degree: usize,
    },
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topology::Star => write!(f, "star"),
            Topology::Full => write!(f, "full"),
            Topology::Tiered => write!(f, "tiered"),
            Topology::Random { degree } => write!(f, "random(degree={degree})"),
        }
    }
}

/// Transport the nodes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// QUIC v1.
    Quic,
    /// TCP + noise + yamux.
    Tcp,
}

impl Transport {
    /// The `--transport` value of the node contract.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Quic => "quic",
            Transport::Tcp => "tcp",
        }
    }
}

impl FromStr for Transport {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "quic" => Ok(Transport::Quic),
            "tcp" => Ok(Transport::Tcp),
            other => Err(format!(
                "unknown transport {other:?}; allowed: \"quic\", \"tcp\""
            )),
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated scenario.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scenario {
    /// Short name, used in output paths.
    pub name: String,
    /// One line saying what it models.
    pub description: String,
    /// Where it was read from.
    pub source: PathBuf,
    /// Number of nodes.
    pub nodes: usize,
    /// Bootstrap topology.
    pub topology: Topology,
    /// Pause between node spawns, milliseconds.
    pub stagger_ms: u64,
    /// Transport.
    pub transport: Transport,
    /// Measured repetitions, each a fresh cluster.
    pub repetitions: usize,
    /// Discarded repetitions run first.
    pub warmup: usize,
    /// Seed for every random choice (topology, workload placement).
    pub seed: u64,
    /// `[node]`: how every node runs.
    pub node: NodeSettings,
    /// Formation settings (always runs).
    pub formation: FormationPhase,
    /// DHT workload, if any.
    pub dht: Option<DhtPhase>,
    /// Gossip workload, if any.
    pub gossip: Option<GossipPhase>,
    /// Throughput workload, if any.
    pub throughput: Option<ThroughputPhase>,
    /// Idle window.
    pub idle: IdlePhase,
    /// Per-metric regression threshold overrides, as fractions (0.05 = 5 %).
    pub thresholds: BTreeMap<String, f64>,
    /// Emulated network conditions, when the scenario sets `[network]`.
    pub network: Option<NetworkSpec>,
    /// A fault phase, when the scenario sets `[chaos]`.
    pub chaos: Option<ChaosPhase>,
    /// `[[node_groups]]`: nodes that run another implementation than the run's own node
    /// (empty: every node runs it).
    pub node_groups: Vec<NodeGroup>,
}

/// Largest cluster a scenario may ask for, counting the nodes its faults add (`scale-up`):
/// beyond this a single machine runs out of ports, file descriptors and patience.
pub const MAX_NODES: i64 = 1000;

/// Largest scenario file read: a scenario is a page of TOML, and anything larger is a mistake.
pub const MAX_SCENARIO_BYTES: u64 = 1 << 20;

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn from_file(path: &Path) -> Result<Self, ScenarioError> {
        Self::from_file_with(path, &Overrides::default())
    }

    /// Reads a scenario file and validates it with `overrides` applied.
    pub fn from_file_with(path: &Path, overrides: &Overrides) -> Result<Self, ScenarioError> {
        Self::from_toml_with(&read_bounded(path)?, path, overrides)
    }

    /// Parses and validates scenario text; `path` is used in messages.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ScenarioError> {
        Self::from_toml_with(text, path, &Overrides::default())
    }

    /// Parses scenario text and validates it as written, then with `overrides` in place of the
    /// file's values, by the same checks: an override is refused exactly when the same value
    /// in the file would be (naming the flag), and a relation it breaks is reported at the
    /// file's position with the flags that broke it (`(with --nodes 3)`).
    pub fn from_toml_with(
        text: &str,
        path: &Path,
        overrides: &Overrides,
    ) -> Result<Self, ScenarioError> {
        let loc = Locator {
            path,
            text,
            flags: &[],
        };
        let scenario = validate::validate(parse(&loc)?, &loc)?;
        if overrides.is_empty() {
            return Ok(scenario);
        }
        let mut raw = parse(&loc)?;
        let flags = raw.override_with(overrides)?;
        let loc = Locator {
            flags: &flags,
            ..loc
        };
        validate::validate(raw, &loc).map_err(|e| match e {
            ScenarioError::Invalid {
                path,
                line,
                column,
                message,
            } => ScenarioError::Invalid {
                path,
                line,
                column,
                message: format!("{message} (with {})", flags.join(" ")),
            },
            other => other,
        })
    }

    /// The implementation node `index` runs, when a node group names it; `None`: the run's own
    /// node (the arm's binary).
    pub fn implementation_of(&self, index: usize) -> Option<&'static Implementation> {
        self.node_groups
            .iter()
            .find(|g| g.nodes.contains(&index))
            .and_then(|g| Implementation::find(&g.implementation))
    }

    /// The implementations its node groups name, each once, in the order of [`implementations::KNOWN`].
    pub fn group_implementations(&self) -> Vec<&'static Implementation> {
        implementations::KNOWN
            .iter()
            .filter(|i| self.node_groups.iter().any(|g| g.implementation == i.name))
            .collect()
    }

    /// Nodes at the most: the scenario's own and those its faults add (`scale-up`).
    pub fn max_nodes(&self) -> usize {
        self.nodes + self.chaos.as_ref().map_or(0, ChaosPhase::added_nodes)
    }
}

/// Parses the text into its spanned raw form.
fn parse(loc: &Locator) -> Result<RawScenario, ScenarioError> {
    toml::from_str(loc.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        // serde names Rust types; say what a scenario author writes instead.
        let message = e
            .message()
            .trim_end()
            .replace('\n', " ")
            .replace("expected i64", "expected an integer")
            .replace("expected f64", "expected a number");
        loc.error(span, message)
    })
}

/// Reads a scenario file: a regular file of at most [`MAX_SCENARIO_BYTES`]. It is opened
/// non-blocking and checked before it is read, so a FIFO, a device or a directory is refused
/// at once instead of blocking or reading forever.
fn read_bounded(path: &Path) -> Result<String, ScenarioError> {
    use std::{io::Read, os::unix::fs::OpenOptionsExt};
    let read_error = |source| ScenarioError::Read {
        path: path.into(),
        source,
    };
    let unusable = |reason: String| ScenarioError::Unusable {
        path: path.into(),
        reason,
    };
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(read_error)?;
    let meta = file.metadata().map_err(read_error)?;
    if !meta.is_file() {
        return Err(unusable(format!(
            "is {}, not a regular file; pass a scenario .toml file",
            file_kind(&meta.file_type())
        )));
    }
    let too_large = || {
        unusable(format!(
            "is larger than {} KiB; a scenario file is a page of TOML",
            MAX_SCENARIO_BYTES / 1024
        ))
    };
    if meta.len() > MAX_SCENARIO_BYTES {
        return Err(too_large());
    }
    let mut text = String::new();
    // Bounded even if the file grows while it is read.
    file.take(MAX_SCENARIO_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    if text.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(too_large());
    }
    Ok(text)
}

/// "a FIFO", "a directory", … for a message.
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a plain file"
    }
}

/// Command-line changes to a scenario.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--nodes`.
    pub nodes: Option<usize>,
    /// `--repetitions`.
    pub repetitions: Option<usize>,
    /// `--warmup`.
    pub warmup: Option<usize>,
    /// `--transport`.
    pub transport: Option<Transport>,
}

impl Overrides {
    /// Whether no value is overridden.
    pub fn is_empty(&self) -> bool {
        let Overrides {
            nodes,
            repetitions,
            warmup,
            transport,
        } = self;
        nodes.is_none() && repetitions.is_none() && warmup.is_none() && transport.is_none()
    }
}

/// Default formation target: everyone, up to 8 peers.
pub fn default_target_peers(nodes: usize) -> usize {
    nodes.saturating_sub(1).min(8)
}

/// Directory of the scenarios that ship with swarmbench.
pub fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Names of the shipped scenarios, sorted.
pub fn shipped_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(shipped_dir())
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .filter_map(|e| {
                    e.path()
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Resolves a name (`standard`) or a path (`./my.toml`) to a validated scenario.
pub fn resolve(name_or_path: &str) -> Result<Scenario, ScenarioError> {
    resolve_with(name_or_path, &Overrides::default())
}

/// Resolves a name or a path to a scenario validated with the command-line `overrides`
/// applied (see [`Scenario::from_toml_with`]).
pub fn resolve_with(name_or_path: &str, overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    let as_path = Path::new(name_or_path);
    if name_or_path.ends_with(".toml") || name_or_path.contains('/') {
        return Scenario::from_file_with(as_path, overrides);
    }
    let shipped = shipped_dir().join(format!("{name_or_path}.toml"));
    if shipped.is_file() {
        return Scenario::from_file_with(&shipped, overrides);
    }
    Err(ScenarioError::UnknownName {
        name: name_or_path.into(),
        available: shipped_names().join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::from_toml(text, Path::new("s.toml"))
    }

    /// The error of `text` with `overrides` applied.
    fn override_error(text: &str, overrides: Overrides) -> String {
        Scenario::from_toml_with(text, Path::new("s.toml"), &overrides)
            .unwrap_err()
            .to_string()
    }

    fn nodes(n: usize) -> Overrides {
        Overrides {
            nodes: Some(n),
            ..Default::default()
        }
    }

    fn error_of(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn minimal_file_gets_defaults() {
        let s = parse("name = \"x\"\nnodes = 5\n").unwrap();
        assert_eq!(s.topology, Topology::Star);
        assert_eq!(s.transport, Transport::Quic);
        assert_eq!(s.formation.target_peers, 4);
        assert_eq!(s.repetitions, 10);
        assert!(s.dht.is_none());
    }

    #[test]
    fn network_rules_and_groups_parse() {
        let s = parse(
            "name = \"x\"\nnodes = 5\n[network]\ndelay_ms = 25\nloss_pct = 5\n\n[[network.groups]]\nnodes = [3, 4]\ndelay_ms = 100\nloss_model = \"gilbert-elliott\"\n",
        )
        .unwrap();
        let n = s.network.unwrap();
        assert_eq!((n.rules.delay_ms, n.rules.loss_pct), (25.0, 5.0));
        assert_eq!(n.groups[0].nodes, [3, 4]);
        // A group inherits what it does not set.
        assert_eq!(n.groups[0].rules.loss_pct, 5.0);
        assert_eq!(n.rules_for(0, 1).delay_ms, 25.0);
        assert_eq!(n.rules_for(0, 4).delay_ms, 100.0);
        assert_eq!(n.rules_for(3, 0).delay_ms, 100.0);
        let ge = n.groups[0].rules.link_rules().loss.mean_rate();
        assert!((ge - 0.05).abs() < 1e-12, "{ge}");
    }

    #[test]
    fn directed_links_win_over_groups_in_their_direction_only() {
        let s = parse(
            "name = \"x\"\nnodes = 4\n[network]\ndelay_ms = 10\n[[network.groups]]\nnodes = [2]\ndelay_ms = 50\n[[network.links]]\nfrom = [0, 1]\nto = [2]\nrate_mbit = 1\n",
        )
        .unwrap();
        let n = s.network.unwrap();
        // 0 → 2: the link's rate, and what it does not set from [network], not from the group.
        assert_eq!(n.rules_for(0, 2).rate_mbit, Some(1.0));
        assert_eq!(n.rules_for(0, 2).delay_ms, 10.0);
        // 2 → 0, the other direction: the group's rules.
        assert_eq!(n.rules_for(2, 0).rate_mbit, None);
        assert_eq!(n.rules_for(2, 0).delay_ms, 50.0);
        assert_eq!(n.rules_for(3, 1).delay_ms, 10.0);
        let err = error_of(
            "name = \"x\"\nnodes = 4\n[network]\n[[network.links]]\nfrom = [0]\nto = [9]\n",
        );
        assert!(
            err.contains(
                "s.toml:6:7: a network link's to names node 9, but the scenario has nodes 0 to 3"
            ),
            "{err}"
        );
        let err = error_of("name = \"x\"\nnodes = 4\n[network]\n[[network.links]]\nfrom = [0]\n");
        assert!(err.contains("missing field `to`"), "{err}");
        let e = override_error(
            "name = \"x\"\nnodes = 4\n[network]\n[[network.links]]\nfrom = [3]\nto = [0]\n",
            nodes(3),
        );
        assert_eq!(
            e,
            "s.toml:5:9: a network link's from names node 3, but the scenario has nodes 0 to 2 (with --nodes 3)"
        );
    }

    #[test]
    fn nonsensical_network_rules_are_located() {
        let base = "name = \"x\"\nnodes = 3\n[network]\n";
        let err = error_of(&format!("{base}loss_pct = 150\n"));
        assert_eq!(
            err,
            "s.toml:4:12: network.loss_pct = 150 is out of range; allowed: 0 to 100"
        );
        let err = error_of(&format!("{base}delay_ms = -5\n"));
        assert!(
            err.starts_with("s.toml:4:12: network.delay_ms = -5 is out of range"),
            "{err}"
        );
        let err = error_of(&format!("{base}[[network.groups]]\nnodes = [0, 7]\n"));
        assert_eq!(
            err,
            "s.toml:5:13: a network group names node 7, but the scenario has nodes 0 to 2"
        );
        let err = error_of(&format!("{base}loss_model = \"bursty\"\n"));
        assert!(
            err.starts_with("s.toml:4:14: unknown network.loss_model \"bursty\""),
            "{err}"
        );
        // TCP takes delay and partitions through the proxy, but not datagram loss.
        parse("name = \"x\"\nnodes = 3\ntransport = \"tcp\"\n[network]\ndelay_ms = 5\n").unwrap();
        let err = error_of(
            "name = \"x\"\nnodes = 3\ntransport = \"tcp\"\n[network]\ndelay_ms = 5\n[[network.groups]]\nnodes = [1]\ncorrupt_pct = 1\n",
        );
        assert!(
            err.contains(":8:15") && err.contains("corrupt_pct needs transport = \"quic\""),
            "{err}"
        );
        let e = override_error(
            &format!("{base}[[network.groups]]\nnodes = [2]\n"),
            nodes(2),
        );
        assert!(
            e.contains("names node 2, but the scenario has nodes 0 to 1 (with --nodes 2)"),
            "{e}"
        );
    }

    #[test]
    fn node_groups_parse_and_are_checked_with_positions() {
        let base = "name = \"x\"\nnodes = 5\ntransport = \"tcp\"\n";
        let group = |nodes: &str| {
            format!("[[node_groups]]\nimplementation = \"js-libp2p\"\nnodes = {nodes}\n")
        };
        let s = parse(&format!("{base}{}", group("[3, 4]"))).unwrap();
        assert_eq!(
            s.node_groups,
            [NodeGroup {
                implementation: "js-libp2p".into(),
                nodes: vec![3, 4]
            }]
        );
        assert_eq!(s.implementation_of(3).map(|i| i.name), Some("js-libp2p"));
        assert_eq!(s.implementation_of(0), None);
        assert_eq!(s.group_implementations().len(), 1);
        assert!(parse(base).unwrap().node_groups.is_empty());

        assert_eq!(
            error_of(&format!("{base}{}", group("[3, 5]"))),
            "s.toml:6:13: a node group names node 5, but the scenario has nodes 0 to 4"
        );
        assert_eq!(
            error_of(&format!("{base}{}{}", group("[3]"), group("[1, 3]"))),
            "s.toml:9:13: node 3 is in two node groups (js-libp2p and js-libp2p)"
        );
        assert_eq!(
            error_of(&format!("{base}{}", group("[2, 2]"))),
            "s.toml:6:13: node 2 is twice in this group"
        );
        assert_eq!(
            error_of(&format!("{base}{}", group("[]"))),
            "s.toml:6:9: a node group needs at least one node"
        );
        let missing = Implementation {
            name: "x-libp2p",
            bin: "nodes/x-libp2p/bin/x-libp2p-node",
            installed: "nodes/x-libp2p/node_modules",
            install: "run `npm ci` in nodes/x-libp2p",
            transports: &[Transport::Tcp],
        };
        let err = missing.check_installed().unwrap_err();
        assert!(
            err.starts_with("the scenario runs nodes of implementation x-libp2p, but ")
                && err.ends_with(
                    "nodes/x-libp2p/bin/x-libp2p-node is missing: run `npm ci` in nodes/x-libp2p"
                ),
            "{err}"
        );
        let err = error_of(&format!(
            "{base}[[node_groups]]\nimplementation = \"go-libp2p\"\nnodes = [1]\n"
        ));
        assert!(
            err.starts_with(
                "s.toml:5:18: unknown implementation \"go-libp2p\"; known: \"js-libp2p\""
            ),
            "{err}"
        );
        // js-libp2p speaks TCP only: QUIC, set in the file or by default, is refused.
        let quic = base.replace("tcp", "quic");
        assert_eq!(
            error_of(&format!("{quic}{}", group("[1]"))),
            "s.toml:3:13: transport quic is not spoken by implementation js-libp2p (node_groups), which speaks only tcp"
        );
        let err = error_of(&format!("name = \"x\"\nnodes = 5\n{}", group("[1]")));
        assert!(
            err.starts_with("s.toml:4:18: transport quic is not spoken"),
            "{err}"
        );
        let e = override_error(
            &format!("{base}{}", group("[1]")),
            Overrides {
                transport: Some(Transport::Quic),
                ..Default::default()
            },
        );
        assert!(
            e.starts_with(
                "--transport quic: transport quic is not spoken by implementation js-libp2p"
            ),
            "{e}"
        );
        let e = override_error(&format!("{base}{}", group("[4]")), nodes(3));
        assert!(
            e.contains("names node 4, but the scenario has nodes 0 to 2 (with --nodes 3)"),
            "{e}"
        );
        let err = error_of(&format!(
            "{base}[[node_groups]]\nimplementation = \"js-libp2p\"\nnodes = [1]\ncount = 2\n"
        ));
        assert!(
            err.starts_with("s.toml:7:1:") && err.contains("unknown field `count`"),
            "{err}"
        );
    }

    #[test]
    fn fault_schedules_are_checked_in_order() {
        let base = "name = \"x\"\nnodes = 3\n[network]\n[chaos]\nduration_s = 10\n";
        let fault = |at: u32, kind: &str| {
            format!("[[chaos.faults]]\nat_s = {at}\nkind = \"{kind}\"\nnode = 1\n")
        };
        let ok = format!(
            "{base}{}{}{}",
            fault(1, "leave"),
            fault(2, "restart"),
            fault(3, "pause")
        );
        let s = parse(&ok).unwrap();
        let kinds: Vec<&FaultKind> = s
            .chaos
            .as_ref()
            .unwrap()
            .faults
            .iter()
            .map(|f| &f.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                &FaultKind::Leave { node: 1 },
                &FaultKind::Restart { node: 1 },
                &FaultKind::Pause { node: 1 }
            ]
        );
        let err = error_of(&format!("{base}{}", fault(1, "restart")));
        assert!(
            err.contains("restart of node 1, which is running at that point"),
            "{err}"
        );
        let err = error_of(&format!("{base}{}{}", fault(1, "pause"), fault(2, "leave")));
        assert!(err.contains("leave of node 1, which is paused"), "{err}");
        let err = error_of(&format!("{base}{}", fault(1, "explode")));
        assert!(err.contains("unknown fault kind \"explode\""), "{err}");
    }

    #[test]
    fn scaling_corruption_and_flapping_faults_are_checked() {
        let base = "name = \"x\"\nnodes = 3\n[network]\n[chaos]\nduration_s = 10\n";
        let f = |at: u32, body: &str| format!("[[chaos.faults]]\nat_s = {at}\n{body}\n");
        let s = parse(&format!(
            "{base}{}{}{}{}{}{}",
            f(1, "kind = \"scale-up\"\ncount = 2"),
            // Node 4 exists once the scale-up has happened.
            f(2, "kind = \"crash\"\nnode = 4"),
            f(3, "kind = \"scale-down\"\ncount = 2"),
            f(4, "kind = \"isolate-bootstrap\""),
            f(5, "kind = \"corrupt\"\npct = 5\nnodes = [1]"),
            f(6, "kind = \"heal\""),
        ))
        .unwrap();
        let chaos = s.chaos.as_ref().unwrap();
        let kinds: Vec<&FaultKind> = chaos.faults.iter().map(|f| &f.kind).collect();
        assert_eq!(
            kinds,
            [
                &FaultKind::ScaleUp { count: 2 },
                &FaultKind::Crash { node: 4 },
                // The highest-numbered running nodes: 4 is down already.
                &FaultKind::ScaleDown { nodes: vec![3, 2] },
                &FaultKind::Isolate { node: 0 },
                &FaultKind::Corrupt {
                    pct: 5.0,
                    nodes: vec![1]
                },
                &FaultKind::Heal,
            ]
        );
        assert_eq!(
            s.max_nodes(),
            5,
            "the switch needs a port for every newcomer"
        );
        let flap = parse(&format!(
            "{base}{}",
            f(1, "kind = \"intermittent\"\nnode = 2\ndown_s = 0.25")
        ))
        .unwrap();
        assert_eq!(
            flap.chaos.unwrap().faults[0].kind,
            FaultKind::Intermittent {
                node: 2,
                down_s: 0.25,
                up_s: 1.0
            }
        );

        let err = error_of(&format!("{base}{}", f(1, "kind = \"heal\"\nnode = 1")));
        assert!(
            err.contains(
                "s.toml:9:8: heal does not take node; it takes no keys besides at_s and kind"
            ),
            "{err}"
        );
        let err = error_of(&format!(
            "{base}{}",
            f(1, "kind = \"scale-down\"\ncount = 2")
        ));
        assert!(
            err.contains(
                "s.toml:9:9: scale-down of 2 with 3 nodes running would leave fewer than 2"
            ),
            "{err}"
        );
        let err = error_of(&format!("{base}{}", f(1, "kind = \"crash\"\nnode = 3")));
        assert!(err.contains("the nodes are 0 to 2"), "{err}");
        let err = error_of(&format!("{base}{}", f(1, "kind = \"corrupt\"\npct = 0")));
        assert!(err.contains("s.toml:9:7: pct = 0 is out of range"), "{err}");
        let tcp = base.replace("nodes = 3", "nodes = 3\ntransport = \"tcp\"");
        let err = error_of(&format!("{tcp}{}", f(1, "kind = \"corrupt\"\npct = 5")));
        assert!(err.contains("corrupt needs transport = \"quic\""), "{err}");
        let err = error_of(&format!(
            "{base}{}{}",
            f(1, "kind = \"pause\"\nnode = 0"),
            f(2, "kind = \"scale-down\"\ncount = 1")
        ));
        assert!(err.contains("would leave fewer than 2"), "{err}");
        let e = override_error(
            &format!("{base}{}", f(1, "kind = \"scale-up\"\ncount = 1")),
            nodes(5),
        );
        assert!(
            e.contains("--nodes cannot change a scenario with [chaos]"),
            "{e}"
        );
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let err = error_of("name = \"x\"\nnodes = = 5\n");
        assert!(err.starts_with("s.toml:2:"), "{err}");
    }

    #[test]
    fn unknown_key_names_position_and_allowed_keys() {
        let err = error_of("name = \"x\"\nnodes = 5\nnodez = 3\n");
        assert!(err.starts_with("s.toml:3:1:"), "{err}");
        assert!(
            err.contains("unknown field `nodez`") && err.contains("nodes"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_is_located() {
        let err = error_of("name = \"x\"\nnodes = \"five\"\n");
        assert!(err.starts_with("s.toml:2:9:"), "{err}");
        assert!(err.contains("integer"), "{err}");
    }

    #[test]
    fn zero_nodes_is_out_of_range() {
        let err = error_of("name = \"x\"\nnodes = 0\n");
        assert_eq!(
            err,
            "s.toml:2:9: nodes = 0 is out of range; allowed: 1 to 1000"
        );
    }

    #[test]
    fn degree_must_be_below_nodes() {
        let err = error_of("name = \"x\"\nnodes = 4\ntopology = \"random\"\ndegree = 4\n");
        assert_eq!(err, "s.toml:4:10: degree = 4 must be less than nodes = 4");
    }

    #[test]
    fn negative_duration_is_rejected() {
        let err = error_of("name = \"x\"\nnodes = 3\n[idle]\nseconds = -1.0\n");
        assert!(err.starts_with("s.toml:4:11: idle.seconds = -1"), "{err}");
    }

    #[test]
    fn unknown_topology_lists_the_allowed_ones() {
        let err = error_of("name = \"x\"\nnodes = 3\ntopology = \"ring\"\n");
        assert!(
            err.contains("s.toml:3:12") && err.contains("\"tiered\""),
            "{err}"
        );
    }

    #[test]
    fn threshold_for_unknown_metric_is_rejected() {
        let err = error_of("name = \"x\"\nnodes = 3\n[thresholds]\nspeed = 0.1\n");
        assert!(
            err.contains("s.toml:4:9") && err.contains("no such metric"),
            "{err}"
        );
    }

    #[test]
    fn overrides_recheck_relations() {
        let err = override_error(
            "name = \"x\"\nnodes = 5\ntopology = \"random\"\ndegree = 3\n",
            nodes(3),
        );
        assert_eq!(
            err,
            "s.toml:4:10: degree = 3 must be less than nodes = 3 (with --nodes 3)"
        );
    }

    #[test]
    fn overrides_are_checked_by_the_rules_of_the_file() {
        let workloads = "name = \"x\"\nnodes = 3\n[gossip]\nmessages = 5\n";
        assert_eq!(
            override_error(workloads, nodes(1)),
            "--nodes 1: workloads ([dht], [gossip], [throughput]) need at least 2 nodes"
        );
        assert_eq!(
            override_error(workloads, nodes(0)),
            "--nodes 0 is out of range; allowed: 1 to 1000"
        );
        assert_eq!(
            override_error(workloads, nodes(1001)),
            "--nodes 1001 is out of range; allowed: 1 to 1000"
        );
        let warmup = |n| Overrides {
            warmup: Some(n),
            ..Default::default()
        };
        assert_eq!(
            override_error(workloads, warmup(99_999_999_999)),
            "--warmup 99999999999 is out of range; allowed: 0 to 1000"
        );
        assert_eq!(
            override_error(workloads, warmup(usize::MAX)),
            format!(
                "--warmup {} is out of range; allowed: 0 to 1000",
                usize::MAX
            )
        );
        let repetitions = |n| Overrides {
            repetitions: Some(n),
            ..Default::default()
        };
        assert_eq!(
            override_error(workloads, repetitions(0)),
            "--repetitions 0 is out of range; allowed: 1 to 10000"
        );
        assert_eq!(
            override_error(workloads, repetitions(10_001)),
            "--repetitions 10001 is out of range; allowed: 1 to 10000"
        );
        let tcp = Overrides {
            transport: Some(Transport::Tcp),
            ..Default::default()
        };
        let lossy = "name = \"x\"\nnodes = 3\n[network]\nloss_pct = 5\n";
        let e = override_error(lossy, tcp.clone());
        assert!(
            e.starts_with("s.toml:4:12: ") && e.ends_with(" (with --transport tcp)"),
            "{e}"
        );

        // What passes is the scenario as overridden.
        let all = Overrides {
            nodes: Some(10),
            repetitions: Some(3),
            warmup: Some(1000),
            transport: Some(Transport::Tcp),
        };
        let s = Scenario::from_toml_with(workloads, Path::new("s.toml"), &all).unwrap();
        assert_eq!(
            (s.nodes, s.repetitions, s.warmup, s.transport),
            (10, 3, 1000, Transport::Tcp)
        );
        assert_eq!(s.formation.target_peers, 8);
        // The file's target_peers gives way to the default of the new size.
        let peers = "name = \"x\"\nnodes = 5\n[formation]\ntarget_peers = 4\n";
        let s = Scenario::from_toml_with(peers, Path::new("s.toml"), &nodes(3)).unwrap();
        assert_eq!(s.formation.target_peers, 2);
        // A file error is reported as the file's, without the flags.
        let e = override_error("name = \"x\"\nnodes = 0\n", nodes(3));
        assert_eq!(
            e,
            "s.toml:2:9: nodes = 0 is out of range; allowed: 1 to 1000"
        );
    }

    #[test]
    fn scale_ups_count_towards_the_node_maximum() {
        let chaos = |nodes: usize, count: usize, faults: usize| {
            let mut text =
                format!("name = \"x\"\nnodes = {nodes}\n[network]\n[chaos]\nduration_s = 60\n");
            for at in 0..faults {
                text.push_str(&format!(
                    "[[chaos.faults]]\nat_s = {at}\nkind = \"scale-up\"\ncount = {count}\n"
                ));
            }
            text
        };
        assert_eq!(
            error_of(&chaos(5, 1000, 40)),
            "s.toml:9:9: scale-up of 1000 brings the scenario to 1005 nodes; allowed: at most 1000 nodes, counting every scale-up"
        );
        let err = error_of(&chaos(500, 250, 3));
        assert!(
            err.starts_with("s.toml:17:9: scale-up of 250 brings the scenario to 1250 nodes"),
            "{err}"
        );
        assert_eq!(parse(&chaos(5, 995, 1)).unwrap().max_nodes(), 1000);
    }

    #[test]
    fn only_a_regular_file_of_bounded_size_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.toml");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo(3) with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        let err = Scenario::from_file(&fifo).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: is a FIFO, not a regular file; pass a scenario .toml file",
                fifo.display()
            )
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let err = resolve(&dir.path().display().to_string()).unwrap_err();
        assert!(
            err.to_string()
                .contains("is a directory, not a regular file"),
            "{err}"
        );
        let err = Scenario::from_file(Path::new("/dev/zero")).unwrap_err();
        assert!(
            err.to_string().contains("is a device, not a regular file"),
            "{err}"
        );
        let big = dir.path().join("big.toml");
        let mut text = "name = \"x\"\nnodes = 2\n".to_owned();
        text.push_str(&"#".repeat(MAX_SCENARIO_BYTES as usize));
        std::fs::write(&big, &text).unwrap();
        let err = Scenario::from_file(&big).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("is larger than 1024 KiB; a scenario file is a page of TOML"),
            "{err}"
        );
        text.truncate(MAX_SCENARIO_BYTES as usize);
        std::fs::write(&big, &text).unwrap();
        assert_eq!(Scenario::from_file(&big).unwrap().nodes, 2);
        let e = crate::Error::from(Scenario::from_file(&fifo).unwrap_err());
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn every_shipped_scenario_parses() {
        let names = shipped_names();
        assert!(names.len() >= 5, "{names:?}");
        for name in names {
            let s = resolve(&name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(s.name, name, "file name and name field agree");
        }
    }
}
