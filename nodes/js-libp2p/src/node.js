// Builds the libp2p node: identity from the key seed, TCP + noise + yamux, Kademlia in server
// mode with the `/swarmbench/` record namespace, gossipsub, identify and ping.

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { kadDHT } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'

/** The Kademlia namespace every implementation of the contract shares: keys are `/swarmbench/<key>`. */
export const RECORD_NAMESPACE = 'swarmbench'

/** The Kademlia record key of the runner's `key`. */
export function recordKey (key) {
  return new TextEncoder().encode(`/${RECORD_NAMESPACE}/${key}`)
}

/**
 * The ed25519 key of `--key-seed`, derived as swarm-node derives it: the 32-byte ed25519 secret
 * is the seed as 8 little-endian bytes followed by 24 zero bytes, so one seed gives the same
 * peer id in both implementations. Random without a seed.
 */
export async function privateKey (seed) {
  if (seed == null) {
    return generateKeyPair('Ed25519')
  }
  const secret = new Uint8Array(32)
  new DataView(secret.buffer).setBigUint64(0, seed, true)
  return generateKeyPairFromSeed('Ed25519', secret)
}

/** Creates (and starts) the libp2p node for a parsed config. */
export async function createNode (config) {
  return createLibp2p({
    privateKey: await privateKey(config.keySeed),
    addresses: {
      listen: config.listen.map(String),
      // Only the --external addresses are announced when given; observed ones never are.
      announce: config.external.map(String)
    },
    transports: [tcp()],
    // --max-peers: js-libp2p's connection manager prunes above maxConnections (it counts
    // connections, not peers; with one connection per peer that is the same bound).
    ...(config.maxPeers != null ? { connectionManager: { maxConnections: config.maxPeers } } : {}),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        clientMode: false,
        kBucketSize: config.kadReplicationFactor,
        validators: { [RECORD_NAMESPACE]: async () => {} },
        selectors: { [RECORD_NAMESPACE]: () => 0 },
        // Loopback clusters have no public addresses: keep every address the peers report.
        peerInfoMapper: (peer) => peer
      }),
      pubsub: gossipsub({
        // The runner's gossip payloads are up to 1 MiB, like swarm-node's limit.
        maxInboundDataLength: 2 * 1024 * 1024,
        allowPublishToZeroTopicPeers: false
      })
    }
  })
}
