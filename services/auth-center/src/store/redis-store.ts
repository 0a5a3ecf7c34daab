import type { RedisOptions } from 'ioredis'
import { StoreUnavailableError } from '../errors.js'
import type { RotateStatus, Session, SmsCheckResult, Store } from './store.js'
import {
  REUSED_REASON, assertCandidate, assertSmsOptions, assertWindow, byCreatedAt, isLive, sessionRetentionMs
} from './rules.js'
import { decodeSession, decodeUser, encodeSession, encodeUser, flatToHash } from './redis-codec.js'
import {
  CHECK_SMS_CODE, CREATE_SESSION, GET_OR_CREATE_USER, HIT, INDEX_SESSION, ISSUE_SMS_CODE,
  REVOKE_IF_LIVE, REVOKE_SESSION, ROTATE_REFRESH, SET_PASSWORD, runScript,
  type LuaScript, type RedisClient
} from './redis-scripts.js'

/**
 * ioredis options for the client the app hands to `createRedisStore` (pass them to
 * `@fastify/redis` beside `url`). The goal: while Redis is down a request fails
 * with StoreUnavailableError within 2 s instead of hanging, and once Redis is back
 * the same client works again without a restart.
 *
 * - `enableOfflineQueue: false`: while disconnected, commands fail at once instead
 *   of queueing until some later reconnect.
 * - `commandTimeout: 900`: a connected but unresponsive server fails a command in
 *   0.9 s; no store method waits on more than two round trips in a row.
 * - `socketTimeout: 2000`: a connection that stays silent with commands pending
 *   (hung server, half-open TCP after a network cut) is dropped and made again,
 *   instead of timing out every command until TCP keep-alive notices.
 * - `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false`: a command in
 *   flight when the connection drops fails instead of being sent again after the
 *   reconnect: it may have run already, and our scripts are not idempotent (a
 *   resent rotation or code check would count twice).
 * - `retryStrategy`: reconnect quickly (100 ms steps, at most 1 s apart), forever.
 * - `reconnectOnError`: after a failover the old primary answers READONLY; reconnect
 *   (to the new primary, under Sentinel) instead of failing every write.
 *
 * @example
 * await fastify.register(fastifyRedis, { url: config.redisUrl, ...redisClientOptions })
 * const store = createRedisStore(fastify.redis)
 */
export const redisClientOptions = {
  enableOfflineQueue: false,
  commandTimeout: 900,
  socketTimeout: 2000,
  connectTimeout: 1500,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  retryStrategy: (times: number): number => Math.min(times * 100, 1000),
  reconnectOnError: (err: Error): boolean => err.message.startsWith('READONLY'),
  lazyConnect: false
} satisfies RedisOptions

export interface RedisStoreOptions {
  /** Prepended to every key (default `ac:`), so several apps can share one Redis. */
  prefix?: string
}

/**
 * Key layout (prefix `ac:`). `{…}` is the Cluster hash tag: keys that one script
 * touches together share it, so they live in one slot.
 *
 * | key                         | type   | TTL                              |
 * |-----------------------------|--------|----------------------------------|
 * | `ac:m:{<mobile>}:user`      | hash   | none (the user record)           |
 * | `ac:m:{<mobile>}:sms`       | hash   | code ttl (codeHash, left)        |
 * | `ac:m:{<mobile>}:sms-cool`  | string | cooldown                         |
 * | `ac:uid:{<userId>}`         | string | none (→ mobile)                  |
 * | `ac:s:{<sessionId>}`        | hash   | expiresAt − now + 1 day          |
 * | `ac:u:{<userId>}:sessions`  | zset   | none (sessionId by createdAt)    |
 * | `ac:hit:<key>`              | string | the counter's window             |
 *
 * Why this shape: every decision (rotation, reuse, revocation, code check, first
 * login) reads and writes ONE key, or two keys of one mobile, so each is one
 * script in one slot, also under Cluster. The user record is keyed by mobile
 * because that is what first login races on; `uid:` maps an id to it and is
 * written once and never changes, so reading it and then the record is safe.
 * Sessions are keyed by their own id (refresh needs one round trip) and indexed
 * per user in a sorted set; the set is written after the session, so every
 * member whose session is missing is truly gone and can be pruned without racing
 * a login. Revoking all of a user's sessions is one script per session: each is
 * atomic, and a session created while it runs is simply created after it.
 *
 * @example
 * const store = createRedisStore(fastify.redis, { prefix: 'ac:' })
 */
export function createRedisStore (client: RedisClient, opts: RedisStoreOptions = {}): Store {
  const prefix = opts.prefix ?? 'ac:'
  if (typeof prefix !== 'string') throw new TypeError('createRedisStore: prefix must be a string')
  const key = keys(prefix)

  /** The one place backend failures become StoreUnavailableError. */
  async function io<T> (op: () => Promise<T>): Promise<T> {
    try {
      return await op()
    } catch (err) {
      const wrapped = new StoreUnavailableError()
      wrapped.cause = err
      throw wrapped
    }
  }

  const run = async (s: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> =>
    await io(async () => await runScript(client, s, keys, args))

  async function sessionsOf (sessionIds: string[]): Promise<Array<Session | null>> {
    const hashes = await io(async () => await Promise.all(sessionIds.map(async (id) => await client.hgetall(key.session(id)))))
    return hashes.map(decodeSession)
  }

  /**
   * Drops index members whose session is gone or revoked; both states are final,
   * so deciding from an earlier read is safe. Housekeeping only: it runs in the
   * background, so it never adds a round trip to a request, and a failure just
   * leaves the members for next time.
   */
  function prune (userId: string, deadIds: string[]): void {
    if (deadIds.length === 0) return
    client.zrem(key.userSessions(userId), ...deadIds).catch(() => {})
  }

  async function pruneAll (userId: string): Promise<void> {
    const ids = await client.zrange(key.userSessions(userId), '0', '-1')
    const found = await sessionsOf(ids)
    prune(userId, ids.filter((_id, i) => found[i] === null || found[i]?.revokedAt !== undefined))
  }

  return {
    driver: 'redis',

    async getUser (id) {
      const mobile = await io(async () => await client.get(key.userPointer(id)))
      if (mobile === null) return null
      const user = decodeUser(await io(async () => await client.hgetall(key.user(mobile))))
      return user?.id === id ? user : null
    },

    async getUserByMobile (mobile) {
      return decodeUser(await io(async () => await client.hgetall(key.user(mobile))))
    },

    async getOrCreateUserByMobile (mobile, candidate) {
      assertCandidate(mobile, candidate)
      const reply = await run(GET_OR_CREATE_USER, [key.user(mobile)], encodeUser(candidate))
      const [created, fields] = pair(reply)
      const user = decodeUser(flatToHash(fields))
      if (user === null) throw new Error('getOrCreateUser script returned no user')
      // Written on every call, not only on creation, so that a pointer lost to a
      // failure right after the script is repaired by the user's next login.
      await io(async () => await client.set(key.userPointer(user.id), mobile))
      return { user, created: created === 1 }
    },

    async setPassword (userId, passwordHash, now) {
      const mobile = await io(async () => await client.get(key.userPointer(userId)))
      if (mobile === null) return
      await run(SET_PASSWORD, [key.user(mobile)], [passwordHash, String(now)])
    },

    async issueSmsCode (mobile, codeHash, opts) {
      assertSmsOptions(opts)
      const { ttlMs, cooldownMs, maxAttempts } = opts
      const wait = Number(await run(ISSUE_SMS_CODE, [key.cooldown(mobile), key.sms(mobile)],
        [codeHash, Math.ceil(ttlMs), Math.ceil(cooldownMs), maxAttempts]))
      return { ok: wait === 0, retryAfterMs: wait }
    },

    async checkSmsCode (mobile, codeHash) {
      return await run(CHECK_SMS_CODE, [key.sms(mobile)], [codeHash]) as SmsCheckResult
    },

    async hit (hitKey, limit, windowMs) {
      assertWindow(windowMs)
      const [count, ttl] = pair(await run(HIT, [key.hits(hitKey)], [Math.ceil(windowMs)]))
      return { allowed: Number(count) <= limit, count: Number(count), retryAfterMs: Number(ttl) }
    },

    async resetHits (hitKey) {
      await io(async () => await client.del(key.hits(hitKey)))
    },

    async createSession (session) {
      const retention = sessionRetentionMs(session.expiresAt, session.createdAt)
      await run(CREATE_SESSION, [key.session(session.id)], [retention, ...encodeSession(session)])
      // Index after the session exists: see the key layout note above.
      const size = Number(await run(INDEX_SESSION, [key.userSessions(session.userId)], [session.createdAt, session.id]))
      if (size > INDEX_PRUNE_THRESHOLD) pruneAll(session.userId).catch(() => {})
    },

    async getSession (id) {
      return decodeSession(await io(async () => await client.hgetall(key.session(id))))
    },

    async rotateRefresh ({ sessionId, presentedGen, now, graceMs, newExpiresAt }) {
      const reply = await run(ROTATE_REFRESH, [key.session(sessionId)], [
        presentedGen, String(now), graceMs, String(newExpiresAt),
        sessionRetentionMs(newExpiresAt, now), REUSED_REASON
      ])
      if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw new Error('unexpected rotateRefresh reply')
      const status = reply[0] as RotateStatus
      if (status === 'missing') return { status }
      return { status, session: decodeSession(flatToHash(reply[1])) ?? undefined }
    },

    async revokeSession (id, reason, now) {
      const reply = await run(REVOKE_SESSION, [key.session(id)], [String(now), reason])
      return reply === null ? null : decodeSession(flatToHash(reply))
    },

    async revokeUserSessions (userId, reason, now, exceptSessionId) {
      const ids = await io(async () => await client.zrange(key.userSessions(userId), '0', '-1'))
      const targets = ids.filter((id) => id !== exceptSessionId)
      const outcomes = await Promise.all(targets.map(async (id) =>
        String(await run(REVOKE_IF_LIVE, [key.session(id)], [userId, String(now), reason]))))
      prune(userId, targets.filter((_id, i) => outcomes[i] === 'gone' || outcomes[i] === 'dead'))
      return targets.filter((_id, i) => outcomes[i] === 'revoked')
    },

    async listUserSessions (userId, now) {
      const ids = await io(async () => await client.zrange(key.userSessions(userId), '0', '-1'))
      const found = await sessionsOf(ids)
      prune(userId, ids.filter((_id, i) => found[i] === null || found[i]?.revokedAt !== undefined))
      return found.filter((s): s is Session => s !== null && isLive(s, now)).sort(byCreatedAt)
    },

    async ping () {
      await io(async () => await client.ping())
    },

    async close () {
      // The client was lent to us (the app's @fastify/redis owns and quits it).
    }
  }
}

/** Above this many indexed sessions, a login also prunes its user's index. */
const INDEX_PRUNE_THRESHOLD = 20

function keys (prefix: string) {
  return {
    user: (mobile: string) => `${prefix}m:{${mobile}}:user`,
    sms: (mobile: string) => `${prefix}m:{${mobile}}:sms`,
    cooldown: (mobile: string) => `${prefix}m:{${mobile}}:sms-cool`,
    userPointer: (userId: string) => `${prefix}uid:{${userId}}`,
    userSessions: (userId: string) => `${prefix}u:{${userId}}:sessions`,
    session: (sessionId: string) => `${prefix}s:{${sessionId}}`,
    hits: (hitKey: string) => `${prefix}hit:${hitKey}`
  }
}

/** A two-element script reply, e.g. `{created, HGETALL}` or `{count, ttl}`. */
function pair (reply: unknown): [unknown, unknown] {
  if (!Array.isArray(reply) || reply.length !== 2) throw new Error('unexpected redis script reply')
  return [reply[0], reply[1]]
}
