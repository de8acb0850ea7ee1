// Command-line flags of node contract v1 (node/README.md), parsed without dependencies.
//
// Unknown flags, missing values and malformed values are errors (a `UsageError`): the entry
// point prints one line on stderr and exits 2, with nothing on stdout, as the contract asks.

import { multiaddr } from '@multiformats/multiaddr'

/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** The defaults of swarm-node, except the transport (QUIC is not available in js-libp2p). */
const DEFAULTS = {
  listen: [],
  bootstrap: [],
  external: [],
  control: '127.0.0.1:0',
  keySeed: null,
  topic: 'swarmbench',
  transport: 'tcp',
  targetPeers: 8,
  kadReplicationFactor: 20
}

const REPEATABLE = { '--listen': 'listen', '--bootstrap': 'bootstrap', '--external': 'external' }
const SINGLE = {
  '--control': 'control',
  '--key-seed': 'keySeed',
  '--topic': 'topic',
  '--transport': 'transport',
  '--target-peers': 'targetPeers',
  '--kad-replication-factor': 'kadReplicationFactor',
  '--max-peers': 'maxPeers'
}

/** Parses `argv` (without `node` and the script) into a config, or throws a `UsageError`. */
export function parseArgs (argv) {
  const config = structuredClone(DEFAULTS)
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i]
    let value
    const eq = flag.indexOf('=')
    if (flag.startsWith('--') && eq > 0) {
      value = flag.slice(eq + 1)
      flag = flag.slice(0, eq)
    }
    if (flag === '--current-thread') {
      continue // swarm-node's runtime choice; Node.js has one event loop anyway
    }
    const field = REPEATABLE[flag] ?? SINGLE[flag]
    if (field == null) {
      throw new UsageError(`unknown flag ${JSON.stringify(argv[i])}: the flags are ${[...Object.keys(REPEATABLE), ...Object.keys(SINGLE)].join(', ')}`)
    }
    if (value == null) {
      value = argv[++i]
      if (value == null) {
        throw new UsageError(`${flag} needs a value`)
      }
    }
    if (REPEATABLE[flag] != null) {
      config[field].push(value)
    } else {
      config[field] = value
    }
  }
  return validate(config)
}

function validate (config) {
  if (config.transport === 'quic') {
    throw new UsageError('--transport quic is not supported: js-libp2p has no QUIC transport for Node.js; use --transport tcp')
  }
  if (config.transport !== 'tcp') {
    throw new UsageError(`--transport ${config.transport}: expected tcp (quic is not supported by js-libp2p)`)
  }
  config.listen = config.listen.map(a => parseAddr('--listen', a))
  if (config.listen.length === 0) {
    config.listen = [multiaddr('/ip4/127.0.0.1/tcp/0')]
  }
  config.external = config.external.map(a => parseAddr('--external', a))
  config.bootstrap = config.bootstrap.map(a => {
    const ma = parseAddr('--bootstrap', a)
    if (ma.getComponents().at(-1)?.name !== 'p2p') {
      throw new UsageError(`--bootstrap ${a}: the address must end in /p2p/<peer-id>`)
    }
    return ma
  })
  const control = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(config.control)
  if (control == null || Number(control[2]) > 65535) {
    throw new UsageError(`--control ${config.control}: expected IP:PORT, e.g. 127.0.0.1:0`)
  }
  config.control = { host: control[1], port: Number(control[2]) }
  if (config.keySeed != null) {
    if (!/^\d{1,20}$/.test(config.keySeed) || BigInt(config.keySeed) > 0xFFFF_FFFF_FFFF_FFFFn) {
      throw new UsageError(`--key-seed ${config.keySeed}: expected an unsigned 64-bit integer`)
    }
    config.keySeed = BigInt(config.keySeed)
  }
  config.targetPeers = positiveInt('--target-peers', config.targetPeers, 0)
  config.kadReplicationFactor = positiveInt('--kad-replication-factor', config.kadReplicationFactor, 1)
  if (config.maxPeers != null) {
    config.maxPeers = positiveInt('--max-peers', config.maxPeers, 1)
    if (config.maxPeers < config.targetPeers) {
      throw new UsageError(`--max-peers ${config.maxPeers} is below --target-peers ${config.targetPeers}: the node would close connections only to dial them again`)
    }
  }
  if (config.topic === '') {
    throw new UsageError('--topic must not be empty')
  }
  return config
}

function parseAddr (flag, text) {
  try {
    return multiaddr(text)
  } catch (err) {
    throw new UsageError(`${flag} ${text}: not a multiaddr (${err.message})`)
  }
}

function positiveInt (flag, text, min) {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < min || !/^\d+$/.test(String(text))) {
    throw new UsageError(`${flag} ${text}: expected an integer >= ${min}`)
  }
  return n
}
