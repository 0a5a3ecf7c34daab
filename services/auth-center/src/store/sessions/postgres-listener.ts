import pg from 'pg'
import type { RevocationListener } from './sessions.js'
import { formatCursor, parseCursor } from '../denylist.js'

/** The NOTIFY channel every revoking transaction writes to (src/store/sessions/postgres.ts). */
export const REVOCATION_CHANNEL = 'ac_revocations'

/** How long `denylist()` waits for a pending LISTEN to be confirmed. */
const LISTEN_WAIT_MS = 2000

/** Pause between reconnect attempts while PostgreSQL is away. */
const RECONNECT_PAUSE_MS = 200

/** Log rows read per catch-up query after a reconnect. */
const CATCH_UP_BATCH = 1000

/** A notification's payload is `<cursor> <field>=<value>`; the cursor's position is `0-<log id>`. */
interface Entry { id: number, cursor: string, message: string }

function parsePayload (payload: string): Entry | undefined {
  const space = payload.indexOf(' ')
  if (space === -1) return undefined
  const cursor = payload.slice(0, space)
  const parsed = parseCursor(cursor)
  if (parsed === undefined) return undefined
  return { id: parsed.seq, cursor, message: payload.slice(space + 1) }
}

export interface RevocationFollower {
  add (listener: RevocationListener): () => void
  /** Resolves once the pending LISTEN is confirmed (or after a bounded wait); at once when nobody listens. */
  confirmed (): Promise<void>
  close (): Promise<void>
}

/**
 * The PostgreSQL side of `subscribeRevocations`: one connection of its own (not the
 * pool's: LISTEN belongs to a session), opened for the first listener and closed after
 * the last one leaves, doing `LISTEN ac_revocations`. NOTIFY is delivered at commit, so
 * a listener never hears of a revocation that was rolled back, and in commit order,
 * which is log order (see the feed lock in 0004_sessions.sql).
 *
 * After a lost connection (a PostgreSQL restart, a network cut) it connects again,
 * LISTENs, and first delivers what the log holds after the last id it knew, so an
 * auth-center replica misses nothing another replica logged meanwhile (only what the
 * log trimmed, which readers then learn as `reset`). Notifications that arrive during
 * that catch-up wait behind it; ids at or below the last one delivered are dropped.
 */
export function followRevocations (config: pg.ClientConfig): RevocationFollower {
  const listeners = new Set<RevocationListener>()
  let current: { started: Promise<void>, stop: () => Promise<void> } | undefined

  function deliver (message: string, cursor: string): void {
    for (const l of [...listeners]) {
      // A subscriber's bug must not stop delivery to the others.
      try { l(message, cursor) } catch {}
    }
  }

  function open (): { started: Promise<void>, stop: () => Promise<void> } {
    let closed = false
    let client: pg.Client | undefined
    let resolveStarted!: () => void
    const started = new Promise<void>((resolve) => { resolveStarted = resolve })
    // The highest log id delivered, or known to be older than the subscription.
    let last: number | undefined

    const emit = (e: Entry): void => {
      if (last !== undefined && e.id <= last) return
      last = e.id
      deliver(e.message, e.cursor)
    }

    async function catchUp (c: pg.Client): Promise<void> {
      for (;;) {
        const { rows } = await c.query<{ id: string, message: string, epoch: string }>(
          `SELECT l.id, l.message, e.value AS epoch FROM ac_revocation_log l JOIN ac_epoch e ON e.id = 1
           WHERE l.id > $1 ORDER BY l.id LIMIT ${CATCH_UP_BATCH}`, [last])
        for (const r of rows) emit({ id: Number(r.id), cursor: formatCursor(r.epoch, `0-${r.id}`), message: r.message })
        if (rows.length < CATCH_UP_BATCH) return
      }
    }

    async function session (): Promise<void> {
      const c = new pg.Client(config)
      client = c
      let buffer: Entry[] | undefined = []
      const lost = new Promise<void>((resolve) => {
        c.on('error', () => { resolve() })
        c.once('end', () => { resolve() })
      })
      c.on('notification', (n) => {
        if (n.channel !== REVOCATION_CHANNEL || n.payload === undefined) return
        const e = parsePayload(n.payload)
        if (e === undefined) return
        if (buffer !== undefined) buffer.push(e)
        else emit(e)
      })
      try {
        await c.connect()
        await c.query(`LISTEN ${REVOCATION_CHANNEL}`)
        if (last === undefined) {
          // First connection: deliver from now on, like the Redis follower starting at the newest entry.
          const { rows } = await c.query<{ last: string }>('SELECT coalesce(max(id), 0) AS last FROM ac_revocation_log')
          last = Number(rows[0]!.last)
        } else {
          await catchUp(c)
        }
        const pending = buffer
        buffer = undefined
        for (const e of pending) emit(e)
        resolveStarted()
        await lost
      } catch {
        // Not reachable, or lost mid-way: try again below.
      } finally {
        c.removeAllListeners('notification')
        await c.end().catch(() => {})
      }
    }

    void (async () => {
      while (!closed) {
        await session()
        if (!closed) await new Promise((resolve) => setTimeout(resolve, RECONNECT_PAUSE_MS))
      }
    })()

    return {
      started,
      async stop () {
        closed = true
        await client?.end().catch(() => {})
      }
    }
  }

  return {
    add (listener) {
      if (typeof listener !== 'function') throw new TypeError('subscribeRevocations: listener must be a function')
      // A wrapper per call, so the same function subscribed twice unsubscribes once each.
      const own: RevocationListener = (m, c) => { listener(m, c) }
      listeners.add(own)
      current ??= open()
      return () => {
        listeners.delete(own)
        if (listeners.size === 0 && current !== undefined) {
          void current.stop()
          current = undefined
        }
      }
    },
    async confirmed () {
      if (current === undefined) return
      let timer: NodeJS.Timeout | undefined
      await Promise.race([current.started, new Promise<void>((resolve) => { timer = setTimeout(resolve, LISTEN_WAIT_MS) })])
      clearTimeout(timer)
    },
    async close () {
      listeners.clear()
      const c = current
      current = undefined
      await c?.stop()
    }
  }
}
