//! Scenario files: parse and validate, with errors that point at `file:line:col`.
//!
//! A scenario is data, not code: TOML in `perf-runner/scenarios/` or any path a user passes.
//! Parsing happens in two steps. serde reads the file into `Raw*` structs that keep the byte
//! span of every value; `validate` then checks ranges and relations (degree < nodes) and
//! turns spans into line and column for the error message.

use std::{
    collections::BTreeMap,
    fmt,
    ops::Range,
    path::{Path, PathBuf},
    str::FromStr,
};

use serde::Deserialize;
use toml::Spanned;

mod faults;
mod network;

pub use faults::{ChaosPhase, Fault, FaultKind};
use faults::{RawChaos, chaos_phase};
pub use network::{LossModel, NetworkGroup, NetworkLink, NetworkRules, NetworkSpec};
use network::{RawNetwork, network_spec};

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

/// `[formation]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FormationPhase {
    /// Give up on formation after this long, seconds.
    pub timeout_s: f64,
    /// Peers every node must have connected; default min(n − 1, 8).
    pub target_peers: usize,
    /// How long a node may take to print its ready line, seconds.
    pub ready_timeout_s: f64,
}

/// `[dht]`: puts, then gets of the put keys from other nodes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DhtPhase {
    /// Records put, round-robin over nodes.
    pub puts: usize,
    /// Lookups, each from a node other than the putter.
    pub gets: usize,
    /// Bytes per value.
    pub value_size: usize,
    /// Operations in flight at once.
    pub concurrency: usize,
}

/// `[gossip]`: messages published round-robin over nodes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GossipPhase {
    /// Messages published.
    pub messages: usize,
    /// Payload bytes per message.
    pub size: usize,
    /// Publish rate over the whole network, messages per second.
    pub rate_per_s: f64,
}

/// `[throughput]`: perf-protocol transfers between connected pairs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ThroughputPhase {
    /// Pairs measured one after another.
    pub pairs: usize,
    /// Bytes uploaded per transfer.
    pub bytes: u64,
}

/// `[idle]`: a quiet window for idle CPU and memory.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IdlePhase {
    /// Window length, seconds.
    pub seconds: f64,
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

// ---- raw, spanned form -------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    nodes: Spanned<i64>,
    topology: Option<Spanned<String>>,
    degree: Option<Spanned<i64>>,
    stagger_ms: Option<Spanned<i64>>,
    transport: Option<Spanned<String>>,
    repetitions: Option<Spanned<i64>>,
    warmup: Option<Spanned<i64>>,
    seed: Option<Spanned<i64>>,
    formation: Option<RawFormation>,
    dht: Option<RawDht>,
    gossip: Option<RawGossip>,
    throughput: Option<RawThroughput>,
    idle: Option<RawIdle>,
    #[serde(default)]
    thresholds: BTreeMap<String, Spanned<f64>>,
    network: Option<RawNetwork>,
    chaos: Option<RawChaos>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFormation {
    timeout_s: Option<Spanned<f64>>,
    ready_timeout_s: Option<Spanned<f64>>,
    target_peers: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDht {
    puts: Option<Spanned<i64>>,
    gets: Option<Spanned<i64>>,
    value_size: Option<Spanned<i64>>,
    concurrency: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGossip {
    messages: Option<Spanned<i64>>,
    size: Option<Spanned<i64>>,
    rate_per_s: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThroughput {
    pairs: Option<Spanned<i64>>,
    bytes: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdle {
    seconds: Option<Spanned<f64>>,
}

/// Converts spans to positions and builds errors for one file.
struct Locator<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Locator<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        let (line, column) = line_column(self.text, span.start);
        ScenarioError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    /// An integer in `[min, max]`, or an error naming the key and the allowed range.
    fn int(
        &self,
        value: &Spanned<i64>,
        key: &str,
        min: i64,
        max: i64,
    ) -> Result<i64, ScenarioError> {
        let v = *value.get_ref();
        if v < min || v > max {
            return Err(self.error(
                value.span(),
                format!("{key} = {v} is out of range; allowed: {min} to {max}"),
            ));
        }
        Ok(v)
    }

    fn opt_int(
        &self,
        value: &Option<Spanned<i64>>,
        key: &str,
        min: i64,
        max: i64,
        default: i64,
    ) -> Result<i64, ScenarioError> {
        value
            .as_ref()
            .map_or(Ok(default), |v| self.int(v, key, min, max))
    }

    /// A finite float in `[min, max]`.
    fn float(
        &self,
        value: &Option<Spanned<f64>>,
        key: &str,
        min: f64,
        max: f64,
        default: f64,
    ) -> Result<f64, ScenarioError> {
        let Some(value) = value else {
            return Ok(default);
        };
        let v = *value.get_ref();
        if !v.is_finite() || v < min || v > max {
            return Err(self.error(
                value.span(),
                format!("{key} = {v} is out of range; allowed: {min} to {max}"),
            ));
        }
        Ok(v)
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
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
        validate(raw, &loc)
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

fn validate(raw: RawScenario, loc: &Locator) -> Result<Scenario, ScenarioError> {
    let name = raw.name.get_ref().clone();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(loc.error(raw.name.span(), format!("name {name:?} must be non-empty ASCII letters, digits, '-' or '_' (it names the output directory)")));
    }
    let nodes = loc.int(&raw.nodes, "nodes", 1, MAX_NODES)? as usize;

    let topology = match raw
        .topology
        .as_ref()
        .map(|t| (t.get_ref().as_str(), t.span()))
    {
        None | Some(("star", _)) => Topology::Star,
        Some(("full", _)) => Topology::Full,
        Some(("tiered", _)) => Topology::Tiered,
        Some(("random", span)) => {
            let degree = raw.degree.as_ref().ok_or_else(|| {
                loc.error(
                    span,
                    "topology \"random\" needs `degree = <n>` (bootstrap peers per node)",
                )
            })?;
            let d = loc.int(degree, "degree", 1, MAX_NODES)?;
            if d as usize >= nodes.max(2) {
                return Err(loc.error(
                    degree.span(),
                    format!("degree = {d} must be less than nodes = {nodes}"),
                ));
            }
            Topology::Random { degree: d as usize }
        }
        Some((other, span)) => {
            return Err(loc.error(span, format!("unknown topology {other:?}; allowed: \"star\", \"full\", \"tiered\", \"random\" (with degree)")));
        }
    };
    if let (Some(degree), false) = (&raw.degree, matches!(topology, Topology::Random { .. })) {
        return Err(loc.error(
            degree.span(),
            "degree applies only to topology = \"random\"",
        ));
    }
    let transport = match &raw.transport {
        None => Transport::Quic,
        Some(t) => t
            .get_ref()
            .parse()
            .map_err(|e: String| loc.error(t.span(), e))?,
    };

    let formation = match &raw.formation {
        None => FormationPhase {
            timeout_s: 30.0,
            target_peers: default_target_peers(nodes),
            ready_timeout_s: 30.0,
        },
        Some(f) => FormationPhase {
            timeout_s: loc.float(&f.timeout_s, "formation.timeout_s", 0.1, 3600.0, 30.0)?,
            ready_timeout_s: loc.float(
                &f.ready_timeout_s,
                "formation.ready_timeout_s",
                0.1,
                3600.0,
                30.0,
            )?,
            target_peers: loc.opt_int(
                &f.target_peers,
                "formation.target_peers",
                0,
                (nodes as i64 - 1).max(0),
                default_target_peers(nodes) as i64,
            )? as usize,
        },
    };
    let dht = raw
        .dht
        .as_ref()
        .map(|d| -> Result<_, ScenarioError> {
            Ok(DhtPhase {
                puts: loc.opt_int(&d.puts, "dht.puts", 1, 1_000_000, 20)? as usize,
                gets: loc.opt_int(&d.gets, "dht.gets", 0, 1_000_000, 100)? as usize,
                value_size: loc.opt_int(&d.value_size, "dht.value_size", 1, 1 << 20, 256)? as usize,
                concurrency: loc.opt_int(&d.concurrency, "dht.concurrency", 1, 1024, 4)? as usize,
            })
        })
        .transpose()?;
    let gossip = raw
        .gossip
        .as_ref()
        .map(|g| -> Result<_, ScenarioError> {
            Ok(GossipPhase {
                messages: loc.opt_int(&g.messages, "gossip.messages", 1, 1_000_000, 50)? as usize,
                size: loc.opt_int(&g.size, "gossip.size", 1, 1 << 20, 1024)? as usize,
                rate_per_s: loc.float(&g.rate_per_s, "gossip.rate_per_s", 0.1, 100_000.0, 200.0)?,
            })
        })
        .transpose()?;
    let throughput = raw
        .throughput
        .as_ref()
        .map(|t| -> Result<_, ScenarioError> {
            Ok(ThroughputPhase {
                pairs: loc.opt_int(&t.pairs, "throughput.pairs", 1, 1000, 1)? as usize,
                bytes: loc.opt_int(&t.bytes, "throughput.bytes", 1, 1 << 36, 16 << 20)? as u64,
            })
        })
        .transpose()?;
    if (gossip.is_some() || throughput.is_some() || dht.is_some()) && nodes < 2 {
        return Err(loc.error(
            raw.nodes.span(),
            "workloads ([dht], [gossip], [throughput]) need at least 2 nodes",
        ));
    }
    let idle = IdlePhase {
        seconds: loc.float(
            &raw.idle.as_ref().and_then(|i| i.seconds.clone()),
            "idle.seconds",
            0.0,
            3600.0,
            2.0,
        )?,
    };
    let mut thresholds = BTreeMap::new();
    for (metric, value) in &raw.thresholds {
        if crate::data::metrics::definition(metric).is_none() {
            return Err(loc.error(
                value.span(),
                format!(
                    "thresholds.{metric}: no such metric; `cargo xtask perf metrics` lists them"
                ),
            ));
        }
        let v = *value.get_ref();
        if !(0.0..=10.0).contains(&v) {
            return Err(loc.error(value.span(), format!("thresholds.{metric} = {v}: a threshold is a fraction between 0 and 10 (0.05 = 5 %)")));
        }
        thresholds.insert(metric.clone(), v);
    }

    let network = raw
        .network
        .as_ref()
        .map(|n| network_spec(n, nodes, transport, loc))
        .transpose()?;
    let chaos = raw
        .chaos
        .as_ref()
        .map(|c| chaos_phase(c, nodes, transport, network.is_some(), loc))
        .transpose()?;
    Ok(Scenario {
        name,
        description: raw.description,
        source: loc.path.to_path_buf(),
        nodes,
        topology,
        stagger_ms: loc.opt_int(&raw.stagger_ms, "stagger_ms", 0, 60_000, 0)? as u64,
        transport,
        repetitions: loc.opt_int(&raw.repetitions, "repetitions", 1, 10_000, 10)? as usize,
        warmup: loc.opt_int(&raw.warmup, "warmup", 0, 1000, 1)? as usize,
        seed: loc.opt_int(&raw.seed, "seed", 0, i64::MAX, 1)? as u64,
        formation,
        dht,
        gossip,
        throughput,
        idle,
        thresholds,
        network,
        chaos,
    })
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

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé=x", 7), (2, 4));
    }
}
