import { Cluster } from 'ioredis'
import { StoreUnavailableError } from '../../errors.js'
import type { RedisClient } from '../redis/client.js'
import { run, script } from '../redis/script.js'
import type { EventStore, SecurityEvent } from './events.js'
import { checkQuery, isAfter, matches, parseEventCursor, riskView, toPage, withId } from './log.js'

export interface RedisEventsOptions {
  /** Prepended to every key (default `ac:`), as for the rest of the Redis store. */
  prefix?: string
  /** The global log keeps about this many events; `pruneEvents` trims it (default 200,000). */
  maxEvents?: number
  /** Each user's log keeps this many, trimmed on write (default 1,000). For a complete audit log use PostgreSQL. */
  maxEventsPerUser?: number
}

/**
 * The audit log in Redis: two sorted sets scored by `at`, one global
 * (`<prefix>events`) and one per user (`<prefix>u:{<userId>}:events`, in the user's
 * hash slot), each member `<id> <JSON>`; members of one score sort by id, which is the
 * log's order. Recording is one script on one Redis (both adds and the user's trim); on a
 * Cluster, where the two sets are in different slots, one MULTI on the user's set (add +
 * trim) and one ZADD on the global set, sent together. `pruneEvents` drops what is older than its bound from both
 * and trims the global set to `maxEvents`, removing the same members from the users' sets.
 */
export function createRedisEvents (client: RedisClient, opts: RedisEventsOptions = {}): EventStore {
  const onCluster = client instanceof Cluster
  const prefix = opts.prefix ?? 'ac:'
  const maxEvents = opts.maxEvents ?? 200_000
  const perUser = opts.maxEventsPerUser ?? 1000
  const key = {
    all: `${prefix}events`,
    user: (userId: string) => `${prefix}u:{${userId}}:events`
  }

  async function io<T> (op: () => Promise<T>): Promise<T> {
    try {
      return await op()
    } catch (err) {
      const wrapped = new StoreUnavailableError()
      wrapped.cause = err
      throw wrapped
    }
  }

  const member = (e: SecurityEvent): string => `${e.id} ${JSON.stringify(e)}`
  const parse = (m: string): SecurityEvent => JSON.parse(m.slice(m.indexOf(' ') + 1)) as SecurityEvent

  /** Removes members of the global set from their users' sets too, then from the global set. */
  async function drop (members: string[]): Promise<void> {
    const byUser = new Map<string, string[]>()
    for (const m of members) {
      const userId = parse(m).userId
      if (userId !== undefined) byUser.set(userId, [...(byUser.get(userId) ?? []), m])
    }
    await io(async () => await Promise.all([
      ...[...byUser].map(async ([userId, ms]) => await client.zrem(key.user(userId), ...ms)),
      client.zrem(key.all, ...members)
    ]))
  }

  const store: Omit<EventStore, 'addRiskEvent' | 'listRiskEvents'> = {
    async recordEvent (event) {
      const e = withId(event)
      const m = member(e)
      if (e.userId !== undefined && !onCluster) {
        // One Redis (or Sentinel): both sets in one script, one command on the wire for a login's audit event.
        await run(client, RECORD_EVENT, [key.all, key.user(e.userId)], [e.at, m, -(perUser + 1)])
        return e
      }
      const writes: Array<Promise<unknown>> = [client.zadd(key.all, e.at, m)]
      if (e.userId !== undefined) {
        const k = key.user(e.userId)
        writes.push(client.multi().zadd(k, e.at, m).zremrangebyrank(k, 0, -(perUser + 1)).exec())
      }
      await io(async () => await Promise.all(writes))
      return e
    },

    async queryEvents (q) {
      checkQuery(q)
      const pos = q.cursor === undefined ? undefined : parseEventCursor(q.cursor)
      const k = q.userId === undefined ? key.all : key.user(q.userId)
      // Scores are inclusive at the cursor (ties at its millisecond are sorted out below).
      const max = pos !== undefined ? String(q.until !== undefined ? Math.min(pos.at, q.until - 1) : pos.at)
        : q.until !== undefined ? `(${q.until}` : '+inf'
      const min = q.since !== undefined ? String(q.since) : '-inf'
      const batch = Math.max(100, q.limit * 2)
      const found: SecurityEvent[] = []
      for (let offset = 0; found.length <= q.limit; offset += batch) {
        const got = await io(async () => await client.zrevrangebyscore(k, max, min, 'LIMIT', offset, batch))
        for (const m of got) {
          const e = parse(m)
          if (pos !== undefined && !isAfter(e, pos)) continue
          if (matches(e, q)) found.push(e)
          if (found.length > q.limit) break
        }
        if (got.length < batch) break
      }
      return toPage(found, q.limit)
    },

    async pruneEvents (before) {
      let n = 0
      for (;;) {
        const old = await io(async () => await client.zrangebyscore(key.all, '-inf', `(${before}`, 'LIMIT', 0, 1000))
        if (old.length === 0) break
        await drop(old)
        n += old.length
      }
      for (;;) {
        const excess = (await io(async () => await client.zcard(key.all))) - maxEvents
        if (excess <= 0) break
        const oldest = await io(async () => await client.zrange(key.all, '0', String(Math.min(excess, 1000) - 1)))
        await drop(oldest)
        n += oldest.length
      }
      return n
    }
  }
  return { ...store, ...riskView(store) }
}

/** KEYS: global set, user's set. ARGV: at, member, -(per-user bound + 1). */
const RECORD_EVENT = script(`
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, tonumber(ARGV[3]))
return 1
`)
