// DHT puts and gets as the contract measures them: a put succeeds once one remote peer stored
// the record; a get is a network lookup answered by the first record a remote peer returns.

import { elapsedUs } from './clock.js'
import { recordKey } from './node.js'

/** How long a lookup may run before the get answers 504 (swarm-node's query timeout). */
const QUERY_TIMEOUT_MS = 10_000

/** A failed DHT operation with the HTTP status the contract gives it. */
export class DhtError extends Error {
  constructor (status, message) {
    super(message)
    this.status = status
  }
}

/** Stores `value` under `key`; resolves with the elapsed µs once a remote peer holds it. */
export async function put (node, key, value) {
  const { dht } = node.services
  if (dht.routingTable.size === 0) {
    throw new DhtError(503, 'no peer in the routing table to store the record: wait until the node has peers, then retry')
  }
  const started = performance.now()
  const signal = AbortSignal.timeout(QUERY_TIMEOUT_MS)
  const valueBytes = new TextEncoder().encode(value)
  const events = dht.put(recordKey(key), valueBytes, { signal })[Symbol.asyncIterator]()
  const errors = []
  try {
    while (true) {
      const { done, value: event } = await events.next()
      if (done) {
        break
      }
      if (event.name === 'PEER_RESPONSE' && event.record != null && equal(event.record.value, valueBytes)) {
        const elapsed = elapsedUs(started)
        // The put goes on in the background to the other closest peers.
        drain(events)
        return elapsed
      }
      if (event.name === 'QUERY_ERROR' && errors.length < 3) {
        errors.push(event.error?.message ?? String(event.error))
      }
    }
  } catch (err) {
    if (signal.aborted) {
      throw new DhtError(503, `no remote peer stored the record within ${QUERY_TIMEOUT_MS} ms: wait until the node has peers, then retry`)
    }
    throw new DhtError(503, `no remote peer stored the record: ${err.message}`)
  }
  throw new DhtError(503, `no remote peer stored the record${errors.length > 0 ? ` (${errors.join('; ')})` : ''}: wait until the node has peers, then retry`)
}

/** Looks `key` up over the network, skipping this node's own store. */
export async function get (node, key) {
  const { dht } = node.services
  const keyBytes = recordKey(key)
  if (dht.routingTable.size === 0) {
    throw new DhtError(404, `no peer in the routing table to ask for ${JSON.stringify(key)}`)
  }
  const started = performance.now()
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; controller.abort() }, QUERY_TIMEOUT_MS)
  const localHit = hasLocal(dht, keyBytes)
  let peersQueried = 0
  try {
    for await (const event of dht.get(keyBytes, { signal: controller.signal })) {
      if (event.name === 'SEND_QUERY') {
        peersQueried++
      } else if (event.name === 'PEER_RESPONSE' && event.record != null && !event.from.equals(node.peerId)) {
        return {
          key,
          value: new TextDecoder().decode(event.record.value),
          from: event.from.toString(),
          elapsed_us: elapsedUs(started),
          local_hit: await localHit,
          peers_queried: peersQueried
        }
      }
    }
  } catch (err) {
    if (timedOut) {
      throw new DhtError(504, `no remote record within ${QUERY_TIMEOUT_MS} ms`)
    }
    throw new DhtError(404, `the lookup ended without a remote record: ${err.message}`)
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
  if (timedOut) {
    throw new DhtError(504, `no remote record within ${QUERY_TIMEOUT_MS} ms`)
  }
  throw new DhtError(404, `no remote peer holds ${JSON.stringify(key)}`)
}

/** Whether this node's own store holds a valid record for the key (kad-dht's local read). */
async function hasLocal (dht, keyBytes) {
  try {
    await dht.contentFetching.getLocal(keyBytes)
    return true
  } catch {
    return false
  }
}

function drain (events) {
  (async () => {
    while (!(await events.next()).done) { /* the remaining puts */ }
  })().catch(() => {})
}

function equal (a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
