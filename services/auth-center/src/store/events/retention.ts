import type { FastifyBaseLogger } from 'fastify'
import type { EventStore } from './events.js'

/** Hourly: retention is counted in days, and a prune is one indexed range delete. */
export const EVENT_PRUNE_INTERVAL_MS = 3_600_000

/**
 * Deletes security events older than `retentionMs` (AUDIT_RETENTION_DAYS) now and then
 * every hour, in the background. Every replica runs it: a delete of what is already gone
 * is a no-op. A failure is logged at warn and retried at the next tick. Returns the stop.
 */
export function startEventRetention (events: Pick<EventStore, 'pruneEvents'>, retentionMs: number, now: () => number, log: FastifyBaseLogger): () => void {
  const prune = (): void => {
    events.pruneEvents(now() - retentionMs)
      .then((n) => { if (n > 0) log.info({ pruned: n }, 'security events past retention deleted') })
      .catch((err: unknown) => { log.warn({ err }, 'security event prune failed') })
  }
  prune()
  const timer = setInterval(prune, EVENT_PRUNE_INTERVAL_MS)
  timer.unref()
  return () => { clearInterval(timer) }
}
