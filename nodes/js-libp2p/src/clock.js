// Unix time in nanoseconds with sub-millisecond resolution, as the contract's `*_ns` fields need.
//
// `Date.now()` has millisecond resolution; `performance.timeOrigin + performance.now()` is the
// real-time clock at process start plus the monotonic clock since, both in fractional ms.

/** Unix nanoseconds, as a bigint. */
export function unixNs () {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6))
}

/** Microseconds elapsed since `startMs` (a `performance.now()` reading). */
export function elapsedUs (startMs) {
  return Math.round((performance.now() - startMs) * 1000)
}
