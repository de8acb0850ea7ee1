// Plain-text lifecycle logs on stderr: `<RFC 3339 time> <LEVEL> <message> key=value…`.
//
// No colours, ever: the runner quotes a crashed node's log tail in its errors and report.

function write (level, message, fields = {}) {
  const parts = Object.entries(fields).map(([k, v]) => `${k}=${/^[^\s"]+$/.test(String(v)) ? v : JSON.stringify(String(v))}`)
  process.stderr.write(`${new Date().toISOString()} ${level.padStart(5)} js_libp2p_node: ${[message, ...parts].join(' ')}\n`)
}

export const log = {
  info: (message, fields) => write('INFO', message, fields),
  warn: (message, fields) => write('WARN', message, fields),
  error: (message, fields) => write('ERROR', message, fields)
}
