//! Network faults turned into switch rules: which directed links partitions and isolations
//! cut, corruption per link, the seeded schedule of an intermittent link, and the diff the
//! switch is sent. Node faults are not here (faults.rs sends those to the cluster).

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::{
    netem::{LinkRules, Switch},
    scenario::{FaultKind, NetworkSpec},
};

/// The directed links a fault cuts.
pub(super) fn cut_links(kind: &FaultKind, nodes: usize) -> Vec<(usize, usize)> {
    let side_of = |groups: &[Vec<usize>], n: usize| {
        groups
            .iter()
            .position(|g| g.contains(&n))
            .unwrap_or(groups.len())
    };
    let mut cut = Vec::new();
    for a in 0..nodes {
        for b in 0..nodes {
            let separated = a != b
                && match kind {
                    FaultKind::Partition { groups } => side_of(groups, a) != side_of(groups, b),
                    FaultKind::Isolate { node } => a == *node || b == *node,
                    _ => false,
                };
            if separated {
                cut.push((a, b));
            }
        }
    }
    cut
}

/// The network faults in force, turned into rules per directed link.
pub(super) struct LinkFaults<'a> {
    network: &'a NetworkSpec,
    /// Links cut by partitions and isolations.
    cut: HashSet<(usize, usize)>,
    /// Corruption (percent) on the links from or to some nodes (all links when empty).
    corrupt: Vec<(f64, Vec<usize>)>,
    flap: Option<Flap>,
    /// What the switch was last told per link (the scenario's rules until then).
    sent: HashMap<(usize, usize), LinkRules>,
}

/// An intermittent link: a node's links go down and up with exponential, seeded durations.
struct Flap {
    node: usize,
    down_s: f64,
    up_s: f64,
    down: bool,
    next: Instant,
    rng: StdRng,
}

impl Flap {
    /// An exponential duration with mean `mean_s`, at least 10 ms.
    fn draw(&mut self, mean_s: f64) -> Duration {
        let u: f64 = self.rng.random();
        Duration::from_secs_f64((-(1.0 - u).ln() * mean_s).max(0.01))
    }
}

impl<'a> LinkFaults<'a> {
    pub(super) fn new(network: &'a NetworkSpec) -> Self {
        LinkFaults {
            network,
            cut: HashSet::new(),
            corrupt: Vec::new(),
            flap: None,
            sent: HashMap::new(),
        }
    }

    /// Takes a network fault (or the heal) into account; `seed` seeds an intermittent link.
    pub(super) fn apply(&mut self, kind: &FaultKind, nodes: usize, seed: u64) {
        match kind {
            FaultKind::Heal => {
                self.cut.clear();
                self.corrupt.clear();
                self.flap = None;
            }
            FaultKind::Corrupt { pct, nodes } => self.corrupt.push((*pct, nodes.clone())),
            FaultKind::Intermittent { node, down_s, up_s } => {
                let mut flap = Flap {
                    node: *node,
                    down_s: *down_s,
                    up_s: *up_s,
                    down: true,
                    next: Instant::now(),
                    rng: StdRng::seed_from_u64(seed),
                };
                let first = flap.draw(*down_s);
                flap.next += first;
                self.flap = Some(flap);
            }
            other => self.cut.extend(cut_links(other, nodes)),
        }
    }

    /// Flips an intermittent link whose time has come; returns its new state (down?) if so.
    pub(super) fn tick(&mut self, now: Instant) -> Option<bool> {
        let flap = self.flap.as_mut().filter(|f| f.next <= now)?;
        flap.down = !flap.down;
        let mean = if flap.down { flap.down_s } else { flap.up_s };
        flap.next = now + flap.draw(mean);
        Some(flap.down)
    }

    pub(super) fn rules(&self, a: usize, b: usize) -> LinkRules {
        let mut rules = self.network.rules_for(a, b).link_rules();
        let flapped = self
            .flap
            .as_ref()
            .is_some_and(|f| f.down && (a == f.node || b == f.node));
        if flapped || self.cut.contains(&(a, b)) {
            rules.partitioned = true;
        }
        for (pct, nodes) in &self.corrupt {
            if nodes.is_empty() || nodes.contains(&a) || nodes.contains(&b) {
                rules.corrupt = rules.corrupt.max(pct / 100.0);
            }
        }
        rules
    }

    /// Sends the switch every link whose rules changed.
    pub(super) fn push(&mut self, switch: &Switch, nodes: usize) {
        for a in 0..nodes {
            for b in (0..nodes).filter(|&b| b != a) {
                let rules = self.rules(a, b);
                let current = self
                    .sent
                    .get(&(a, b))
                    .copied()
                    .unwrap_or_else(|| self.network.rules_for(a, b).link_rules());
                if rules != current {
                    switch.set_link(a, b, rules);
                    self.sent.insert((a, b), rules);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_cut_exactly_the_links_between_sides() {
        let cut = cut_links(
            &FaultKind::Partition {
                groups: vec![vec![0, 1]],
            },
            4,
        );
        // {0, 1} against the rest {2, 3}: 2 × 2 pairs, both directions.
        assert_eq!(cut.len(), 8);
        assert!(cut.contains(&(0, 2)) && cut.contains(&(3, 1)));
        assert!(!cut.contains(&(0, 1)) && !cut.contains(&(2, 3)));
        let isolated = cut_links(&FaultKind::Isolate { node: 2 }, 4);
        assert_eq!(isolated.len(), 6);
        assert!(isolated.iter().all(|&(a, b)| a == 2 || b == 2));
        assert!(cut_links(&FaultKind::Heal, 4).is_empty());
    }

    fn spec() -> NetworkSpec {
        NetworkSpec {
            rules: crate::scenario::NetworkRules {
                delay_ms: 1.0,
                jitter_ms: 0.0,
                loss_pct: 0.0,
                loss_model: crate::scenario::LossModel::Uniform,
                burst_len: 4.0,
                rate_mbit: None,
                corrupt_pct: 0.0,
            },
            groups: Vec::new(),
            links: Vec::new(),
        }
    }

    #[test]
    fn network_faults_compose_per_link_and_the_heal_clears_them_all() {
        let network = spec();
        let mut links = LinkFaults::new(&network);
        links.apply(&FaultKind::Isolate { node: 0 }, 3, 1);
        links.apply(
            &FaultKind::Corrupt {
                pct: 20.0,
                nodes: vec![2],
            },
            3,
            1,
        );
        assert!(links.rules(0, 1).partitioned && links.rules(2, 0).partitioned);
        assert!(!links.rules(1, 2).partitioned);
        assert_eq!(links.rules(1, 2).corrupt, 0.2, "2's links corrupt");
        assert_eq!(links.rules(0, 1).corrupt, 0.0, "0 → 1 does not touch 2");
        assert_eq!(
            links.rules(1, 2).delay,
            Duration::from_millis(1),
            "[network] kept"
        );
        links.apply(&FaultKind::Heal, 3, 0);
        for (a, b) in [(0, 1), (1, 2), (2, 0)] {
            assert_eq!(links.rules(a, b), network.rules.link_rules());
        }
    }

    #[test]
    fn an_intermittent_link_flaps_on_a_seeded_schedule() {
        let network = spec();
        let flips = |seed| {
            let mut links = LinkFaults::new(&network);
            links.apply(
                &FaultKind::Intermittent {
                    node: 1,
                    down_s: 0.2,
                    up_s: 0.5,
                },
                3,
                seed,
            );
            assert!(links.rules(0, 1).partitioned, "starts down");
            assert!(!links.rules(0, 2).partitioned, "only node 1's links");
            let start = Instant::now();
            let mut states = Vec::new();
            let mut t = start;
            while t < start + Duration::from_secs(60) {
                t += Duration::from_millis(10);
                if let Some(down) = links.tick(t) {
                    assert_eq!(links.rules(1, 2).partitioned, down);
                    states.push((t - start, down));
                }
            }
            states
        };
        let a = flips(7);
        assert_eq!(a, flips(7), "same seed, same schedule");
        assert_ne!(a, flips(8));
        assert!(a.windows(2).all(|w| w[0].1 != w[1].1), "alternates");
        // Means 0.2 s down + 0.5 s up: about 170 flips in a minute; far from 0 or 6000.
        assert!((60..400).contains(&a.len()), "{} flips", a.len());
    }
}
