// The control API over Node's http module: routes, JSON bodies and every error as JSON.
//
// Limits follow node/README.md where Node's server has a knob for them: body size (413),
// request head 5 s and whole request 15 s (408 from Node), idle keep-alive 120 s.

import http from 'node:http'
import * as dht from './dht.js'
import { log } from './log.js'

/** Request body limit: 1 MiB + 4 KiB, swarm-node's. */
const MAX_BODY_BYTES = 1024 * 1024 + 4096

class HttpError extends Error {
  constructor (status, message) {
    super(message)
    this.status = status
  }
}

/** Starts the control API on `host:port`; resolves with the bound server once it listens. */
export async function serveControl (app, { host, port }) {
  const server = http.createServer((req, res) => {
    handle(app, req, res).catch((err) => {
      const status = err.status ?? 500
      if (status === 500) {
        log.error('control request failed', { route: req.url, error: err.stack ?? err.message })
      }
      send(res, status, { error: err.message })
    })
  })
  server.keepAliveTimeout = 120_000
  server.headersTimeout = 5_000
  server.requestTimeout = 15_000
  server.maxRequestsPerSocket = 0
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  return server
}

/** Marks bigints in JSON text; random, so that no client string can pose as one. */
const BIGINT_MARK = `bigint-${Math.random().toString(36).slice(2)}:`
const BIGINT_MARKED = new RegExp(`"${BIGINT_MARK}(\\d+)"`, 'g')

/** JSON with bigints (the u64 `*_ns` times and sequence numbers) written as exact integers. */
export function toJson (body) {
  return JSON.stringify(body, (_key, value) => typeof value === 'bigint' ? `${BIGINT_MARK}${value}` : value)
    .replace(BIGINT_MARKED, '$1')
}

function send (res, status, body) {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const text = toJson(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** The routes: [method, path pattern, handler(app, match, req, url)]. */
const ROUTES = [
  ['GET', /^\/health$/, (app) => app.health()],
  ['GET', /^\/peers$/, (app) => app.peers()],
  ['GET', /^\/events$/, (app, _m, _req, url) => app.events.page(since(url))],
  ['POST', /^\/dht\/put$/, async (app, _m, req) => {
    const body = await jsonBody(req, { key: 'string', value: 'string' })
    const elapsed = await dht.put(app.node, body.key, body.value)
    return { key: body.key, elapsed_us: elapsed }
  }],
  ['GET', /^\/dht\/get\/(.+)$/, (app, m) => dht.get(app.node, decodePath(m[1]))],
  ['POST', /^\/gossip\/publish$/, async (app, _m, req) => {
    const body = await jsonBody(req, { size: 'size', id: 'string' }, { topic: 'string' })
    const topic = body.topic ?? app.config.topic
    if (topic !== app.config.topic) {
      throw new HttpError(400, `this node publishes only on topic ${JSON.stringify(app.config.topic)} (set with --topic), not ${JSON.stringify(topic)}`)
    }
    if (!app.gossip.hasSubscribers(topic)) {
      throw new HttpError(503, `no peer is subscribed to ${JSON.stringify(topic)} yet: wait for the mesh to form, then retry`)
    }
    try {
      return await app.gossip.publish({ size: body.size, id: body.id, topic })
    } catch (err) {
      throw new HttpError(503, `publish failed: ${err.message}`)
    }
  }],
  ['GET', /^\/gossip\/received$/, (app, _m, _req, url) => app.gossip.page(since(url))],
  ['POST', /^\/shutdown$/, (app) => {
    setImmediate(() => app.shutdown('POST /shutdown: shutting down'))
    return [202, { status: 'shutting down' }]
  }]
]

async function handle (app, req, res) {
  const url = new URL(req.url, 'http://control')
  const route = ROUTES.filter(([, pattern]) => pattern.test(url.pathname))
  if (route.length === 0) {
    throw new HttpError(404, `no route ${url.pathname}: see node/README.md for the control API`)
  }
  const found = route.find(([method]) => method === req.method)
  if (found == null) {
    res.setHeader('allow', route.map(([method]) => method).join(', '))
    throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}: use ${route.map(([method]) => method).join(' or ')}`)
  }
  const [, pattern, handler] = found
  let result
  try {
    result = await handler(app, url.pathname.match(pattern), req, url)
  } catch (err) {
    if (err instanceof dht.DhtError) {
      throw new HttpError(err.status, err.message)
    }
    throw err
  }
  const [status, body] = Array.isArray(result) && typeof result[0] === 'number' ? result : [200, result]
  send(res, status, body)
}

function since (url) {
  const text = url.searchParams.get('since') ?? '0'
  if (!/^\d+$/.test(text)) {
    throw new HttpError(400, `since=${text}: expected a non-negative integer`)
  }
  return Number(text)
}

function decodePath (text) {
  try {
    return decodeURIComponent(text)
  } catch {
    throw new HttpError(400, `the key ${text} does not decode as percent-encoded UTF-8`)
  }
}

/** Reads a JSON body with the `required` and `optional` fields, rejecting any other (422). */
async function jsonBody (req, required, optional = {}) {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) {
    req.resume()
    throw new HttpError(413, `a body of ${declared} bytes is over the ${MAX_BODY_BYTES}-byte limit`)
  }
  const chunks = []
  let length = 0
  for await (const chunk of req) {
    length += chunk.length
    if (length > MAX_BODY_BYTES) {
      throw new HttpError(413, `the body is over the ${MAX_BODY_BYTES}-byte limit`)
    }
    chunks.push(chunk)
  }
  let body
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch (err) {
    throw new HttpError(400, `malformed JSON: ${err.message}`)
  }
  if (body == null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(422, `expected a JSON object with ${Object.keys(required).join(', ')}`)
  }
  const types = { ...optional, ...required }
  for (const [field, value] of Object.entries(body)) {
    if (types[field] == null) {
      throw new HttpError(422, `unknown field ${JSON.stringify(field)}: expected ${Object.keys(types).join(', ')}`)
    }
    if (value === null && optional[field] != null) {
      delete body[field]
      continue
    }
    const ok = types[field] === 'size' ? Number.isSafeInteger(value) && value >= 0 && value <= 1024 * 1024 : typeof value === types[field]
    if (!ok) {
      throw new HttpError(422, `field ${field}: expected ${types[field] === 'size' ? 'an integer from 0 to 1048576' : `a ${types[field]}`}`)
    }
  }
  for (const field of Object.keys(required)) {
    if (body[field] === undefined) {
      throw new HttpError(422, `missing field ${JSON.stringify(field)}`)
    }
  }
  return body
}
