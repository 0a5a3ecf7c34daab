import { Cluster, type RedisOptions } from 'ioredis'
import { StoreUnavailableError } from '../errors.js'
import type { AuthCode, Consent, RevocationListener, RotateStatus, Session, SmsCheckResult, Store } from './store.js'
import type { LoggedRevocation, StoredClient } from './store.js'
import {
  DEFAULT_DENY_TTL_MS, DEFAULT_FEED_LOG_MAX, assertDenyTtl, comparePositions, denyMessage, epochTag, formatCursor, newEpoch, parseCursor,
  sessionField, userField
} from './denylist.js'
import {
  REUSED_REASON, assertCandidate, assertSmsOptions, assertWindow, byCreatedAt, isLive, sessionRetentionMs
} from './rules.js'
import { createRedisEvents } from './events/redis.js'
import { decodeSession, decodeUser, encodeSession, encodeUser, flatToHash } from './redis-codec.js'
import {
  CHECK_SMS_CODE, CREATE_SESSION, ENSURE_EPOCH, FEED_HEAD, GET_OR_CREATE_USER, HIT, INDEX_SESSION, ISSUE_SMS_CODE, RELEASE_HIT,
  PRUNE_DENYLIST, REVOKE_SESSION, TAKE_AUTH_CODE, BIND_AUTH_CODE, REPLAY_AUTH_CODE, REVOKE_USER_SESSIONS, ROTATE_REFRESH, SET_PASSWORD, runScript,
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
  /**
   * Prepended to every key (default `ac:`), so several apps can share one Redis. The
   * revocation feed keys (`<prefix>deny`, `<prefix>deny:exp`, `<prefix>epoch`, channel
   * `<prefix>revocations`) use it too: verifiers must be given the same prefix.
   */
  prefix?: string
  /**
   * How long a denylist entry lives after its revocation: the longest access-token
   * lifetime of any client + clock tolerance (default 2 min + 5 s). The app passes it.
   */
  denyTtlMs?: number
  /** About how many revocations the feed log (`<prefix>deny:log`, a Redis Stream) keeps for resuming readers (default 10,000). */
  feedLogMax?: number
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
 * | `ac:code:{<codeId>}`        | string | 60 s (an OAuth2 code's grant)    |
 * | `ac:code:{<codeId>}:used`   | string | code TTL + max token life        |
 * | `ac:u:{<userId>}:consents`  | hash   | none (clientId → consent)        |
 * | `ac:deny`                   | hash   | none (pruned through the zset)   |
 * | `ac:deny:exp`               | zset   | none (field by expiresAtMs)      |
 * | `ac:epoch`                  | string | none                             |
 * | `ac:deny:log`               | stream | none (trimmed to ~10,000 entries)|
 * | channel `ac:revocations`    | pubsub | one message per denylist entry   |
 *
 * The last five are the revocation feed of docs/revocation-protocol.md, whose names
 * are fixed by that protocol. The scripts that revoke (rotation's reuse branch,
 * revokeSession, revokeUserSessions) touch them together with the session keys, so
 * they need a single Redis (or Sentinel): under Redis Cluster these keys sit in
 * different slots and the scripts are refused (CROSSSLOT).
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
  const denyTtlMs = opts.denyTtlMs ?? DEFAULT_DENY_TTL_MS
  assertDenyTtl(denyTtlMs, 'createRedisStore')
  const key = keys(prefix)
  /** KEYS every revoking script starts with (see DENY in redis-scripts.ts). */
  const denyKeys = [key.deny, key.denyExp, key.epoch, key.log]
  const feedLogMax = opts.feedLogMax ?? DEFAULT_FEED_LOG_MAX
  const feed = follower(client, key.log)

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

  /**
   * Bounded housekeeping after a login into a large index: checks PRUNE_SAMPLE random
   * members (ZRANDMEMBER, distinct) and drops those whose session is gone or revoked.
   * O(1) per login whatever the index size (it used to read every session of the
   * user on every login once past the threshold). In steady state a login adds one
   * member and this removes PRUNE_SAMPLE × (dead share) on average, so the dead share
   * of an index settles near 1 / PRUNE_SAMPLE; listUserSessions, which reads them
   * all anyway, prunes every dead member it sees.
   */
  async function pruneSome (userId: string): Promise<void> {
    const ids = await client.zrandmember(key.userSessions(userId), PRUNE_SAMPLE)
    if (ids.length === 0) return
    const found = await Promise.all(ids.map(async (id) => await client.hmget(key.session(id), 'userId', 'revokedAt')))
    prune(userId, ids.filter((_id, i) => found[i]?.[0] === null || found[i]?.[1] !== null))
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

    async setPassword (userId, passwordHash, now, expectedHash) {
      const mobile = await io(async () => await client.get(key.userPointer(userId)))
      if (mobile === null) return
      await run(SET_PASSWORD, [key.user(mobile)], expectedHash === undefined ? [passwordHash, String(now)] : [passwordHash, String(now), expectedHash])
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

    async cancelSmsCode (mobile) {
      // Both keys carry the {mobile} hash tag: one slot, one command.
      await io(async () => await client.del(key.sms(mobile), key.cooldown(mobile)))
    },

    async hit (hitKey, limit, windowMs) {
      assertWindow(windowMs)
      const [count, ttl] = pair(await run(HIT, [key.hits(hitKey)], [Math.ceil(windowMs)]))
      return { allowed: Number(count) <= limit, count: Number(count), retryAfterMs: Number(ttl) }
    },

    async resetHits (hitKey) {
      await io(async () => await client.del(key.hits(hitKey)))
    },

    async releaseHit (hitKey) {
      await run(RELEASE_HIT, [key.hits(hitKey)], [])
    },

    async countHits (hitKey) {
      return Number(await io(async () => await client.get(key.hits(hitKey))) ?? 0)
    },

    async createSession (session) {
      const retention = sessionRetentionMs(session.expiresAt, session.createdAt)
      // An epoch older than every session in this Redis: after Redis came back empty,
      // the first login makes it (instead of a later revocation or verifier whose
      // epoch would refuse this login's tokens). At createdAt, the login's `iat`, see newEpoch.
      // Sent together with the session write (one round trip, not two): the epoch's
      // value depends only on createdAt, and both are done before any token leaves.
      await Promise.all([
        io(async () => await client.set(key.epoch, newEpoch(session.createdAt), 'NX')),
        run(CREATE_SESSION, [key.session(session.id)], [retention, ...encodeSession(session)])
      ])
      // Index after the session exists: see the key layout note above.
      const size = Number(await run(INDEX_SESSION, [key.userSessions(session.userId)], [session.createdAt, session.id]))
      if (size > INDEX_PRUNE_THRESHOLD) pruneSome(session.userId).catch(() => {})
    },

    async getSession (id) {
      return decodeSession(await io(async () => await client.hgetall(key.session(id))))
    },

    async rotateRefresh ({ sessionId, presentedGen, now, graceMs, newExpiresAt, expectedNonce }) {
      const reply = await run(ROTATE_REFRESH, [...denyKeys, key.session(sessionId)], [
        presentedGen, String(now), graceMs, String(newExpiresAt),
        sessionRetentionMs(newExpiresAt, now), REUSED_REASON,
        sessionField(sessionId), String(now + denyTtlMs), newEpoch(now), key.channel, expectedNonce ?? '', feedLogMax
      ])
      if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw new Error('unexpected rotateRefresh reply')
      const status = reply[0] as RotateStatus
      if (status === 'missing' || status === 'stale') return { status }
      return { status, session: decodeSession(flatToHash(reply[1])) ?? undefined }
    },

    async revokeSession (id, reason, now) {
      const reply = await run(REVOKE_SESSION, [...denyKeys, key.session(id)], [
        String(now), reason, sessionField(id), String(now + denyTtlMs), newEpoch(now), key.channel, feedLogMax
      ])
      return reply === null ? null : decodeSession(flatToHash(reply))
    },

    async revokeUserSessions (userId, reason, now, exceptSessionId) {
      // The index is read first; a session created after this read is created after
      // the revocation, which (rightly) leaves it alone. Everything else, the session
      // changes and the one `u:` entry, is one script.
      const ids = await io(async () => await client.zrange(key.userSessions(userId), '0', '-1'))
      const targets = ids.filter((id) => id !== exceptSessionId)
      const reply = await run(REVOKE_USER_SESSIONS, [...denyKeys, ...targets.map(key.session)], [
        userId, String(now), reason, userField(userId), String(now + denyTtlMs), exceptSessionId ?? '',
        newEpoch(now), key.channel, feedLogMax
      ])
      const outcomes = Array.isArray(reply) ? reply.map(String) : []
      prune(userId, targets.filter((_id, i) => outcomes[i] === 'gone' || outcomes[i] === 'dead'))
      return targets.filter((_id, i) => outcomes[i] === 'revoked')
    },

    async listUserSessions (userId, now) {
      const ids = await io(async () => await client.zrange(key.userSessions(userId), '0', '-1'))
      const found = await sessionsOf(ids)
      prune(userId, ids.filter((_id, i) => found[i] === null || found[i]?.revokedAt !== undefined))
      return found.filter((s): s is Session => s !== null && isLive(s, now)).sort(byCreatedAt)
    },

    async ensureEpoch (now) {
      return String(await run(ENSURE_EPOCH, [key.epoch], [newEpoch(now)]))
    },

    async denylist () {
      // Follow-then-load: a pending follower of ours knows where it starts first, so
      // nothing logged between the two can fall in a gap.
      await feed.confirmed()
      const [epoch, last] = pair(await run(FEED_HEAD, [key.epoch, key.log], [newEpoch(Date.now())])) as [string, string]
      const entries: string[] = []
      let cursor = '0'
      do {
        const [next, flat] = await io(async () => await client.hscan(key.deny, cursor, 'COUNT', 500))
        for (let i = 0; i + 1 < flat.length; i += 2) entries.push(denyMessage(flat[i]!, flat[i + 1]!))
        cursor = next
      } while (cursor !== '0')
      return { epoch: String(epoch), entries, cursor: formatCursor(String(epoch), String(last)) }
    },

    subscribeRevocations (listener) {
      return feed.add(listener)
    },

    async revocationsAfter (cursor, limit) {
      const parsed = parseCursor(cursor)
      if (parsed === undefined) return null
      // One MULTI: the epoch, what the log has lost, and what follows the cursor.
      const res = await io(async () => await client.multi()
        .get(key.epoch)
        .xinfo('STREAM', key.log)
        .xrange(key.log, `(${parsed.position}`, '+', 'COUNT', limit)
        .exec())
      const epoch = res?.[0]?.[1]
      if (typeof epoch !== 'string' || epochTag(epoch) !== parsed.tag) return null
      const [infoErr, info] = res?.[1] ?? []
      if (infoErr !== null && infoErr !== undefined) {
        // No log yet (no revocation since the store was created): only its start resumes.
        return parsed.position === '0-0' ? [] : null
      }
      const fields = info as unknown[]
      const field = (name: string): string => String(fields[fields.indexOf(name) + 1] ?? '0-0')
      // Entries up to max-deleted-entry-id were trimmed (Redis >= 7): a cursor before it may have missed some.
      if (comparePositions(parsed.position, field('max-deleted-entry-id')) < 0) return null
      if (comparePositions(parsed.position, field('last-generated-id')) > 0) return null
      const [rangeErr, range] = res?.[2] ?? []
      if (rangeErr !== null && rangeErr !== undefined) throw new StoreUnavailableError()
      return (range as Array<[string, string[]]>).map(([id, kv]) => logged(id, kv))
    },

    async pruneDenylist (now) {
      let total = 0
      for (;;) {
        const n = Number(await run(PRUNE_DENYLIST, [key.deny, key.denyExp], [String(now), PRUNE_BATCH]))
        total += n
        if (n < PRUNE_BATCH) return total
      }
    },

    async markOnce (markKey, ttlMs) {
      return (await io(async () => await client.set(key.marker(markKey), '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'))) === 'OK'
    },

    // The audit log (and the risk events, a view of it): its own part, events/redis.ts.
    ...createRedisEvents(client, { prefix }),

    async saveAuthCode (codeId, code, ttlMs) {
      await io(async () => await client.set(key.authCode(codeId), JSON.stringify(code), 'PX', Math.max(1, Math.ceil(ttlMs))))
    },

    async takeAuthCode (codeId, usedTtlMs) {
      const raw = await run(TAKE_AUTH_CODE, [key.authCode(codeId), key.usedCode(codeId)], [Math.max(1, Math.ceil(usedTtlMs))])
      return typeof raw === 'string' ? JSON.parse(raw) as AuthCode : null
    },

    async bindAuthCode (codeId, sessionId) {
      return Number(await run(BIND_AUTH_CODE, [key.usedCode(codeId)], [`s:${sessionId}`])) === 1
    },

    async replayAuthCode (codeId) {
      const v = await run(REPLAY_AUTH_CODE, [key.usedCode(codeId)], [])
      if (typeof v !== 'string') return { status: 'unknown' }
      if (v.startsWith('s:')) return { status: 'granted', sessionId: v.slice(2) }
      return { status: 'pending' }
    },

    async setConsent (userId, consent) {
      await io(async () => await client.hset(key.consents(userId), consent.clientId, JSON.stringify(consent)))
    },

    async getConsent (userId, clientId) {
      const raw = await io(async () => await client.hget(key.consents(userId), clientId))
      return raw === null ? null : JSON.parse(raw) as Consent
    },

    async listConsents (userId) {
      const all = await io(async () => await client.hvals(key.consents(userId)))
      return all.map((r) => JSON.parse(r) as Consent).sort((a, b) => a.grantedAt - b.grantedAt)
    },

    async deleteConsent (userId, clientId) {
      return (await io(async () => await client.hdel(key.consents(userId), clientId))) > 0
    },

    // ---- OAuth2 clients registered through the admin API ----
    // `ac:client:{<id>}` (JSON) and its grants `ac:client:{<id>}:sessions` share a slot; the
    // index `ac:clients` does not (Cluster), so it is written after the value and
    // removed after it, and a listed id without a value is skipped.
    async putClient (stored, opts = {}) {
      const json = JSON.stringify(stored)
      const ok = await io(async () => opts.ifAbsent === true
        ? await client.set(key.client(stored.clientId), json, 'NX')
        : await client.set(key.client(stored.clientId), json))
      if (ok !== 'OK') return false
      await io(async () => await client.sadd(key.clients, stored.clientId))
      return true
    },

    async getClient (clientId) {
      const raw = await io(async () => await client.get(key.client(clientId)))
      return raw === null ? null : JSON.parse(raw) as StoredClient
    },

    async listClients () {
      const ids = (await io(async () => await client.smembers(key.clients))).sort()
      const raws = await io(async () => await Promise.all(ids.map(async (id) => await client.get(key.client(id)))))
      return raws.flatMap((raw) => raw === null ? [] : [JSON.parse(raw) as StoredClient])
    },

    async deleteClient (clientId) {
      const n = await io(async () => await client.del(key.client(clientId)))
      await io(async () => await client.srem(key.clients, clientId))
      return n > 0
    },

    async addClientSession (clientId, sessionId) {
      await io(async () => await client.sadd(key.clientSessions(clientId), sessionId))
    },

    async takeClientSessions (clientId) {
      const res = await io(async () => await client.multi().smembers(key.clientSessions(clientId)).del(key.clientSessions(clientId)).exec())
      const ids = res?.[0]?.[1]
      return Array.isArray(ids) ? ids as string[] : []
    },
    // ---- end of OAuth2 clients ----

    async ping () {
      await io(async () => await client.ping())
    },

    async close () {
      // The client was lent to us (the app's @fastify/redis owns and quits it); the
      // subscriber connection is ours.
      await feed.close()
    }
  }
}

/** Above this many indexed sessions, a login also prunes its user's index (a sample of it). */
const INDEX_PRUNE_THRESHOLD = 20

/** Index members a login checks (and drops when dead) once past the threshold. */
const PRUNE_SAMPLE = 8

/** Denylist entries dropped per prune script (unpack() has a stack limit). */
const PRUNE_BATCH = 1000

/** How long `denylist()` waits for a pending follower to know where it starts. */
const SUBSCRIBE_WAIT_MS = 2000

/** XREAD BLOCK time: below the connection's socket timeout, so a quiet log is not a dead connection. */
const FOLLOW_BLOCK_MS = 1000

interface Follower {
  add (listener: RevocationListener): () => void
  /** Resolves once a wanted follower knows its starting point (or after a bounded wait). */
  confirmed (): Promise<void>
  close (): Promise<void>
}

/** A feed log entry (`m` = the message, `e` = the epoch it was logged in) as a LoggedRevocation. */
function logged (id: string, kv: string[]): LoggedRevocation {
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
function follower (client: RedisClient, logKey: string): Follower {
  const listeners = new Set<RevocationListener>()
  let stop: (() => void) | undefined
  let started: Promise<void> | undefined

  function open (): void {
    const override = { enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined, lazyConnect: false }
    const c: RedisClient = client instanceof Cluster ? client.duplicate(undefined, override as never) : client.duplicate(override as never)
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

function keys (prefix: string) {
  return {
    user: (mobile: string) => `${prefix}m:{${mobile}}:user`,
    sms: (mobile: string) => `${prefix}m:{${mobile}}:sms`,
    cooldown: (mobile: string) => `${prefix}m:{${mobile}}:sms-cool`,
    userPointer: (userId: string) => `${prefix}uid:{${userId}}`,
    userSessions: (userId: string) => `${prefix}u:{${userId}}:sessions`,
    session: (sessionId: string) => `${prefix}s:{${sessionId}}`,
    hits: (hitKey: string) => `${prefix}hit:${hitKey}`,
    marker: (markKey: string) => `${prefix}once:${markKey}`,
    authCode: (codeId: string) => `${prefix}code:{${codeId}}`,
    usedCode: (codeId: string) => `${prefix}code:{${codeId}}:used`,
    consents: (userId: string) => `${prefix}u:{${userId}}:consents`,
    // OAuth2 clients of the admin API
    client: (clientId: string) => `${prefix}client:{${clientId}}`,
    clientSessions: (clientId: string) => `${prefix}client:{${clientId}}:sessions`,
    clients: `${prefix}clients`,
    // The revocation feed, names fixed by docs/revocation-protocol.md.
    deny: `${prefix}deny`,
    denyExp: `${prefix}deny:exp`,
    epoch: `${prefix}epoch`,
    log: `${prefix}deny:log`,
    channel: `${prefix}revocations`
  }
}

/** A two-element script reply, e.g. `{created, HGETALL}` or `{count, ttl}`. */
function pair (reply: unknown): [unknown, unknown] {
  if (!Array.isArray(reply) || reply.length !== 2) throw new Error('unexpected redis script reply')
  return [reply[0], reply[1]]
}
