//! Which earlier nodes each node bootstraps from, for each [`Topology`].
//!
//! Node `i` may only bootstrap from nodes `< i`, so the cluster can spawn in index order and
//! every bootstrap address is known when it is needed.

use rand::{SeedableRng, rngs::StdRng, seq::index::sample};

use crate::scenario::Topology;

/// Bootstrap targets of every node: `result[i]` lists indices `< i`.
pub fn bootstrap_targets(topology: Topology, nodes: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let tier = (nodes as f64).sqrt().ceil() as usize;
    (0..nodes)
        .map(|i| match (i, topology) {
            (0, _) => vec![],
            (_, Topology::Star) => vec![0],
            (_, Topology::Full) => (0..i).collect(),
            // Tier 1 hangs off the root; everyone else off a tier-1 node, round-robin.
            (_, Topology::Tiered) if i <= tier => vec![0],
            (_, Topology::Tiered) => vec![1 + (i % tier)],
            (_, Topology::Random { degree }) => {
                let mut picks = sample(&mut rng, i, degree.min(i)).into_vec();
                picks.sort_unstable();
                picks
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_is_an_earlier_node() {
        for topology in [
            Topology::Star,
            Topology::Full,
            Topology::Tiered,
            Topology::Random { degree: 3 },
        ] {
            for (i, targets) in bootstrap_targets(topology, 40, 7).iter().enumerate() {
                assert!(
                    targets.iter().all(|&t| t < i),
                    "{topology}: node {i} -> {targets:?}"
                );
                assert_eq!(
                    targets.is_empty(),
                    i == 0,
                    "{topology}: only the first node has no bootstrap"
                );
            }
        }
    }

    #[test]
    fn shapes() {
        assert_eq!(
            bootstrap_targets(Topology::Star, 3, 0),
            vec![vec![], vec![0], vec![0]]
        );
        assert_eq!(
            bootstrap_targets(Topology::Full, 3, 0),
            vec![vec![], vec![0], vec![0, 1]]
        );
        // 10 nodes: tier of 4 (nodes 1..=4) under the root, the rest spread over the tier.
        let tiered = bootstrap_targets(Topology::Tiered, 10, 0);
        assert_eq!(tiered[4], vec![0]);
        assert_eq!(tiered[5], vec![2]);
        assert_eq!(tiered[8], vec![1]);
        let random = bootstrap_targets(Topology::Random { degree: 3 }, 10, 42);
        assert_eq!(random[1].len(), 1);
        assert!(random[5..].iter().all(|t| t.len() == 3));
    }

    #[test]
    fn random_is_reproducible_per_seed() {
        let t = Topology::Random { degree: 2 };
        assert_eq!(bootstrap_targets(t, 20, 5), bootstrap_targets(t, 20, 5));
        assert_ne!(bootstrap_targets(t, 20, 5), bootstrap_targets(t, 20, 6));
    }
}
