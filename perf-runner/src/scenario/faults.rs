//! `[chaos]` and its `[[chaos.faults]]`: the fault schedule. Faults are validated in time
//! order against what each node is at that point of the schedule (a restart needs a node that
//! is down, a heal needs a network fault in force), and every key a fault kind does not take
//! is refused, so a typo cannot silently change the experiment.

use serde::Deserialize;
use toml::Spanned;

use super::{Locator, MAX_NODES, ScenarioError, Transport};

use NodeCondition::{Crashed, Paused, Up};

/// `[chaos]`: a gossip stream under a seeded schedule of faults, then recovery.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChaosPhase {
    /// Length of the phase, seconds from its start; every fault lies inside it.
    pub duration_s: f64,
    /// Messages published per second while it runs, round-robin over nodes.
    pub publish_rate_per_s: f64,
    /// How long recovery may take after the last heal before it counts as failed, seconds.
    pub recovery_timeout_s: f64,
    /// `[[chaos.faults]]`, in time order.
    pub faults: Vec<Fault>,
}

impl ChaosPhase {
    /// Nodes that `scale-up` faults add to the scenario's own.
    pub fn added_nodes(&self) -> usize {
        self.faults
            .iter()
            .map(|f| match f.kind {
                FaultKind::ScaleUp { count } => count,
                _ => 0,
            })
            .sum()
    }
}

/// One scheduled fault.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fault {
    /// Seconds after the phase starts.
    pub at_s: f64,
    /// What happens.
    pub kind: FaultKind,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FaultKind {
    /// No traffic between different groups (both directions); nodes in no group form one more.
    Partition {
        /// Node indices per side.
        groups: Vec<Vec<usize>>,
    },
    /// Cut one node off from every other (`isolate-bootstrap` is node 0: the root of every
    /// topology, and every node's bootstrap node in a star).
    Isolate {
        /// Node index.
        node: usize,
    },
    /// Flip one byte in `pct` percent of the datagrams on the links from or to `nodes`
    /// (every link when empty), until the heal.
    Corrupt {
        /// Percent of datagrams.
        pct: f64,
        /// Whose links; empty: all.
        nodes: Vec<usize>,
    },
    /// One node's links go down and up again and again until the heal: down for a random
    /// time with mean `down_s`, up for one with mean `up_s` (exponential, seeded).
    Intermittent {
        /// Node index.
        node: usize,
        /// Mean time down, seconds.
        down_s: f64,
        /// Mean time up, seconds.
        up_s: f64,
    },
    /// Back to the scenario's `[network]` rules on every link; ends every network fault.
    Heal,
    /// SIGKILL the node.
    Crash {
        /// Node index.
        node: usize,
    },
    /// Graceful leave: SIGTERM, and the node shuts down cleanly.
    Leave {
        /// Node index.
        node: usize,
    },
    /// Start a crashed or departed node again on the same public port, with a fresh identity
    /// (see `Cluster::restart` for why).
    Restart {
        /// Node index.
        node: usize,
    },
    /// SIGSTOP the node.
    Pause {
        /// Node index.
        node: usize,
    },
    /// SIGCONT a paused node.
    Resume {
        /// Node index.
        node: usize,
    },
    /// `count` new nodes join, bootstrapping from nodes that are up; they take the next
    /// indices.
    ScaleUp {
        /// How many.
        count: usize,
    },
    /// The highest-numbered nodes that are up leave gracefully (resolved from the scenario's
    /// `count` when it is validated).
    ScaleDown {
        /// Which nodes.
        nodes: Vec<usize>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChaos {
    duration_s: Option<Spanned<f64>>,
    publish_rate_per_s: Option<Spanned<f64>>,
    recovery_timeout_s: Option<Spanned<f64>>,
    #[serde(default)]
    faults: Vec<RawFault>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    at_s: Spanned<f64>,
    kind: Spanned<String>,
    groups: Option<Spanned<Vec<Vec<Spanned<i64>>>>>,
    node: Option<Spanned<i64>>,
    nodes: Option<Spanned<Vec<Spanned<i64>>>>,
    count: Option<Spanned<i64>>,
    pct: Option<Spanned<f64>>,
    down_s: Option<Spanned<f64>>,
    up_s: Option<Spanned<f64>>,
}

impl RawFault {
    /// The optional keys that are set, with their spans.
    fn keys_set(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let mut set = Vec::new();
        if let Some(v) = &self.groups {
            set.push(("groups", v.span()));
        }
        if let Some(v) = &self.node {
            set.push(("node", v.span()));
        }
        if let Some(v) = &self.nodes {
            set.push(("nodes", v.span()));
        }
        if let Some(v) = &self.count {
            set.push(("count", v.span()));
        }
        if let Some(v) = &self.pct {
            set.push(("pct", v.span()));
        }
        if let Some(v) = &self.down_s {
            set.push(("down_s", v.span()));
        }
        if let Some(v) = &self.up_s {
            set.push(("up_s", v.span()));
        }
        set
    }
}

/// The fault kinds a scenario may name: the keys each takes besides `at_s` and `kind`, and
/// how it is parsed.
const KINDS: &[Kind] = &[
    Kind::network("partition", &["groups"], partition),
    Kind::network("isolate", &["node"], |p| {
        Ok(FaultKind::Isolate { node: p.node()? })
    }),
    Kind::network("isolate-bootstrap", &[], |_| {
        Ok(FaultKind::Isolate { node: 0 })
    }),
    Kind::network("corrupt", &["pct", "nodes"], corrupt),
    Kind::network("intermittent", &["node", "down_s", "up_s"], intermittent),
    Kind::new("heal", &[], Parser::Heal),
    Kind::node("crash", Up, Crashed, |node| FaultKind::Crash { node }),
    // A node that left can be restarted like a crashed one.
    Kind::node("leave", Up, Crashed, |node| FaultKind::Leave { node }),
    Kind::node("restart", Crashed, Up, |node| FaultKind::Restart { node }),
    Kind::node("pause", Up, Paused, |node| FaultKind::Pause { node }),
    Kind::node("resume", Paused, Up, |node| FaultKind::Resume { node }),
    Kind::new("scale-up", &["count"], Parser::ScaleUp),
    Kind::new("scale-down", &["count"], Parser::ScaleDown),
];

/// A fault kind a scenario may name.
struct Kind {
    name: &'static str,
    /// The keys it takes besides `at_s` and `kind`.
    keys: &'static [&'static str],
    parse: Parser,
}

/// How a fault kind is parsed and what it does to the schedule.
enum Parser {
    /// A network fault: in force from then on, until the heal.
    Network(fn(&Parse) -> Result<FaultKind, ScenarioError>),
    /// Ends every network fault.
    Heal,
    ScaleUp,
    ScaleDown,
    /// A fault on one node, which must be in condition `needs` and is `becomes` after it.
    Node {
        needs: NodeCondition,
        becomes: NodeCondition,
        make: fn(usize) -> FaultKind,
    },
}

impl Kind {
    const fn new(name: &'static str, keys: &'static [&'static str], parse: Parser) -> Self {
        Kind { name, keys, parse }
    }

    const fn network(
        name: &'static str,
        keys: &'static [&'static str],
        parse: fn(&Parse) -> Result<FaultKind, ScenarioError>,
    ) -> Self {
        Kind::new(name, keys, Parser::Network(parse))
    }

    const fn node(
        name: &'static str,
        needs: NodeCondition,
        becomes: NodeCondition,
        make: fn(usize) -> FaultKind,
    ) -> Self {
        Kind::new(
            name,
            &["node"],
            Parser::Node {
                needs,
                becomes,
                make,
            },
        )
    }
}

/// One fault being parsed, with what checking its keys needs.
struct Parse<'a> {
    f: &'a RawFault,
    name: &'a str,
    /// Nodes at this point of the schedule.
    nodes: usize,
    transport: Transport,
    loc: &'a Locator<'a>,
}

impl Parse<'_> {
    /// An error at the fault's `kind`.
    fn error(&self, message: impl Into<String>) -> ScenarioError {
        self.loc.error(self.f.kind.span(), message)
    }

    /// The `node` key, a node that exists at this point of the schedule.
    fn node(&self) -> Result<usize, ScenarioError> {
        self.f
            .node
            .as_ref()
            .ok_or_else(|| self.error(format!("{} needs node = <index>", self.name)))
            .and_then(|n| node_index(n, self.nodes, self.loc))
    }

    /// The `count` key, 1 to 1000.
    fn count(&self) -> Result<(usize, &Spanned<i64>), ScenarioError> {
        let count = self
            .f
            .count
            .as_ref()
            .ok_or_else(|| self.error(format!("{} needs count = <nodes>", self.name)))?;
        Ok((self.loc.int(count, "count", 1, 1000)? as usize, count))
    }
}

fn node_index(v: &Spanned<i64>, nodes: usize, loc: &Locator) -> Result<usize, ScenarioError> {
    let i = *v.get_ref();
    if i < 0 || i as usize >= nodes {
        return Err(loc.error(
            v.span(),
            format!(
                "fault names node {i}, but at that point of the schedule the nodes are 0 to {}",
                nodes - 1
            ),
        ));
    }
    Ok(i as usize)
}

/// A node's condition while a fault schedule is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeCondition {
    Up,
    Crashed,
    Paused,
}

impl NodeCondition {
    fn as_str(self) -> &'static str {
        match self {
            NodeCondition::Up => "running",
            NodeCondition::Crashed => "stopped",
            NodeCondition::Paused => "paused",
        }
    }
}

/// What the schedule has done so far, for checking the next fault.
struct Schedule {
    conditions: Vec<NodeCondition>,
    /// A network fault is in force (a heal may follow).
    disturbed: bool,
}

impl Schedule {
    fn up(&self) -> usize {
        self.conditions
            .iter()
            .filter(|c| **c == NodeCondition::Up)
            .count()
    }
}

/// `[chaos]`: the phase's settings and its fault schedule, checked fault by fault.
pub(super) fn chaos_phase(
    raw: &RawChaos,
    nodes: usize,
    transport: Transport,
    has_network: bool,
    loc: &Locator,
) -> Result<ChaosPhase, ScenarioError> {
    if nodes < 2 {
        return Err(loc.error(0..0, "[chaos] needs at least 2 nodes"));
    }
    let duration_s = loc.float(&raw.duration_s, "chaos.duration_s", 1.0, 3600.0, 20.0)?;
    let mut faults = Vec::new();
    let mut schedule = Schedule {
        conditions: vec![NodeCondition::Up; nodes],
        disturbed: false,
    };
    for f in &raw.faults {
        let at_s = at_s(f, faults.last(), duration_s, loc)?;
        if !has_network {
            return Err(loc.error(
                f.kind.span(),
                "faults need a [network] table: the userspace switch applies them and tells crashes from partitions",
            ));
        }
        let kind = fault_kind(f, transport, &mut schedule, loc)?;
        if schedule.up() == 0 {
            return Err(loc.error(
                f.kind.span(),
                "this fault leaves no node running: the gossip stream needs a publisher",
            ));
        }
        faults.push(Fault { at_s, kind });
    }
    Ok(ChaosPhase {
        duration_s,
        publish_rate_per_s: loc.float(
            &raw.publish_rate_per_s,
            "chaos.publish_rate_per_s",
            0.1,
            10_000.0,
            10.0,
        )?,
        recovery_timeout_s: loc.float(
            &raw.recovery_timeout_s,
            "chaos.recovery_timeout_s",
            1.0,
            3600.0,
            30.0,
        )?,
        faults,
    })
}

/// A fault's time: inside the phase and not before the `previous` fault's.
fn at_s(
    f: &RawFault,
    previous: Option<&Fault>,
    duration_s: f64,
    loc: &Locator,
) -> Result<f64, ScenarioError> {
    let at_s = *f.at_s.get_ref();
    if !at_s.is_finite() || at_s < 0.0 || at_s >= duration_s {
        return Err(loc.error(
            f.at_s.span(),
            format!("fault at_s = {at_s} is outside the chaos phase (0 to duration_s = {duration_s}, exclusive)"),
        ));
    }
    if previous.is_some_and(|p| p.at_s > at_s) {
        return Err(loc.error(f.at_s.span(), "faults must be listed in time order"));
    }
    Ok(at_s)
}

/// One fault, checked against the schedule so far, which it then advances.
fn fault_kind(
    f: &RawFault,
    transport: Transport,
    schedule: &mut Schedule,
    loc: &Locator,
) -> Result<FaultKind, ScenarioError> {
    let name = f.kind.get_ref().as_str();
    let Some(kind) = KINDS.iter().find(|k| k.name == name) else {
        let names: Vec<String> = KINDS.iter().map(|k| format!("{:?}", k.name)).collect();
        return Err(loc.error(
            f.kind.span(),
            format!("unknown fault kind {name:?}; allowed: {}", names.join(", ")),
        ));
    };
    check_keys(f, kind, loc)?;
    let p = Parse {
        f,
        name,
        nodes: schedule.conditions.len(),
        transport,
        loc,
    };
    match &kind.parse {
        Parser::Network(parse) => {
            let fault = parse(&p)?;
            schedule.disturbed = true;
            Ok(fault)
        }
        Parser::Heal => heal(&p, schedule),
        Parser::ScaleUp => scale_up(&p, schedule),
        Parser::ScaleDown => scale_down(&p, schedule),
        Parser::Node {
            needs,
            becomes,
            make,
        } => node_fault(&p, schedule, *needs, *becomes, *make),
    }
}

/// Refuses every key `kind` does not take.
fn check_keys(f: &RawFault, kind: &Kind, loc: &Locator) -> Result<(), ScenarioError> {
    for (key, span) in f.keys_set() {
        if !kind.keys.contains(&key) {
            let takes = if kind.keys.is_empty() {
                "no keys besides at_s and kind".to_owned()
            } else {
                kind.keys.join(", ")
            };
            return Err(loc.error(
                span,
                format!("{} does not take {key}; it takes {takes}", kind.name),
            ));
        }
    }
    Ok(())
}

fn partition(p: &Parse) -> Result<FaultKind, ScenarioError> {
    let groups =
        p.f.groups
            .as_ref()
            .ok_or_else(|| p.error("a partition needs groups = [[...], [...]]"))?;
    let mut seen = vec![false; p.nodes];
    let mut out = Vec::new();
    for g in groups.get_ref() {
        let mut members = Vec::new();
        for n in g {
            let i = node_index(n, p.nodes, p.loc)?;
            if std::mem::replace(&mut seen[i], true) {
                return Err(p
                    .loc
                    .error(n.span(), format!("node {i} is in two partition groups")));
            }
            members.push(i);
        }
        out.push(members);
    }
    if out.iter().all(|g| g.is_empty()) {
        return Err(p.loc.error(
            groups.span(),
            "a partition needs at least one non-empty group",
        ));
    }
    Ok(FaultKind::Partition { groups: out })
}

fn corrupt(p: &Parse) -> Result<FaultKind, ScenarioError> {
    if p.transport == Transport::Tcp {
        return Err(p.error(
            "corrupt needs transport = \"quic\": the TCP proxy carries streams, and TCP below it would retransmit a corrupted segment",
        ));
    }
    let pct =
        p.f.pct
            .as_ref()
            .ok_or_else(|| p.error("corrupt needs pct = <percent of datagrams>"))?;
    if !(*pct.get_ref() > 0.0 && *pct.get_ref() <= 100.0) {
        return Err(p.loc.error(
            pct.span(),
            format!(
                "pct = {} is out of range; allowed: above 0, up to 100",
                pct.get_ref()
            ),
        ));
    }
    let members = match &p.f.nodes {
        None => Vec::new(),
        Some(list) => {
            if list.get_ref().is_empty() {
                return Err(p.loc.error(
                    list.span(),
                    "nodes = [] names no node; leave it out for every link",
                ));
            }
            list.get_ref()
                .iter()
                .map(|n| node_index(n, p.nodes, p.loc))
                .collect::<Result<_, _>>()?
        }
    };
    Ok(FaultKind::Corrupt {
        pct: *pct.get_ref(),
        nodes: members,
    })
}

fn intermittent(p: &Parse) -> Result<FaultKind, ScenarioError> {
    Ok(FaultKind::Intermittent {
        node: p.node()?,
        down_s: p.loc.float(&p.f.down_s, "down_s", 0.05, 60.0, 0.5)?,
        up_s: p.loc.float(&p.f.up_s, "up_s", 0.05, 60.0, 1.0)?,
    })
}

fn heal(p: &Parse, schedule: &mut Schedule) -> Result<FaultKind, ScenarioError> {
    if !schedule.disturbed {
        return Err(p.error(
            "heal without an earlier network fault (partition, isolate, corrupt, intermittent)",
        ));
    }
    schedule.disturbed = false;
    Ok(FaultKind::Heal)
}

/// `count` newcomers; the cluster, counting every scale-up so far, stays within [`MAX_NODES`]
/// (the runner holds files and sockets for every node it ever started).
fn scale_up(p: &Parse, schedule: &mut Schedule) -> Result<FaultKind, ScenarioError> {
    let (count, span) = p.count()?;
    let total = schedule.conditions.len() + count;
    if total as i64 > MAX_NODES {
        return Err(p.loc.error(
            span.span(),
            format!(
                "scale-up of {count} brings the scenario to {total} nodes; allowed: at most {MAX_NODES} nodes, counting every scale-up"
            ),
        ));
    }
    schedule
        .conditions
        .extend(std::iter::repeat_n(NodeCondition::Up, count));
    Ok(FaultKind::ScaleUp { count })
}

/// The highest-numbered nodes that are up leave; at least 2 must stay.
fn scale_down(p: &Parse, schedule: &mut Schedule) -> Result<FaultKind, ScenarioError> {
    let (asked, count) = p.count()?;
    let leaving: Vec<usize> = (0..p.nodes)
        .rev()
        .filter(|&i| schedule.conditions[i] == NodeCondition::Up)
        .take(asked)
        .collect();
    if leaving.len() < asked || schedule.up() - asked < 2 {
        return Err(p.loc.error(
            count.span(),
            format!(
                "scale-down of {asked} with {} nodes running would leave fewer than 2",
                schedule.up()
            ),
        ));
    }
    for &i in &leaving {
        schedule.conditions[i] = NodeCondition::Crashed;
    }
    Ok(FaultKind::ScaleDown { nodes: leaving })
}

/// A fault on the node named by `node`, which must be `needs` and becomes `becomes`.
fn node_fault(
    p: &Parse,
    schedule: &mut Schedule,
    needs: NodeCondition,
    becomes: NodeCondition,
    make: fn(usize) -> FaultKind,
) -> Result<FaultKind, ScenarioError> {
    let i = p.node()?;
    if schedule.conditions[i] != needs {
        return Err(p.error(format!(
            "{} of node {i}, which is {} at that point of the schedule",
            p.name,
            schedule.conditions[i].as_str()
        )));
    }
    schedule.conditions[i] = becomes;
    Ok(make(i))
}
