// The `/events` log: timestamped `connected`, `disconnected`, `routing_updated` and
// `mesh_changed` events with the counts after each, the kinds swarm-node reports.

import { unixNs } from './clock.js'

/** An append-only event log fed by libp2p, Kademlia and gossipsub events. */
export class EventLog {
  constructor () {
    this.events = []
    this.meshSize = 0
  }

  push (kind, fields) {
    this.events.push({ ts_ns: unixNs(), kind, ...fields })
  }

  /** Events from index `since` on, at most `limit`. */
  page (since, limit = 10_000) {
    const events = this.events.slice(since, since + limit)
    return { events, next: since + events.length }
  }

  /** Subscribes to the node's events; `topic` is the gossip topic whose mesh is reported. */
  watch (node, topic) {
    const { dht, pubsub } = node.services
    node.addEventListener('peer:connect', (evt) => {
      this.push('connected', { peer: evt.detail.toString(), connected_peers: node.getPeers().length })
    })
    node.addEventListener('peer:disconnect', (evt) => {
      this.push('disconnected', { peer: evt.detail.toString(), connected_peers: node.getPeers().length })
      this.checkMesh(pubsub, topic)
    })
    for (const change of ['peer:add', 'peer:remove']) {
      dht.routingTable.addEventListener(change, (evt) => {
        this.push('routing_updated', { peer: evt.detail.toString(), routing_table_size: dht.routingTable.size })
      })
    }
    // The mesh changes on GRAFT and PRUNE (both directions) and in the heartbeat.
    for (const change of ['gossipsub:graft', 'gossipsub:prune', 'gossipsub:heartbeat']) {
      pubsub.addEventListener(change, () => this.checkMesh(pubsub, topic))
    }
  }

  checkMesh (pubsub, topic) {
    const size = pubsub.getMeshPeers(topic).length
    if (size !== this.meshSize) {
      this.meshSize = size
      this.push('mesh_changed', { mesh_size: size })
    }
  }
}
