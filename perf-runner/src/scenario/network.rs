//! `[network]`: the emulated conditions of every link, of the links of groups of nodes
//! (`[[network.groups]]`) and of directed links (`[[network.links]]`), in the units a
//! scenario uses; `NetworkRules::link_rules` turns them into the switch's.

use serde::Deserialize;
use toml::Spanned;

use super::{Locator, ScenarioError, Transport};

/// How packets are lost, as a scenario says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossModel {
    /// Independent per packet.
    Uniform,
    /// Bursty (Gilbert–Elliott with a lossless good and a lossy bad state).
    GilbertElliott,
}

/// The conditions of a link, in the units a scenario uses.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NetworkRules {
    /// One-way delay, ms.
    pub delay_ms: f64,
    /// Extra uniform delay in [0, jitter], ms.
    pub jitter_ms: f64,
    /// Long-run loss rate, percent.
    pub loss_pct: f64,
    /// Loss model.
    pub loss_model: LossModel,
    /// Mean burst length in packets (Gilbert–Elliott).
    pub burst_len: f64,
    /// Bandwidth cap, Mbit/s.
    pub rate_mbit: Option<f64>,
    /// Packets with one byte flipped, percent.
    pub corrupt_pct: f64,
}

impl NetworkRules {
    /// The switch's form of these rules.
    pub fn link_rules(&self) -> crate::netem::LinkRules {
        use crate::netem::{LinkRules, Loss};
        let p = self.loss_pct / 100.0;
        let loss = match self.loss_model {
            _ if p == 0.0 => Loss::None,
            LossModel::Uniform => Loss::Uniform(p),
            LossModel::GilbertElliott => {
                // Bad state loses everything and lasts burst_len packets on average; the
                // good → bad rate is set so that the long-run loss is `p`.
                let p_bad_to_good = 1.0 / self.burst_len;
                Loss::GilbertElliott {
                    p_good_to_bad: (p * p_bad_to_good / (1.0 - p)).min(1.0),
                    p_bad_to_good,
                    loss_good: 0.0,
                    loss_bad: 1.0,
                }
            }
        };
        LinkRules {
            delay: std::time::Duration::from_secs_f64(self.delay_ms / 1000.0),
            jitter: std::time::Duration::from_secs_f64(self.jitter_ms / 1000.0),
            loss,
            rate_bps: self.rate_mbit.map(|m| (m * 1e6) as u64),
            partitioned: false,
            corrupt: self.corrupt_pct / 100.0,
        }
    }
}

/// `[network]`: rules for every link, groups of nodes whose links get other rules, and
/// directed links with their own.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NetworkSpec {
    /// Rules of every link.
    pub rules: NetworkRules,
    /// `[[network.groups]]`: rules for every link from or to one of `nodes` (later groups
    /// win for links between groups).
    pub groups: Vec<NetworkGroup>,
    /// `[[network.links]]`: rules for the directed links from any of `from` to any of `to`;
    /// they win over groups, later ones over earlier ones.
    pub links: Vec<NetworkLink>,
}

/// One `[[network.links]]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NetworkLink {
    /// Senders.
    pub from: Vec<usize>,
    /// Receivers.
    pub to: Vec<usize>,
    /// The rules of each link from a sender to a receiver.
    pub rules: NetworkRules,
}

/// One `[[network.groups]]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NetworkGroup {
    /// Node indices.
    pub nodes: Vec<usize>,
    /// Their links' rules.
    pub rules: NetworkRules,
}

impl NetworkSpec {
    /// Whether any link loses or corrupts packets (rules only the UDP path can apply).
    pub fn has_datagram_rules(&self) -> bool {
        std::iter::once(&self.rules)
            .chain(self.groups.iter().map(|g| &g.rules))
            .chain(self.links.iter().map(|l| &l.rules))
            .any(|r| r.loss_pct > 0.0 || r.corrupt_pct > 0.0)
    }

    /// The rules of the directed link `from` → `to`.
    pub fn rules_for(&self, from: usize, to: usize) -> &NetworkRules {
        if let Some(link) = self
            .links
            .iter()
            .rev()
            .find(|l| l.from.contains(&from) && l.to.contains(&to))
        {
            return &link.rules;
        }
        self.groups
            .iter()
            .rev()
            .find(|g| g.nodes.contains(&from) || g.nodes.contains(&to))
            .map_or(&self.rules, |g| &g.rules)
    }

    /// Every node index a group or a link names.
    pub fn named_nodes(&self) -> impl Iterator<Item = usize> + '_ {
        self.groups
            .iter()
            .flat_map(|g| g.nodes.iter())
            .chain(self.links.iter().flat_map(|l| l.from.iter().chain(&l.to)))
            .copied()
    }
}

/// Declares a raw table that takes the seven rule keys besides its own fields: `[network]`,
/// a group and a link each spell them, because serde's `flatten` would lose the spans that
/// error messages need and cannot be combined with `deny_unknown_fields`.
macro_rules! rule_table {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident { $( $(#[$field_meta:meta])* $field:ident : $ty:ty ),* $(,)? }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$field_meta])* $field: $ty, )*
            delay_ms: Option<Spanned<f64>>,
            jitter_ms: Option<Spanned<f64>>,
            loss_pct: Option<Spanned<f64>>,
            loss_model: Option<Spanned<String>>,
            burst_len: Option<Spanned<f64>>,
            rate_mbit: Option<Spanned<f64>>,
            corrupt_pct: Option<Spanned<f64>>,
        }
    };
}

rule_table! {
    /// The rule keys of any table, gathered for validation.
    struct RawNetworkRules {}
}

rule_table! {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct RawNetwork {
        #[serde(default)]
        groups: Vec<RawNetworkGroup>,
        #[serde(default)]
        links: Vec<RawNetworkLink>,
    }
}

rule_table! {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawNetworkGroup {
        nodes: Spanned<Vec<Spanned<i64>>>,
    }
}

rule_table! {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawNetworkLink {
        from: Spanned<Vec<Spanned<i64>>>,
        to: Spanned<Vec<Spanned<i64>>>,
    }
}

macro_rules! rule_fields {
    ($raw:expr) => {
        RawNetworkRules {
            delay_ms: $raw.delay_ms.clone(),
            jitter_ms: $raw.jitter_ms.clone(),
            loss_pct: $raw.loss_pct.clone(),
            loss_model: $raw.loss_model.clone(),
            burst_len: $raw.burst_len.clone(),
            rate_mbit: $raw.rate_mbit.clone(),
            corrupt_pct: $raw.corrupt_pct.clone(),
        }
    };
}

/// Validates one set of link rules; `base` supplies what the table leaves out.
fn network_rules(
    raw: &RawNetworkRules,
    base: &NetworkRules,
    table: &str,
    loc: &Locator,
) -> Result<NetworkRules, ScenarioError> {
    let key = |k: &str| format!("{table}.{k}");
    let loss_model = match &raw.loss_model {
        None => base.loss_model,
        Some(m) => match m.get_ref().as_str() {
            "uniform" => LossModel::Uniform,
            "gilbert-elliott" => LossModel::GilbertElliott,
            other => {
                return Err(loc.error(
                    m.span(),
                    format!(
                        "unknown {} {other:?}; allowed: \"uniform\", \"gilbert-elliott\"",
                        key("loss_model")
                    ),
                ));
            }
        },
    };
    let loss_pct = loc.float(&raw.loss_pct, &key("loss_pct"), 0.0, 100.0, base.loss_pct)?;
    if loss_model == LossModel::GilbertElliott
        && let Some(l) = raw.loss_pct.as_ref().filter(|_| loss_pct >= 100.0)
    {
        return Err(loc.error(
            l.span(),
            "gilbert-elliott loss needs loss_pct below 100 (at 100 every packet is lost anyway; use uniform)",
        ));
    }
    let rate_mbit = match &raw.rate_mbit {
        None => base.rate_mbit,
        some => Some(loc.float(some, &key("rate_mbit"), 0.001, 100_000.0, 0.0)?),
    };
    Ok(NetworkRules {
        delay_ms: loc.float(
            &raw.delay_ms,
            &key("delay_ms"),
            0.0,
            60_000.0,
            base.delay_ms,
        )?,
        jitter_ms: loc.float(
            &raw.jitter_ms,
            &key("jitter_ms"),
            0.0,
            60_000.0,
            base.jitter_ms,
        )?,
        loss_pct,
        loss_model,
        burst_len: loc.float(
            &raw.burst_len,
            &key("burst_len"),
            1.0,
            10_000.0,
            base.burst_len,
        )?,
        rate_mbit,
        corrupt_pct: loc.float(
            &raw.corrupt_pct,
            &key("corrupt_pct"),
            0.0,
            100.0,
            base.corrupt_pct,
        )?,
    })
}

/// The TCP proxy carries streams: loss and corruption belong to datagrams (TCP under the
/// proxy would retransmit them away), so a TCP scenario that asks for them is refused.
fn refuse_datagram_rules(raw: &RawNetworkRules, loc: &Locator) -> Result<(), ScenarioError> {
    for (key, value) in [
        ("loss_pct", &raw.loss_pct),
        ("corrupt_pct", &raw.corrupt_pct),
    ] {
        if let Some(v) = value.as_ref().filter(|v| *v.get_ref() > 0.0) {
            return Err(loc.error(
                v.span(),
                format!("{key} needs transport = \"quic\": the TCP proxy emulates delay, jitter, rate and partitions, not packet loss or corruption"),
            ));
        }
    }
    Ok(())
}

/// The node indices of a group or link list, each checked against the scenario's nodes.
fn node_list(
    list: &Spanned<Vec<Spanned<i64>>>,
    nodes: usize,
    table: &str,
    loc: &Locator,
) -> Result<Vec<usize>, ScenarioError> {
    let mut members = Vec::new();
    for n in list.get_ref() {
        let i = *n.get_ref();
        if i < 0 || i as usize >= nodes {
            return Err(loc.error(
                n.span(),
                format!(
                    "{table} names node {i}, but the scenario has nodes 0 to {}",
                    nodes - 1
                ),
            ));
        }
        members.push(i as usize);
    }
    if members.is_empty() {
        return Err(loc.error(list.span(), format!("{table} needs at least one node")));
    }
    Ok(members)
}

pub(super) fn network_spec(
    raw: &RawNetwork,
    nodes: usize,
    transport: Transport,
    loc: &Locator,
) -> Result<NetworkSpec, ScenarioError> {
    let none = NetworkRules {
        delay_ms: 0.0,
        jitter_ms: 0.0,
        loss_pct: 0.0,
        loss_model: LossModel::Uniform,
        burst_len: 4.0,
        rate_mbit: None,
        corrupt_pct: 0.0,
    };
    let rules = network_rules(&rule_fields!(raw), &none, "network", loc)?;
    if transport == Transport::Tcp {
        refuse_datagram_rules(&rule_fields!(raw), loc)?;
    }
    let mut groups = Vec::new();
    for group in &raw.groups {
        let members = node_list(&group.nodes, nodes, "a network group", loc)?;
        if transport == Transport::Tcp {
            refuse_datagram_rules(&rule_fields!(group), loc)?;
        }
        groups.push(NetworkGroup {
            nodes: members,
            rules: network_rules(&rule_fields!(group), &rules, "network.groups", loc)?,
        });
    }
    let mut links = Vec::new();
    for link in &raw.links {
        let from = node_list(&link.from, nodes, "a network link's from", loc)?;
        let to = node_list(&link.to, nodes, "a network link's to", loc)?;
        if transport == Transport::Tcp {
            refuse_datagram_rules(&rule_fields!(link), loc)?;
        }
        links.push(NetworkLink {
            from,
            to,
            rules: network_rules(&rule_fields!(link), &rules, "network.links", loc)?,
        });
    }
    Ok(NetworkSpec {
        rules,
        groups,
        links,
    })
}
