// Gossip payload codec of node contract v1 (node/README.md, "Gossip payloads"):
//
//   [1: version=1][8: seq, u64 BE][8: sent_ns, u64 BE][2: id length L, u16 BE][L: id, UTF-8][zero padding to size]
//
// The publisher is not in the payload: gossipsub signs messages, and the signed `from` names it.

export const FORMAT_VERSION = 1
const FIXED_HEADER_LEN = 1 + 8 + 8 + 2

/** Encodes `{seq, sentNs, id}` (bigints for the u64 fields), zero-padded to `size` bytes. */
export function encode ({ seq, sentNs, id }, size) {
  const idBytes = new TextEncoder().encode(id)
  if (idBytes.length > 0xFFFF) {
    throw new RangeError(`message id of ${idBytes.length} bytes is longer than 65535`)
  }
  const out = new Uint8Array(Math.max(size, FIXED_HEADER_LEN + idBytes.length))
  const view = new DataView(out.buffer)
  view.setUint8(0, FORMAT_VERSION)
  view.setBigUint64(1, seq)
  view.setBigUint64(9, sentNs)
  view.setUint16(17, idBytes.length)
  out.set(idBytes, FIXED_HEADER_LEN)
  return out
}

/** Decodes a payload's header, or throws saying why it cannot. */
export function decode (payload) {
  if (payload.length < FIXED_HEADER_LEN) {
    throw new RangeError(`payload of ${payload.length} bytes is shorter than its header`)
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  const version = view.getUint8(0)
  if (version !== FORMAT_VERSION) {
    throw new RangeError(`payload format version ${version} is not supported (expected ${FORMAT_VERSION})`)
  }
  const idLen = view.getUint16(17)
  if (payload.length < FIXED_HEADER_LEN + idLen) {
    throw new RangeError(`payload of ${payload.length} bytes is shorter than its message id`)
  }
  const id = new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(FIXED_HEADER_LEN, FIXED_HEADER_LEN + idLen))
  return { seq: view.getBigUint64(1), sentNs: view.getBigUint64(9), id }
}
