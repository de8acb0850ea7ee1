// Wires the node together: parses flags, starts libp2p, the peer keeper, gossip, the event
// log and the control API, prints the ready line, and stops cleanly on SIGTERM and SIGINT.

import { readFileSync } from 'node:fs'
import { parseArgs } from './config.js'
import { serveControl } from './control.js'
import { EventLog } from './events.js'
import { Gossip } from './gossip.js'
import { log } from './log.js'
import { createNode } from './node.js'
import { PeerKeeper } from './peers.js'
import { printReady } from './ready.js'

/** How long a graceful stop may take before the process exits anyway (the contract allows 2 s). */
const STOP_DEADLINE_MS = 1_500

const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version

/** Runs the node until it is told to stop. */
export async function run (argv) {
  const config = parseArgs(argv)
  const startedMs = performance.now()
  const node = await createNode(config)
  log.info('starting', { peer_id: node.peerId.toString(), transport: config.transport, version: VERSION })
  const listenAddrs = node.getMultiaddrs().map(a => a.decapsulateCode(421).toString())
  for (const address of listenAddrs) {
    log.info('listening', { address })
  }
  const app = new App(node, config, startedMs)
  const server = await serveControl(app, config.control)
  app.server = server
  const { address, port } = server.address()
  const control = `http://${address}:${port}`
  printReady({ peerId: node.peerId.toString(), listenAddrs, control, version: VERSION })
  log.info('ready', { control })
  app.peerKeeper.start()
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => app.shutdown(`${signal}: shutting down`))
  }
}

class App {
  constructor (node, config, startedMs) {
    this.node = node
    this.config = config
    this.startedMs = startedMs
    this.events = new EventLog()
    this.events.watch(node, config.topic)
    this.gossip = new Gossip(node, config.topic)
    this.gossip.start()
    this.peerKeeper = new PeerKeeper(node, config, startedMs)
    this.stopping = false
  }

  health () {
    const { node, config } = this
    return {
      peer_id: node.peerId.toString(),
      uptime_ms: Math.round(performance.now() - this.startedMs),
      connected_peers: node.getPeers().length,
      routing_table_size: node.services.dht.routingTable.size,
      mesh_size: node.services.pubsub.getMeshPeers(config.topic).length,
      topic: config.topic,
      listen_addrs: node.getMultiaddrs().map(a => a.decapsulateCode(421).toString()),
      bootstrap_errors: this.peerKeeper.bootstrapErrors,
      gossip_published: this.gossip.published,
      gossip_received: this.gossip.received.length
    }
  }

  peers () {
    const byPeer = new Map()
    for (const connection of this.node.getConnections()) {
      const id = connection.remotePeer.toString()
      const addresses = byPeer.get(id) ?? []
      addresses.push(connection.remoteAddr.decapsulateCode(421).toString())
      byPeer.set(id, addresses)
    }
    return [...byPeer].map(([peerId, addresses]) => ({ peer_id: peerId, addresses }))
  }

  async shutdown (why) {
    if (this.stopping) {
      return
    }
    this.stopping = true
    log.info(why)
    const deadline = setTimeout(() => {
      log.warn('libp2p did not stop in time: exiting anyway', { deadline_ms: STOP_DEADLINE_MS })
      process.exit(0)
    }, STOP_DEADLINE_MS)
    this.peerKeeper.stop()
    this.server?.closeAllConnections()
    this.server?.close()
    log.info('event loop stopped', {
      uptime_s: ((performance.now() - this.startedMs) / 1000).toFixed(1),
      connected_peers: this.node.getPeers().length,
      gossip_published: this.gossip.published,
      gossip_received: this.gossip.received.length
    })
    try {
      await this.node.stop()
    } catch (err) {
      log.warn('libp2p stop failed', { error: err.message })
    }
    clearTimeout(deadline)
    log.info('stopped')
    process.exit(0)
  }
}
