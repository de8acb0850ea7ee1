//! The chaos phase's gossip stream: one message per tick, published round-robin over the
//! nodes that are up, each remembered for the exactly-once check.

use crate::{
    cluster::Cluster,
    workload::{WorkloadError, exactly_once::Published},
};

/// The messages published so far.
pub(super) struct Stream {
    tag: String,
    pub(super) published: Vec<Published>,
}

impl Stream {
    /// A stream whose message ids start with `tag`.
    pub(super) fn new(tag: String) -> Self {
        Stream {
            tag,
            published: Vec::new(),
        }
    }

    /// Publishes the next message from the next node of `up`, round-robin.
    pub(super) async fn publish(
        &mut self,
        cluster: &Cluster,
        up: &[usize],
    ) -> Result<(), WorkloadError> {
        let publisher = up[self.published.len() % up.len()];
        let id = format!("{}-m{}", self.tag, self.published.len());
        let node = &cluster.nodes[publisher];
        let answer = node
            .api
            .publish(64, &id)
            .await
            .map_err(|source| WorkloadError::Api {
                index: publisher,
                source,
            })?;
        self.published.push(Published {
            id,
            publisher,
            publisher_peer: node.peer_id().to_owned(),
            seq: answer.seq,
            published_ns: answer.sent_ns,
        });
        Ok(())
    }
}
