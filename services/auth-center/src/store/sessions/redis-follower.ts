import { Cluster } from 'ioredis'
import type { LoggedRevocation, RevocationListener } from './sessions.js'
import { formatCursor } from '../denylist.js'
import type { RedisClient } from '../redis/client.js'

/** How long `denylist()` waits for a pending follower to know where it starts. */
const SUBSCRIBE_WAIT_MS = 2000

/** XREAD BLOCK time: below the connection's socket timeout, so a quiet log is not a dead connection. */
const FOLLOW_BLOCK_MS = 1000

export interface Follower {
  add (listener: RevocationListener): () => void
  /** Resolves once a wanted follower knows its starting point (or after a bounded wait). */
  confirmed (): Promise<void>
  close (): Promise<void>
}

/** A feed log entry (`m` = the message, `e` = the epoch it was logged in) as a LoggedRevocation. */
export function logged (id: string, kv: string[]): LoggedRevocation {
  let message = ''
  let epoch = ''
  for (let i = 0; i + 1 < kv.length; i += 2) {
    if (kv[i] === 'm') message = kv[i + 1]!
    else if (kv[i] === 'e') epoch = kv[i + 1]!
  }
  return { message, cursor: formatCursor(epoch, id) }
}

/**
 * The Redis driver's side of `subscribeRevocations`: one connection of its own (a
 * `duplicate()` of the lent client), opened for the first listener and closed after
 * the last one leaves, that follows the feed log with XREAD BLOCK from the newest entry
 * at start. After a lost connection it goes on from the last id it delivered, so an
 * auth-center replica misses nothing another replica logged meanwhile (only what the
 * log trimmed, which readers then learn as `reset`).
 */
export function follower (client: RedisClient, logKey: string): Follower {
  const listeners = new Set<RevocationListener>()
  let stop: (() => void) | undefined
  let started: Promise<void> | undefined

  function open (): void {
    const override = { enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined, lazyConnect: false }
    // A Cluster keeps per-node options in redisOptions: XREAD BLOCK must not meet the store's commandTimeout there either.
    const c: RedisClient = client instanceof Cluster
      ? client.duplicate(undefined, { enableOfflineQueue: true, redisOptions: { ...client.options.redisOptions, maxRetriesPerRequest: null, commandTimeout: undefined } } as never)
      : client.duplicate(override as never)
    c.on('error', () => {})
    let closed = false
    let resolveStarted!: () => void
    started = new Promise((resolve) => { resolveStarted = resolve })
    stop = () => {
      closed = true
      c.disconnect()
    }
    const pause = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
    void (async () => {
      let last: string | undefined
      while (!closed && last === undefined) {
        try {
          const head = await c.xrevrange(logKey, '+', '-', 'COUNT', 1)
          last = head[0]?.[0] ?? '0-0'
        } catch { await pause(200) }
      }
      resolveStarted()
      while (!closed) {
        try {
          const res = await c.xread('COUNT', 1000, 'BLOCK', FOLLOW_BLOCK_MS, 'STREAMS', logKey, last!) as Array<[string, Array<[string, string[]]>]> | null
          for (const [, entries] of res ?? []) {
            for (const [id, kv] of entries) {
              last = id
              const { message, cursor } = logged(id, kv)
              for (const l of [...listeners]) {
                try { l(message, cursor) } catch {}
              }
            }
          }
        } catch {
          if (!closed) await pause(200)
        }
      }
    })()
  }

  return {
    add (listener) {
      if (typeof listener !== 'function') throw new TypeError('subscribeRevocations: listener must be a function')
      const own: RevocationListener = (m, cur) => { listener(m, cur) }
      listeners.add(own)
      if (stop === undefined) open()
      return () => {
        listeners.delete(own)
        if (listeners.size === 0 && stop !== undefined) {
          stop()
          stop = undefined
          started = undefined
        }
      }
    },
    async confirmed () {
      if (started === undefined) return
      let timer: NodeJS.Timeout | undefined
      await Promise.race([started, new Promise<void>((resolve) => { timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS) })])
      clearTimeout(timer)
    },
    async close () {
      listeners.clear()
      stop?.()
      stop = undefined
      started = undefined
    }
  }
}
