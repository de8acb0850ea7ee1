//! Validation of a parsed scenario: every value's range and the relations between values
//! (degree < nodes, workloads need 2 nodes), with errors located at `file:line:col`. Each
//! table has its own check; `[network]`, `[chaos]` and the phase tables have their files.
//!
//! Command-line overrides go through the same checks: [`RawScenario::override_with`] puts
//! each value in place of the file's, with a span past the end of any file that
//! [`Locator::error`] turns into the flag (`--warmup 99999999999 is out of range; allowed: 0
//! to 1000`), so the rules for a file and for a flag cannot drift apart.

use std::{collections::BTreeMap, ops::Range, path::Path};

use serde::Deserialize;
use toml::Spanned;

use super::{
    MAX_NODES, Overrides, Scenario, ScenarioError, Topology, Transport,
    faults::{RawChaos, chaos_phase},
    implementations::{RawNodeGroup, node_groups},
    network::{RawNetwork, network_spec},
    phases::{
        DhtPhase, GossipPhase, RawDht, RawFormation, RawGossip, RawIdle, RawNodeSettings,
        RawThroughput, ThroughputPhase, dht_phase, formation_phase, gossip_phase, idle_phase,
        node_settings, throughput_phase,
    },
};

/// The scenario file as serde reads it, every value with its span.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
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
    node: Option<RawNodeSettings>,
    formation: Option<RawFormation>,
    dht: Option<RawDht>,
    gossip: Option<RawGossip>,
    throughput: Option<RawThroughput>,
    idle: Option<RawIdle>,
    #[serde(default)]
    thresholds: BTreeMap<String, Spanned<f64>>,
    network: Option<RawNetwork>,
    chaos: Option<RawChaos>,
    #[serde(default)]
    node_groups: Vec<RawNodeGroup>,
}

impl RawScenario {
    /// Puts the command-line overrides in place of the file's values. Each gets a span past
    /// the end of any file (see [`FLAG_SPANS`]) that names its flag as written (`--nodes 3`);
    /// the returned list holds those names, in span order. `--nodes` also drops the file's
    /// `formation.target_peers`, so that the default for the new size applies, and is refused
    /// for a scenario with `[chaos]`, whose schedule was written node by node.
    pub(super) fn override_with(
        &mut self,
        overrides: &Overrides,
    ) -> Result<Vec<String>, ScenarioError> {
        let mut flags: Vec<String> = Vec::new();
        let mut flag = |name: String| {
            let start = FLAG_SPANS + flags.len();
            flags.push(name);
            start..start + 1
        };
        let int = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        if let Some(nodes) = overrides.nodes {
            let original = *self.nodes.get_ref();
            if self.chaos.is_some() && int(nodes) != original {
                return Err(ScenarioError::Override(format!(
                    "--nodes cannot change a scenario with [chaos]: its fault schedule was validated for {original} nodes; edit the file instead"
                )));
            }
            self.nodes = Spanned::new(flag(format!("--nodes {nodes}")), int(nodes));
            if let Some(formation) = &mut self.formation {
                formation.forget_target_peers();
            }
        }
        if let Some(repetitions) = overrides.repetitions {
            let span = flag(format!("--repetitions {repetitions}"));
            self.repetitions = Some(Spanned::new(span, int(repetitions)));
        }
        if let Some(warmup) = overrides.warmup {
            let span = flag(format!("--warmup {warmup}"));
            self.warmup = Some(Spanned::new(span, int(warmup)));
        }
        if let Some(transport) = overrides.transport {
            let span = flag(format!("--transport {transport}"));
            self.transport = Some(Spanned::new(span, transport.as_str().to_owned()));
        }
        Ok(flags)
    }
}

/// Where the spans of command-line values begin: past the end of any scenario file (which is
/// at most [`super::MAX_SCENARIO_BYTES`] long), one span per flag.
const FLAG_SPANS: usize = usize::MAX / 2;

/// Converts spans to positions and builds errors for one file.
pub(super) struct Locator<'a> {
    pub(super) path: &'a Path,
    pub(super) text: &'a str,
    /// The command-line values in the scenario, by span (see [`FLAG_SPANS`]): `--nodes 3`.
    pub(super) flags: &'a [String],
}

impl Locator<'_> {
    /// An error at `span`: `file:line:col: message`, or for a value from the command line
    /// `--flag value: message` (a message that names the flag itself is kept as it is).
    pub(super) fn error(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        let message = message.into();
        if let Some(flag) = self.flag(&span) {
            return ScenarioError::Override(if message.starts_with(flag) {
                message
            } else {
                format!("{flag}: {message}")
            });
        }
        let (line, column) = line_column(self.text, span.start);
        ScenarioError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            message,
        }
    }

    /// The flag a span stands for, when the value came from the command line.
    fn flag(&self, span: &Range<usize>) -> Option<&str> {
        let index = span.start.checked_sub(FLAG_SPANS)?;
        self.flags.get(index).map(String::as_str)
    }

    /// How a message names a value: `warmup = 5` in a file, `--warmup 5` on the command line.
    fn subject(&self, span: &Range<usize>, key: &str, value: impl std::fmt::Display) -> String {
        match self.flag(span) {
            Some(flag) => flag.to_owned(),
            None => format!("{key} = {value}"),
        }
    }

    /// An integer in `[min, max]`, or an error naming the key and the allowed range.
    pub(super) fn int(
        &self,
        value: &Spanned<i64>,
        key: &str,
        min: i64,
        max: i64,
    ) -> Result<i64, ScenarioError> {
        let v = *value.get_ref();
        if v < min || v > max {
            let subject = self.subject(&value.span(), key, v);
            return Err(self.error(
                value.span(),
                format!("{subject} is out of range; allowed: {min} to {max}"),
            ));
        }
        Ok(v)
    }

    pub(super) fn opt_int(
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
    pub(super) fn float(
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

/// Checks every table of `raw` and builds the scenario.
pub(super) fn validate(raw: RawScenario, loc: &Locator) -> Result<Scenario, ScenarioError> {
    let name = name(&raw.name, loc)?;
    let nodes = loc.int(&raw.nodes, "nodes", 1, MAX_NODES)? as usize;
    let topology = topology(&raw, nodes, loc)?;
    let transport = transport(&raw.transport, loc)?;
    let formation = formation_phase(raw.formation.as_ref(), nodes, loc)?;
    let Workloads {
        dht,
        gossip,
        throughput,
    } = workloads(&raw, nodes, loc)?;
    let idle = idle_phase(raw.idle.as_ref(), loc)?;
    let thresholds = thresholds(&raw.thresholds, loc)?;
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
    let node_groups = node_groups(
        &raw.node_groups,
        nodes,
        transport,
        raw.transport.as_ref().map(|t| t.span()),
        loc,
    )?;
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
        node: node_settings(raw.node.as_ref()),
        formation,
        dht,
        gossip,
        throughput,
        idle,
        thresholds,
        network,
        chaos,
        node_groups,
    })
}

/// `transport`, QUIC unless set.
fn transport(raw: &Option<Spanned<String>>, loc: &Locator) -> Result<Transport, ScenarioError> {
    Ok(match raw {
        None => Transport::Quic,
        Some(t) => t
            .get_ref()
            .parse()
            .map_err(|e: String| loc.error(t.span(), e))?,
    })
}

/// The workload tables `[dht]`, `[gossip]` and `[throughput]` the scenario sets; any of them
/// needs at least 2 nodes.
fn workloads(raw: &RawScenario, nodes: usize, loc: &Locator) -> Result<Workloads, ScenarioError> {
    let dht = raw.dht.as_ref().map(|d| dht_phase(d, loc)).transpose()?;
    let gossip = raw
        .gossip
        .as_ref()
        .map(|g| gossip_phase(g, loc))
        .transpose()?;
    let throughput = raw
        .throughput
        .as_ref()
        .map(|t| throughput_phase(t, loc))
        .transpose()?;
    if (gossip.is_some() || throughput.is_some() || dht.is_some()) && nodes < 2 {
        return Err(loc.error(
            raw.nodes.span(),
            "workloads ([dht], [gossip], [throughput]) need at least 2 nodes",
        ));
    }
    Ok(Workloads {
        dht,
        gossip,
        throughput,
    })
}

/// The workload tables a scenario sets.
struct Workloads {
    dht: Option<DhtPhase>,
    gossip: Option<GossipPhase>,
    throughput: Option<ThroughputPhase>,
}

/// The scenario's name: it names the output directory.
fn name(raw: &Spanned<String>, loc: &Locator) -> Result<String, ScenarioError> {
    let name = raw.get_ref().clone();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(loc.error(raw.span(), format!("name {name:?} must be non-empty ASCII letters, digits, '-' or '_' (it names the output directory)")));
    }
    Ok(name)
}

/// `topology`, with `degree` for (and only for) a random one.
fn topology(raw: &RawScenario, nodes: usize, loc: &Locator) -> Result<Topology, ScenarioError> {
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
    Ok(topology)
}

/// `[thresholds]`: per-metric fractions, for metrics that exist.
fn thresholds(
    raw: &BTreeMap<String, Spanned<f64>>,
    loc: &Locator,
) -> Result<BTreeMap<String, f64>, ScenarioError> {
    let mut thresholds = BTreeMap::new();
    for (metric, value) in raw {
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
    Ok(thresholds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé=x", 7), (2, 4));
    }
}
