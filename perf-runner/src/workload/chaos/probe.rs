//! What the running nodes report during the chaos phase: their deliveries and their peer
//! counts, asked of every node at once (nodes that are down or paused are not asked).

use crate::cluster::fan_out::each_node;

use crate::{
    cluster::{Cluster, node_api::Received},
    workload::WorkloadError,
};

/// Every delivery of each running node (an empty list for a node that is down or paused).
pub(super) async fn received_by_all(
    cluster: &Cluster,
) -> Result<Vec<Vec<Received>>, WorkloadError> {
    let up = cluster.up();
    each_node(cluster.nodes.iter().enumerate().map(|(index, node)| {
        let running = up.contains(&index);
        async move {
            if !running {
                return Ok(Vec::new());
            }
            node.api
                .received()
                .await
                .map_err(|source| WorkloadError::Api { index, source })
        }
    }))
    .await
}

/// Connected peers of each running node (`None` for a node that is down or paused).
pub(super) async fn peer_counts(cluster: &Cluster) -> Result<Vec<Option<usize>>, WorkloadError> {
    let up = cluster.up();
    each_node(cluster.nodes.iter().enumerate().map(|(index, node)| {
        let running = up.contains(&index);
        async move {
            if !running {
                return Ok(None);
            }
            node.api
                .peers()
                .await
                .map(|p| Some(p.len()))
                .map_err(|source| WorkloadError::Api { index, source })
        }
    }))
    .await
}
