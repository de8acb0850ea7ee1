//! Scenario files: parse and validate, with errors that point at `file:line:col`.
//!
//! A scenario is data, not code: TOML in `perf-runner/scenarios/` or any path a user passes.
//! Parsing happens in two steps. serde reads the file into `Raw*` structs that keep the byte
//! span of every value; `validate` then checks ranges and relations (degree < nodes) and
//! turns spans into line and column for the error message.
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

pub use faults::{ChaosPhase, Fault, FaultKind};
pub use network::{LossModel, NetworkGroup, NetworkLink, NetworkRules, NetworkSpec};
pub use phases::{DhtPhase, FormationPhase, GossipPhase, IdlePhase, ThroughputPhase};
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
    /// A command-line override is out of range.
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
}

/// Largest cluster a scenario may ask for; beyond this a single machine runs out of ports and patience.
pub const MAX_NODES: i64 = 1000;

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn from_file(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.into(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Parses and validates scenario text; `path` is used in messages.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ScenarioError> {
        let loc = Locator { path, text };
        let raw: RawScenario = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            // serde names Rust types; say what a scenario author writes instead.
            let message = e
                .message()
                .trim_end()
                .replace('\n', " ")
                .replace("expected i64", "expected an integer")
                .replace("expected f64", "expected a number");
            loc.error(span, message)
        })?;
        validate::validate(raw, &loc)
    }

    /// Nodes at the most: the scenario's own and those its faults add (`scale-up`).
    pub fn max_nodes(&self) -> usize {
        self.nodes + self.chaos.as_ref().map_or(0, ChaosPhase::added_nodes)
    }

    /// Applies command-line overrides and re-checks the relations they could break.
    pub fn with_overrides(mut self, overrides: &Overrides) -> Result<Self, ScenarioError> {
        let original_nodes = self.nodes;
        if let Some(nodes) = overrides.nodes {
            if nodes == 0 || nodes as i64 > MAX_NODES {
                return Err(ScenarioError::Override(format!(
                    "--nodes {nodes} is out of range; allowed: 1 to {MAX_NODES}"
                )));
            }
            self.nodes = nodes;
            self.formation.target_peers = default_target_peers(nodes);
        }
        if let Some(repetitions) = overrides.repetitions {
            if repetitions == 0 {
                return Err(ScenarioError::Override(
                    "--repetitions must be at least 1".into(),
                ));
            }
            self.repetitions = repetitions;
        }
        if let Some(warmup) = overrides.warmup {
            self.warmup = warmup;
        }
        if let Some(transport) = overrides.transport {
            self.transport = transport;
        }
        self.chaos_allows(overrides, original_nodes)?;
        self.network_allows()?;
        if let Topology::Random { degree } = self.topology
            && degree >= self.nodes.max(2)
        {
            return Err(ScenarioError::Override(format!(
                "topology random with degree {degree} needs more than {degree} nodes, but --nodes is {}",
                self.nodes
            )));
        }
        Ok(self)
    }

    /// Refuses overrides the fault schedule was not validated for: another node count, or
    /// TCP under a corrupt fault.
    fn chaos_allows(
        &self,
        overrides: &Overrides,
        original_nodes: usize,
    ) -> Result<(), ScenarioError> {
        if let Some(chaos) = &self.chaos {
            // The schedule was checked node by node (who is up when, which nodes a scale-down
            // takes): another node count would need another schedule.
            if overrides.nodes.is_some_and(|n| n != original_nodes) {
                return Err(ScenarioError::Override(format!(
                    "--nodes cannot change a scenario with [chaos]: its fault schedule was validated for {original_nodes} nodes; edit the file instead"
                )));
            }
            if self.transport == Transport::Tcp
                && chaos
                    .faults
                    .iter()
                    .any(|f| matches!(f.kind, FaultKind::Corrupt { .. }))
            {
                return Err(ScenarioError::Override(
                    "--transport tcp cannot run this scenario's corrupt fault: the TCP proxy carries streams, not datagrams".into(),
                ));
            }
        }
        Ok(())
    }

    /// Refuses overrides the `[network]` table cannot run with: fewer nodes than it names,
    /// or TCP under datagram rules.
    fn network_allows(&self) -> Result<(), ScenarioError> {
        if let Some(network) = &self.network {
            if let Some(i) = network.named_nodes().find(|&i| i >= self.nodes) {
                return Err(ScenarioError::Override(format!(
                    "--nodes {} leaves out node {i}, which a [network] group or link of the scenario names",
                    self.nodes
                )));
            }
            if self.transport == Transport::Tcp && network.has_datagram_rules() {
                return Err(ScenarioError::Override(
                    "--transport tcp cannot run this scenario's [network] loss or corruption: the TCP proxy emulates delay, jitter, rate and partitions only".into(),
                ));
            }
        }
        Ok(())
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
    let as_path = Path::new(name_or_path);
    if name_or_path.ends_with(".toml") || name_or_path.contains('/') {
        return Scenario::from_file(as_path);
    }
    let shipped = shipped_dir().join(format!("{name_or_path}.toml"));
    if shipped.is_file() {
        return Scenario::from_file(&shipped);
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
        let s =
            parse("name = \"x\"\nnodes = 4\n[network]\n[[network.links]]\nfrom = [3]\nto = [0]\n")
                .unwrap();
        let e = s
            .with_overrides(&Overrides {
                nodes: Some(3),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.to_string().contains("leaves out node 3"), "{e}");
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
        let s = parse(&format!("{base}[[network.groups]]\nnodes = [2]\n")).unwrap();
        let e = s
            .with_overrides(&Overrides {
                nodes: Some(2),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.to_string().contains("leaves out node 2"), "{e}");
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
        let s = parse(&format!("{base}{}", f(1, "kind = \"scale-up\"\ncount = 1"))).unwrap();
        let e = s
            .with_overrides(&Overrides {
                nodes: Some(5),
                ..Default::default()
            })
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("--nodes cannot change a scenario with [chaos]"),
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
        let s = parse("name = \"x\"\nnodes = 5\ntopology = \"random\"\ndegree = 3\n").unwrap();
        let err = s
            .with_overrides(&Overrides {
                nodes: Some(3),
                ..Default::default()
            })
            .unwrap_err();
        assert!(err.to_string().contains("degree 3"), "{err}");
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
