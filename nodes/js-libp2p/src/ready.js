// The ready line: the one JSON object this node writes on stdout (node contract v1).

/** Node contract version this node speaks. */
export const CONTRACT_VERSION = 1

/**
 * The optional parts of the contract this node implements: `events` (GET /events). Not
 * `perf` (no POST /perf) nor `metrics` (no /metrics with libp2p_bandwidth_bytes_total).
 */
export const CAPABILITIES = ['events']

/** Prints the ready line; the runner reads it as the first line on stdout. */
export function printReady ({ peerId, listenAddrs, control, version }) {
  process.stdout.write(JSON.stringify({
    event: 'ready',
    peer_id: peerId,
    listen_addrs: listenAddrs,
    control,
    transport: 'tcp',
    version,
    contract: CONTRACT_VERSION,
    capabilities: CAPABILITIES
  }) + '\n')
}
