//! Which messages each node had to receive: the windows during which a node was crashed or
//! paused (until it rejoined the mesh) and the start of its current process's life.

use std::time::{Duration, Instant};

use crate::{
    cluster::{
        Cluster,
        process::{LOG_TAIL_LINES, log_tail},
    },
    measure::clock::unix_ns,
    workload::{WorkloadError, exactly_once::Published},
};

/// When a node could not take part (crashed or paused), and since when it can again.
#[derive(Debug, Clone, Default)]
pub(super) struct Availability {
    /// [start, end) windows in unix ns during which the node was down or paused, until it
    /// had rejoined the mesh (end `None`: still is).
    pub(super) gaps: Vec<(u64, Option<u64>)>,
    /// Start of the current process's life (restart), or 0: deliveries to an earlier
    /// process died with it.
    pub(super) incarnation_ns: u64,
}

impl Availability {
    pub(super) fn open(&mut self, at: u64) {
        if self.gaps.last().is_none_or(|g| g.1.is_some()) {
            self.gaps.push((at, None));
        }
    }
    pub(super) fn close(&mut self, at: u64) {
        if let Some(g) = self.gaps.last_mut().filter(|g| g.1.is_none()) {
            g.1 = Some(at);
        }
    }
    /// Whether a message published at `t` had to reach this node: published in its current
    /// life and outside every gap.
    pub(super) fn expects(&self, t: u64) -> bool {
        t >= self.incarnation_ns
            && !self
                .gaps
                .iter()
                .any(|&(start, end)| t >= start && end.is_none_or(|e| t < e))
    }
    /// Whether a gap began within `grace` after `t` (a publisher that died right after
    /// publishing may not have sent its message anywhere).
    pub(super) fn gap_soon_after(&self, t: u64, grace: u64) -> bool {
        self.gaps
            .iter()
            .any(|&(start, _)| start >= t && start < t + grace)
    }
}

/// Whether node `node` had to receive message `m`: it is live at the end (a node that is
/// down took its deliveries with it), it could take part when `m` was published, and the
/// publisher did not die right after publishing.
pub(super) fn expectation(
    live: Vec<usize>,
    availability: &[Availability],
) -> impl Fn(usize, &Published) -> bool + '_ {
    let grace = Duration::from_secs(1).as_nanos() as u64;
    move |node: usize, m: &Published| {
        live.contains(&node)
            && availability[node].expects(m.published_ns)
            && !availability[m.publisher].gap_soon_after(m.published_ns, grace)
    }
}

/// How long after a restart or resume a node counts as away: until it has a gossip mesh
/// again, at most this long.
const REJOIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Waits until node `index` has peers and a gossip mesh again; returns when, unix ns.
pub(super) async fn rejoined(cluster: &Cluster, index: usize) -> Result<u64, WorkloadError> {
    let deadline = Instant::now() + REJOIN_TIMEOUT;
    loop {
        let health = cluster.nodes[index]
            .api
            .health()
            .await
            .map_err(|source| WorkloadError::Api { index, source })?;
        if health.connected_peers > 0 && health.mesh_size > 0 {
            return Ok(unix_ns());
        }
        if Instant::now() > deadline {
            return Err(WorkloadError::Timeout(format!(
                "node {index} did not rejoin within {REJOIN_TIMEOUT:?} (peers {}, mesh {}); last lines of {}:\n{}",
                health.connected_peers,
                health.mesh_size,
                cluster.nodes[index].process.log_path.display(),
                log_tail(&cluster.nodes[index].process.log_path, LOG_TAIL_LINES)
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_windows_decide_what_was_expected() {
        let mut a = Availability::default();
        a.open(100);
        a.close(200);
        assert!(a.expects(99) && !a.expects(100) && !a.expects(199) && a.expects(200));
        a.open(300);
        assert!(!a.expects(10_000), "an open gap lasts");
        a.close(400);
        a.incarnation_ns = 400;
        assert!(
            !a.expects(250),
            "before the restart: delivered to a process that is gone"
        );
        assert!(a.expects(450));
        assert!(a.gap_soon_after(290, 20) && !a.gap_soon_after(250, 20));
    }
}
