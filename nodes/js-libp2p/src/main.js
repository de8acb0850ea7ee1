// Entry point: checks the Node.js version before loading anything that needs it, then runs
// the node. A bad command line is one line on stderr and exit code 2, nothing on stdout.

/** The oldest Node.js this node runs on (package.json "engines"; @noble/* need 20.19). */
const NEEDED = [20, 19]

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < NEEDED[0] || (major === NEEDED[0] && minor < NEEDED[1])) {
  process.stderr.write(`js-libp2p-node: Node.js ${NEEDED.join('.')} or newer is needed, this is ${process.version}: install a newer Node.js (e.g. apt-get install nodejs from NodeSource's node_20.x or node_22.x)\n`)
  process.exit(2)
}
await import('./compat.js')

let app
try {
  app = await import('./app.js')
} catch (err) {
  if (err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write(`js-libp2p-node: its npm dependencies are not installed (${err.message.split('\n')[0]}): run \`npm ci\` in nodes/js-libp2p, or \`cargo xtask test\` which installs them\n`)
    process.exit(2)
  }
  throw err
}
const { UsageError } = await import('./config.js')

try {
  await app.run(process.argv.slice(2))
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`js-libp2p-node: ${err.message}\n`)
    process.exit(2)
  }
  process.stderr.write(`js-libp2p-node: cannot start: ${err.message}\n`)
  process.exit(1)
}
