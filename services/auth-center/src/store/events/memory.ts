import type { EventStore, SecurityEvent } from './events.js'
import { checkQuery, isAfter, matches, newestFirst, parseEventCursor, riskView, toPage, withId } from './log.js'

export interface MemoryEventsOptions {
  /** The log keeps at most this many events, dropping the oldest (default 100,000): it lives in the process's heap. */
  maxEvents?: number
}

/**
 * The embedded audit log: one array, oldest first, lost on restart with the rest of the
 * memory store. Events mostly arrive in order, so appending is a push; a late one is
 * put in place by binary search.
 */
export function createMemoryEvents (opts: MemoryEventsOptions = {}): EventStore {
  const max = opts.maxEvents ?? 100_000
  if (!Number.isInteger(max) || max < 1) throw new TypeError('memory events: maxEvents must be a positive integer')
  const log: SecurityEvent[] = []

  const store: Omit<EventStore, 'addRiskEvent' | 'listRiskEvents'> = {
    async recordEvent (event) {
      const e = withId(event)
      // Oldest first: find the first stored event newer than e.
      let lo = 0
      let hi = log.length
      if (hi === 0 || newestFirst(log[hi - 1]!, e) > 0) lo = hi
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (newestFirst(log[mid]!, e) > 0) lo = mid + 1
        else hi = mid
      }
      log.splice(lo, 0, e)
      if (log.length > max) log.splice(0, log.length - max)
      return structuredClone(e)
    },

    async queryEvents (q) {
      checkQuery(q)
      const pos = q.cursor === undefined ? undefined : parseEventCursor(q.cursor)
      const found: SecurityEvent[] = []
      for (let i = log.length - 1; i >= 0 && found.length <= q.limit; i--) {
        const e = log[i]!
        if (q.since !== undefined && e.at < q.since) break
        if (pos !== undefined && !isAfter(e, pos)) continue
        if (matches(e, q)) found.push(structuredClone(e))
      }
      return toPage(found, q.limit)
    },

    async pruneEvents (before) {
      let n = 0
      while (n < log.length && log[n]!.at < before) n++
      log.splice(0, n)
      return n
    }
  }
  return { ...store, ...riskView(store) }
}
