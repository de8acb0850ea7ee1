//! The correctness check of gossip: every node that should have received a message (alive and
//! reachable while it was published) received it exactly once, and what it received is what
//! was published (same publisher, same per-publisher sequence number).
//!
//! Identity is the publisher's peer id and its sequence number, which the node puts in every
//! payload; the runner's message id names the message in reports. Which (receiver, message)
//! pairs are expected is the caller's decision (a predicate), so the same check serves a quiet
//! network and a fault schedule.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::cluster::node_api::Received;

/// A message as the runner published it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Runner's message id.
    pub id: String,
    /// Publisher's node index.
    pub publisher: usize,
    /// Publisher's peer id.
    pub publisher_peer: String,
    /// Per-publisher sequence number the node assigned.
    pub seq: u64,
    /// When it was published, unix ns.
    pub published_ns: u64,
}

/// What went wrong for one (receiver, message) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Receiving node index.
    pub node: usize,
    /// Message id.
    pub id: String,
    /// Times it arrived (0 for a loss).
    pub times: usize,
}

/// The outcome of the check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// (receiver, message) pairs that should have been delivered.
    pub expected: usize,
    /// Of those, delivered exactly once.
    pub exactly_once: usize,
    /// Expected but never delivered.
    pub lost: Vec<Finding>,
    /// Delivered more than once.
    pub duplicated: Vec<Finding>,
    /// Delivered with a publisher or sequence number that does not match what was published,
    /// or with an id that was never published.
    pub mismatched: Vec<Finding>,
}

impl Report {
    /// Nothing lost, duplicated or mismatched.
    pub fn passed(&self) -> bool {
        self.lost.is_empty() && self.duplicated.is_empty() && self.mismatched.is_empty()
    }

    /// exactly_once / expected; `None` when nothing was expected, which measures nothing
    /// (a perfect 1 would be a claim without data).
    pub fn delivery_ratio(&self) -> Option<f64> {
        (self.expected > 0).then(|| self.exactly_once as f64 / self.expected as f64)
    }
}

/// Checks `received[node]` (every delivery each node reported, in any order) against
/// `published`. `expected(node, message)` says whether `node` had to receive `message`; a
/// publisher never receives its own messages. Deliveries of ids outside `published` that do
/// not start with `tag` belong to other runs and are ignored.
pub fn check(
    published: &[Published],
    received: &[Vec<Received>],
    tag: &str,
    expected: impl Fn(usize, &Published) -> bool,
) -> Report {
    let by_id: HashMap<&str, &Published> = published.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut report = Report::default();
    for (node, deliveries) in received.iter().enumerate() {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for r in deliveries {
            match by_id.get(r.id.as_str()) {
                Some(p) if p.publisher_peer == r.publisher && p.seq == r.seq => {
                    *counts.entry(p.id.as_str()).or_default() += 1;
                }
                Some(_) => report.mismatched.push(Finding {
                    node,
                    id: r.id.clone(),
                    times: 1,
                }),
                None if r.id.starts_with(tag) => report.mismatched.push(Finding {
                    node,
                    id: r.id.clone(),
                    times: 1,
                }),
                None => {}
            }
        }
        for p in published {
            let times = counts.get(p.id.as_str()).copied().unwrap_or(0);
            if times > 1 {
                report.duplicated.push(Finding {
                    node,
                    id: p.id.clone(),
                    times,
                });
            }
            if p.publisher == node || !expected(node, p) {
                continue;
            }
            report.expected += 1;
            match times {
                0 => report.lost.push(Finding {
                    node,
                    id: p.id.clone(),
                    times: 0,
                }),
                1 => report.exactly_once += 1,
                _ => {}
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(n: usize) -> Vec<Published> {
        (0..n)
            .map(|m| Published {
                id: format!("t-m{m}"),
                publisher: m % 3,
                publisher_peer: format!("peer{}", m % 3),
                seq: (m / 3) as u64,
                published_ns: 1000 * m as u64,
            })
            .collect()
    }

    fn delivery(p: &Published) -> Received {
        Received {
            id: p.id.clone(),
            publisher: p.publisher_peer.clone(),
            seq: p.seq,
            sent_ns: p.published_ns,
            received_ns: p.published_ns + 500,
        }
    }

    /// Every node receives every message it did not publish, once.
    fn perfect(published: &[Published], nodes: usize) -> Vec<Vec<Received>> {
        (0..nodes)
            .map(|node| {
                published
                    .iter()
                    .filter(|p| p.publisher != node)
                    .map(delivery)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_perfect_run_passes() {
        let p = published(9);
        let r = check(&p, &perfect(&p, 3), "t", |_, _| true);
        assert!(r.passed(), "{r:?}");
        assert_eq!((r.expected, r.exactly_once), (18, 18));
        assert_eq!(r.delivery_ratio(), Some(1.0));
        let nobody = check(&p, &perfect(&p, 3), "t", |_, _| false);
        assert_eq!((nobody.expected, nobody.delivery_ratio()), (0, None));
    }

    #[test]
    fn reports_exactly_the_planted_loss_and_duplicate() {
        let p = published(9);
        let mut received = perfect(&p, 3);
        // Node 1 loses t-m5; node 2 gets t-m4 twice.
        received[1].retain(|r| r.id != "t-m5");
        let dup = received[2].iter().find(|r| r.id == "t-m4").unwrap().clone();
        received[2].push(dup);
        let r = check(&p, &received, "t", |_, _| true);
        assert_eq!(
            r.lost,
            [Finding {
                node: 1,
                id: "t-m5".into(),
                times: 0
            }]
        );
        assert_eq!(
            r.duplicated,
            [Finding {
                node: 2,
                id: "t-m4".into(),
                times: 2
            }]
        );
        assert!(r.mismatched.is_empty());
        assert_eq!((r.expected, r.exactly_once), (18, 16));
    }

    #[test]
    fn unexpected_receivers_are_not_losses_and_forgeries_are_mismatches() {
        let p = published(6);
        let mut received = perfect(&p, 3);
        // Node 2 was down while m1 and m4 went out: nothing expected, nothing lost.
        received[2].retain(|r| r.id != "t-m1" && r.id != "t-m4");
        // Node 0 gets a message claiming another sequence number, and one never published.
        received[0][0].seq = 99;
        received[0].push(Received {
            id: "t-m77".into(),
            ..delivery(&p[1])
        });
        received[0].push(Received {
            id: "other-run-m1".into(),
            ..delivery(&p[1])
        });
        let r = check(&p, &received, "t", |node, m| {
            !(node == 2 && (m.id == "t-m1" || m.id == "t-m4"))
        });
        let mismatched: Vec<&str> = r.mismatched.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(mismatched, ["t-m1", "t-m77"]);
        // The forged t-m1 delivery does not count, so node 0 lost the real one.
        assert_eq!(r.lost.len(), 1);
        assert_eq!((r.lost[0].node, r.lost[0].id.as_str()), (0, "t-m1"));
        assert!(r.duplicated.is_empty());
    }
}
