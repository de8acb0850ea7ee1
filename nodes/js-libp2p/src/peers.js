// Keeps the node at `--target-peers` connections: dials the bootstrap peers once, then peers
// learnt through Kademlia (kept in the peer store) until enough are connected, and logs the
// lifecycle milestones.

import { log } from './log.js'

/** How often the peer count is checked against the target. */
const TOP_UP_INTERVAL_MS = 100
/** Least time between two lookups of this node's own id while peers are missing. */
const LOOKUP_INTERVAL_MS = 250

/** Dials and watches peers; `bootstrapErrors` collects failed bootstrap dials for `/health`. */
export class PeerKeeper {
  constructor (node, config, startedMs) {
    this.node = node
    this.config = config
    this.startedMs = startedMs
    this.bootstrapErrors = []
    this.dialing = new Set()
    this.lookup = { running: false, lastMs: -Infinity }
    this.timer = null
    this.milestones = { first: false, target: false, mesh: false, lost: false }
  }

  afterMs () {
    return Math.round(performance.now() - this.startedMs)
  }

  start () {
    const { node, config } = this
    if (config.bootstrap.length === 0) {
      log.info('no bootstrap peers: waiting to be dialed', { count: 0 })
    } else {
      log.info('dialing bootstrap peers', { count: config.bootstrap.length })
      for (const addr of config.bootstrap) {
        node.dial(addr).then(() => this.lookupSelf(), (err) => {
          const error = `${addr}: ${err.message}`
          this.bootstrapErrors.push(error)
          log.error('bootstrap dial failed', { error })
        })
      }
    }
    node.addEventListener('peer:connect', (evt) => this.onConnect(evt.detail))
    node.addEventListener('peer:disconnect', (evt) => this.onDisconnect(evt.detail))
    this.timer = setInterval(() => this.topUp(), TOP_UP_INTERVAL_MS)
  }

  stop () {
    clearInterval(this.timer)
  }

  /**
   * Asks the network for the peers closest to this node, which fills the peer store: one
   * lookup at a time, at most every LOOKUP_INTERVAL_MS (kad-dht's own self-query runs once a
   * second at start, then every few minutes).
   */
  lookupSelf () {
    const { dht } = this.node.services
    if (this.lookup.running || performance.now() - this.lookup.lastMs < LOOKUP_INTERVAL_MS || dht.routingTable.size === 0) {
      return
    }
    this.lookup.running = true
    this.lookup.lastMs = performance.now()
    ;(async () => {
      for await (const _ of dht.getClosestPeers(this.node.peerId.toMultihash().bytes, { signal: AbortSignal.timeout(10_000) })) { /* the lookup's side effects are what matter */ }
    })().catch(() => {}).finally(() => { this.lookup.running = false })
  }

  async topUp () {
    const { node, config } = this
    const connected = new Set(node.getPeers().map(String))
    this.checkMesh()
    let missing = config.targetPeers - connected.size - this.dialing.size
    if (missing <= 0) {
      return
    }
    let candidates = 0
    for (const peer of await node.peerStore.all()) {
      const id = peer.id.toString()
      if (missing <= 0) {
        break
      }
      if (peer.id.equals(node.peerId) || connected.has(id) || this.dialing.has(id) || peer.addresses.length === 0) {
        continue
      }
      missing--
      candidates++
      this.dialing.add(id)
      node.dial(peer.id, { signal: AbortSignal.timeout(5_000) })
        .catch(() => {})
        .finally(() => this.dialing.delete(id))
    }
    if (candidates === 0) {
      this.lookupSelf()
    }
  }

  onConnect (peer) {
    const connected = this.node.getPeers().length
    if (!this.milestones.first) {
      this.milestones.first = true
      log.info('first peer connected', { peer: peer.toString(), after_ms: this.afterMs() })
    } else if (this.milestones.lost) {
      this.milestones.lost = false
      log.info('a peer connected again after all were lost', { peer: peer.toString() })
    }
    if (!this.milestones.target && connected >= this.config.targetPeers) {
      this.milestones.target = true
      log.info('target peer count reached', { connected_peers: connected, after_ms: this.afterMs() })
    }
  }

  onDisconnect (peer) {
    if (this.node.getPeers().length === 0 && this.milestones.first) {
      this.milestones.lost = true
      log.info('no peers connected any more', { last: peer.toString() })
    }
  }

  checkMesh () {
    if (this.milestones.mesh) {
      return
    }
    const meshSize = this.node.services.pubsub.getMeshPeers(this.config.topic).length
    if (meshSize >= Math.min(this.config.targetPeers, 5) && meshSize > 0) {
      this.milestones.mesh = true
      log.info('gossip mesh formed', { mesh_size: meshSize, after_ms: this.afterMs() })
    }
  }
}
