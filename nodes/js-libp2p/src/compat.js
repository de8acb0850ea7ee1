// What libp2p 3 needs of Node.js 22 that Node.js 20 lacks: `Promise.withResolvers` (ES2024).
//
// libp2p 3.x calls it throughout (streams, ping, identify, kad-dht); Node.js 20 (Debian's and
// this project's machines) has no native one, so a spec-equivalent one is installed before any
// libp2p module loads. On Node.js >= 22 this does nothing.

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers () {
      let resolve, reject
      const promise = new this((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}
