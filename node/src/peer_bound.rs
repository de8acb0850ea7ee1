//! `--max-peers`: which connections to close when a node holds more peers than it should.
//!
//! Kademlia dials every peer a lookup asks, and gossipsub keeps each connection it opened a
//! stream on alive for good (rust-libp2p #5190), so without a bound every node of a
//! 100-node network ends up connected to all 99 others: measured, each connection costs a
//! node about 0.18 MiB of private memory and 0.0035 % of a core while idle, which is what kept
//! 250 nodes from forming on 2 cores. The bound closes surplus connections once they have
//! had time to serve the lookup that opened them, sparing the gossip mesh.
//!
//! Only connections this node dialed are closed, never ones a peer dialed to it: a node that
//! joins through a bootstrap peer has only that connection until its first lookup answers,
//! and on a loaded machine that takes longer than any grace period. When bootstrap nodes
//! closed their newest peers (measured: 250 nodes, one bootstrap node), 69 of 250 nodes were
//! left with one peer or none and a routing table holding only the bootstrap node. The
//! dialer knows whether it still needs a connection; the peer it dialed does not.
//!
//! Each distance range (Kademlia bucket) keeps one connection, the oldest: a node's
//! connections then span the network as its routing table does, near and far. Without that,
//! the bound left only mesh peers, and meshes form among the peers a node meets first: at
//! 1,000 nodes a bootstrap node and the 30 nodes that joined through it ended up connected
//! only among themselves, and none of the messages published among them reached the other
//! 969 nodes (measured: gossip delivery 0.955, every message published there reaching 30).
//!
//! Pure: the event loop passes its peers and acts on the answer.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use libp2p::PeerId;
use tokio::time::Instant;

/// How long a new peer is spared: a Kademlia query that dialed it times out within 10 s
/// (`network.rs`), so by then the lookup that opened the connection is over.
pub const GRACE: Duration = Duration::from_secs(10);

/// How long after closing surplus peers their memory is handed back (see
/// [`release_freed_memory`]): long enough for their connections to have closed.
pub const RELEASE_MEMORY_AFTER: Duration = Duration::from_secs(2);

/// Hands freed heap pages back to the system.
///
/// glibc returns memory only from the top of the heap, so the buffers of the dozens of
/// connections a node held while the network formed stay resident after they closed: measured
/// in a 100-node network with `--max-peers 16`, 18 MiB of private memory per node in steady
/// state, against about 2 MiB for a lone node. `malloc_trim` releases the free pages inside
/// the heap as well.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the system; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A connected peer as the bound sees it.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// The peer.
    pub id: PeerId,
    /// When its first open connection was established.
    pub since: Instant,
    /// Whether it is in this node's gossip mesh (never closed: the mesh carries gossip).
    pub in_mesh: bool,
    /// Whether this node dialed it (only dialed peers are ever closed).
    pub dialed: bool,
    /// Its Kademlia bucket: the base-2 logarithm of its XOR distance from this node.
    pub bucket: u32,
}

impl Peer {
    /// Whether the bound may close this peer at `now`, bucket representatives aside.
    fn closable(&self, now: Instant) -> bool {
        self.dialed && !self.in_mesh && now.duration_since(self.since) >= GRACE
    }
}

/// The buckets already represented by a peer the bound never closes now, and for every other
/// bucket its oldest peer: the ones spared so that every distance range keeps a connection.
fn bucket_representatives(peers: &[Peer], now: Instant) -> HashSet<PeerId> {
    let kept: HashSet<u32> = peers
        .iter()
        .filter(|p| !p.closable(now))
        .map(|p| p.bucket)
        .collect();
    let mut oldest: HashMap<u32, &Peer> = HashMap::new();
    for peer in peers.iter().filter(|p| !kept.contains(&p.bucket)) {
        let entry = oldest.entry(peer.bucket).or_insert(peer);
        if peer.since < entry.since {
            *entry = peer;
        }
    }
    oldest.values().map(|p| p.id).collect()
}

/// What to do now, and when to look again.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Trim {
    /// Peers to disconnect, newest first.
    pub close: Vec<PeerId>,
    /// When the next peer's grace ends, if the node is still above its bound after `close`.
    pub again_at: Option<Instant>,
}

/// Chooses which of `peers` to close so that at most `max` remain, at `now`.
///
/// Mesh peers, peers that dialed this node, peers younger than [`GRACE`] and the oldest peer
/// of a bucket no spared peer is in are spared (see the module's documentation). Among the
/// rest the newest go
/// first: the oldest connections are the ones the network formed around, and keeping them
/// keeps the topology stable instead of churning it.
pub fn trim(peers: &[Peer], max: usize, now: Instant) -> Trim {
    let surplus = peers.len().saturating_sub(max);
    if surplus == 0 {
        return Trim::default();
    }
    let representatives = bucket_representatives(peers, now);
    let mut closable: Vec<&Peer> = peers
        .iter()
        .filter(|p| p.closable(now) && !representatives.contains(&p.id))
        .collect();
    closable.sort_by_key(|p| std::cmp::Reverse(p.since));
    let close: Vec<PeerId> = closable.iter().take(surplus).map(|p| p.id).collect();
    let again_at = if close.len() < surplus {
        peers
            .iter()
            .filter(|p| p.dialed && !p.in_mesh && now.duration_since(p.since) < GRACE)
            .map(|p| p.since + GRACE)
            .min()
    } else {
        None
    };
    Trim { close, again_at }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(now: Instant, age_s: u64, in_mesh: bool) -> Peer {
        Peer {
            id: PeerId::random(),
            since: now - Duration::from_secs(age_s),
            in_mesh,
            dialed: true,
            // One bucket for all: these tests are about age, mesh and direction.
            bucket: 255,
        }
    }

    #[test]
    fn peers_that_dialed_this_node_are_never_closed() {
        let now = Instant::now() + Duration::from_secs(100);
        let mut peers = [
            peer(now, 60, false),
            peer(now, 50, false),
            peer(now, 40, false),
        ];
        peers[1].dialed = false;
        peers[2].dialed = false;
        let result = trim(&peers, 1, now);
        assert_eq!(result.close, vec![peers[0].id]);
        assert_eq!(result.again_at, None);
        peers[0].dialed = false;
        assert_eq!(trim(&peers, 1, now), Trim::default());
    }

    #[test]
    fn within_the_bound_nothing_is_closed() {
        let now = Instant::now() + Duration::from_secs(100);
        let peers = [peer(now, 30, false), peer(now, 20, false)];
        assert_eq!(trim(&peers, 2, now), Trim::default());
    }

    #[test]
    fn the_newest_peers_past_their_grace_go_first_and_the_mesh_stays() {
        let now = Instant::now() + Duration::from_secs(100);
        let peers = [
            peer(now, 50, false),
            peer(now, 40, true),
            peer(now, 30, false),
            peer(now, 20, true),
            peer(now, 15, false),
        ];
        let result = trim(&peers, 3, now);
        assert_eq!(result.close, vec![peers[4].id, peers[2].id]);
        assert_eq!(result.again_at, None);
    }

    #[test]
    fn young_peers_are_spared_and_the_next_look_is_when_the_first_grace_ends() {
        let now = Instant::now() + Duration::from_secs(100);
        let peers = [
            peer(now, 60, true),
            peer(now, 2, false),
            peer(now, 7, false),
            peer(now, 30, false),
        ];
        let result = trim(&peers, 1, now);
        assert_eq!(result.close, vec![peers[3].id]);
        assert_eq!(result.again_at, Some(peers[2].since + GRACE));
    }

    #[test]
    fn a_mesh_larger_than_the_bound_is_kept_whole() {
        let now = Instant::now() + Duration::from_secs(100);
        let peers = [
            peer(now, 60, true),
            peer(now, 50, true),
            peer(now, 40, true),
        ];
        assert_eq!(trim(&peers, 1, now), Trim::default());
    }

    #[test]
    fn the_oldest_peer_of_each_bucket_is_kept_so_far_peers_stay_connected() {
        let now = Instant::now() + Duration::from_secs(100);
        let mut peers = [
            peer(now, 60, true),
            peer(now, 50, false),
            peer(now, 40, false),
            peer(now, 30, false),
            peer(now, 20, false),
        ];
        // A mesh peer near, two peers far (bucket 255), two in the middle (bucket 250).
        peers[0].bucket = 240;
        peers[1].bucket = 255;
        peers[2].bucket = 250;
        peers[3].bucket = 255;
        peers[4].bucket = 250;
        let result = trim(&peers, 1, now);
        // Bound 1, but each bucket keeps its oldest: the newer of each pair goes.
        assert_eq!(result.close, vec![peers[4].id, peers[3].id]);
        // A bucket that a mesh peer already holds needs no representative.
        peers[1].bucket = 240;
        peers[3].bucket = 240;
        let result = trim(&peers, 1, now);
        assert_eq!(result.close, vec![peers[4].id, peers[3].id, peers[1].id]);
    }
}
