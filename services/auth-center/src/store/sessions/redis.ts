import { Cluster } from 'ioredis'
import { StoreUnavailableError } from '../../errors.js'
import type { RotateStatus, Session, SessionStore } from './sessions.js'
import {
  DEFAULT_DENY_TTL_MS, DEFAULT_FEED_LOG_MAX, assertDenyTtl, comparePositions, denyEntries, denyMessage, epochTag, formatCursor, formatDenyValue, newEpoch, parseCursor,
  sessionField, userField
} from '../denylist.js'
import { REUSED_REASON, byCreatedAt, isLive, sessionRetentionMs } from '../rules.js'
import { redisPrefix, type RedisClient } from '../redis/client.js'
import { decodeSession, encodeSession, flatToHash, pair } from '../redis/codec.js'
import { io, run } from '../redis/script.js'
import { follower, logged } from './redis-follower.js'
import {
  CREATE_INDEXED_SESSION, CREATE_SESSION, DENY_ENTRIES, DENY_ONCE, ENSURE_EPOCH, FEED_HEAD, INDEX_SESSION, PRUNE_DENYLIST, REVOKE_SESSION, REVOKE_USER_SESSIONS, ROTATE_REFRESH
} from './redis-scripts.js'
import { CLUSTER_DENY, CLUSTER_REVOKE_SESSION, CLUSTER_REVOKE_USER_SESSION, CLUSTER_ROTATE_REFRESH } from './redis-cluster-scripts.js'

export interface RedisSessionsOptions {
  /**
   * Prepended to every key (default `ac:`). The revocation feed keys (`<prefix>deny`,
   * `<prefix>deny:exp`, `<prefix>epoch`, channel `<prefix>revocations`) use it too:
   * verifiers must be given the same prefix.
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
 * Sessions and the revocation feed in Redis. Key layout (prefix `ac:`; `{…}` is the
 * Cluster hash tag):
 *
 * | key                         | type   | TTL                              |
 * |-----------------------------|--------|----------------------------------|
 * | `ac:s:{<sessionId>}`        | hash   | expiresAt − now + 1 day          |
 * | `ac:u:{<userId>}:sessions`  | zset   | none (sessionId by createdAt)    |
 * | `ac:deny`                   | hash   | none (pruned through the zset)   |
 * | `ac:deny:exp`               | zset   | none (field by expiresAtMs)      |
 * | `ac:epoch`                  | string | none                             |
 * | `ac:deny:log`               | stream | none (trimmed to ~10,000 entries)|
 * | channel `ac:revocations`    | pubsub | one message per denylist entry   |
 *
 * The last five are the revocation feed of docs/revocation-protocol.md, whose names
 * are fixed by that protocol. On one Redis (or Sentinel) the scripts that revoke
 * (rotation's reuse branch, revokeSession, revokeUserSessions) touch them together
 * with the session keys, in one step.
 *
 * On a Redis Cluster (the client is an ioredis `Cluster`) a script may touch one slot
 * only, so the four feed keys get the hash tag `{deny}` (`ac:{deny}`, `ac:{deny}:exp`,
 * `ac:{deny}:epoch`, `ac:{deny}:log`: one small slot of their own, sessions spread over
 * all the others), and each revocation is two steps: the denylist entry first, then the
 * session (redis-cluster-scripts.ts says why that order). A cluster is new, so there is
 * no data under the old names to migrate; a single Redis keeps them as they are.
 * Verifiers follow a cluster through the HTTP feed (a verifier's own Redis transport
 * reads the single-Redis names).
 *
 * Sessions are keyed by their own id (refresh needs one round trip) and indexed per
 * user in a sorted set; the set is written after the session, so every member whose
 * session is missing is truly gone and can be pruned without racing a login. Revoking
 * all of a user's sessions is one script: a session created while it runs is simply
 * created after it. Disposing the part closes its feed follower connection.
 */
export function createRedisSessions (client: RedisClient, opts: RedisSessionsOptions = {}): SessionStore & AsyncDisposable {
  const onCluster = client instanceof Cluster
  const key = sessionKeys(redisPrefix(opts.prefix, 'createRedisSessions'), onCluster)
  const denyTtlMs = opts.denyTtlMs ?? DEFAULT_DENY_TTL_MS
  assertDenyTtl(denyTtlMs, 'createRedisSessions')
  /** KEYS every revoking script starts with (see DENY in redis-scripts.ts). */
  const denyKeys = [key.deny, key.denyExp, key.epoch, key.log]
  const feedLogMax = opts.feedLogMax ?? DEFAULT_FEED_LOG_MAX
  const feed = follower(client, key.log)

  /** Cluster only: the denylist entry, logged and published, in the `{deny}` slot (CLUSTER_DENY). */
  async function deny (field: string, now: number, exceptSid: string, merge: boolean): Promise<void> {
    await run(client, CLUSTER_DENY, denyKeys, [
      field, String(now), String(now + denyTtlMs), newEpoch(now), key.channel, feedLogMax, exceptSid, merge ? '1' : '0'
    ])
  }

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
   * O(1) per login whatever the index size. listUserSessions, which reads them all
   * anyway, prunes every dead member it sees.
   *
   * A sample that finds every member live makes this process skip the index's next
   * PRUNE_MARGIN - 1 logins: an index of many sessions that all stay live (a busy
   * user's devices; client_credentials tokens did, before they stopped storing a session)
   * made checking them on every login about 23 us of Redis and CPU for nothing. A sample that drops something (or fails)
   * keeps the index pruned at every login, as before. Counted in logins, not in index
   * size: a list that empties the index must not make it skip longer. The sample is
   * twice what one prune per login needed, so the index stays as tight as then: each
   * login adds one member and in steady state one dies, and (simulated, 200 live
   * sessions, one random death per login) the index settles near 1.14 times its live
   * sessions either way, 8 members at every login or 16 with this skip, while an
   * all-live index costs 17 commands per 8 logins instead of 9 per login. Forgetting
   * an entry (the size bound) only means an earlier prune; several processes each
   * skip only their own logins.
   */
  const skipsLeft = new Map<string, number>()
  function afterIndexed (userId: string, size: number): void {
    if (size <= INDEX_PRUNE_THRESHOLD) return
    const left = skipsLeft.get(userId) ?? 0
    if (left > 0) {
      skipsLeft.set(userId, left - 1)
      return
    }
    // Set before the prune runs, so logins meanwhile do not start another one.
    if (!skipsLeft.has(userId) && skipsLeft.size >= SKIPPING_INDEXES_MAX) {
      const oldest = skipsLeft.keys().next().value
      if (oldest !== undefined) skipsLeft.delete(oldest)
    }
    skipsLeft.set(userId, PRUNE_MARGIN - 1)
    pruneSome(userId).then((dropped) => { if (dropped > 0) skipsLeft.delete(userId) }, () => { skipsLeft.delete(userId) })
  }

  /** Checks PRUNE_SAMPLE random members of the index; returns how many it drops. */
  async function pruneSome (userId: string): Promise<number> {
    const ids = await client.zrandmember(key.userSessions(userId), PRUNE_SAMPLE)
    if (ids.length === 0) return 0
    const found = await Promise.all(ids.map(async (id) => await client.hmget(key.session(id), 'userId', 'revokedAt')))
    const dead = ids.filter((_id, i) => found[i]?.[0] === null || found[i]?.[1] !== null)
    prune(userId, dead)
    return dead.length
  }

  return {
    async createSession (session) {
      const retention = sessionRetentionMs(session.expiresAt, session.createdAt)
      if (!onCluster) {
        // One script, one round trip: epoch if missing, session, then its index member (the order the note below needs).
        const size = Number(await run(client, CREATE_INDEXED_SESSION, [key.session(session.id), key.userSessions(session.userId), key.epoch], [
          retention, newEpoch(session.createdAt), session.createdAt, session.id, ...encodeSession(session)
        ]))
        afterIndexed(session.userId, size)
        return
      }
      // On a Cluster the three keys are in different slots. An epoch older than every session in this Redis: after Redis came back empty,
      // the first login makes it (instead of a later revocation or verifier whose
      // epoch would refuse this login's tokens). At createdAt, the login's `iat`, see newEpoch.
      // Sent together with the session write (one round trip, not two): the epoch's
      // value depends only on createdAt, and both are done before any token leaves.
      await Promise.all([
        io(async () => await client.set(key.epoch, newEpoch(session.createdAt), 'NX')),
        run(client, CREATE_SESSION, [key.session(session.id)], [retention, ...encodeSession(session)])
      ])
      // Index after the session exists: see the key layout note above.
      const size = Number(await run(client, INDEX_SESSION, [key.userSessions(session.userId)], [session.createdAt, session.id]))
      afterIndexed(session.userId, size)
    },

    async getSession (id) {
      return decodeSession(await io(async () => await client.hgetall(key.session(id))))
    },

    async rotateRefresh ({ sessionId, presentedGen, now, graceMs, newExpiresAt, expectedNonce }) {
      if (onCluster) {
        const reply = await run(client, CLUSTER_ROTATE_REFRESH, [key.session(sessionId)], [
          presentedGen, String(now), graceMs, String(newExpiresAt), sessionRetentionMs(newExpiresAt, now), expectedNonce ?? ''
        ])
        if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw new Error('unexpected rotateRefresh reply')
        if (reply[0] === 'reuse') {
          await deny(sessionField(sessionId), now, '', false)
          const revoked = await run(client, CLUSTER_REVOKE_SESSION, [key.session(sessionId)], [String(now), REUSED_REASON])
          return { status: 'reused', session: revoked === null ? undefined : decodeSession(flatToHash(revoked)) ?? undefined }
        }
        const status = reply[0] as RotateStatus
        if (status === 'missing' || status === 'stale') return { status }
        return { status, session: decodeSession(flatToHash(reply[1])) ?? undefined }
      }
      const reply = await run(client, ROTATE_REFRESH, [...denyKeys, key.session(sessionId)], [
        presentedGen, String(now), graceMs, String(newExpiresAt),
        sessionRetentionMs(newExpiresAt, now), REUSED_REASON,
        sessionField(sessionId), String(now + denyTtlMs), newEpoch(now), key.channel, expectedNonce ?? '', feedLogMax
      ])
      if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw new Error('unexpected rotateRefresh reply')
      const status = reply[0] as RotateStatus
      if (status === 'missing' || status === 'stale') return { status }
      if (typeof reply[1] !== 'string') throw new Error('unexpected rotateRefresh reply')
      return { status, session: decodeSession(flatToHash(JSON.parse(reply[1]))) ?? undefined }
    },

    async revokeSession (id, reason, now) {
      if (onCluster) {
        // Only a session that is live now gets an entry; one revoked meanwhile by another
        // call may get a second, later one, which refuses nothing more than the first.
        const found = decodeSession(await io(async () => await client.hgetall(key.session(id))))
        if (found === null || found.revokedAt !== undefined) return found
        await deny(sessionField(id), now, '', false)
        const reply = await run(client, CLUSTER_REVOKE_SESSION, [key.session(id)], [String(now), reason])
        return reply === null ? null : decodeSession(flatToHash(reply))
      }
      const reply = await run(client, REVOKE_SESSION, [...denyKeys, key.session(id)], [
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
      if (onCluster) {
        // The user entry first (it covers every session at once), then each session in its own slot.
        await deny(userField(userId), now, exceptSessionId ?? '', true)
        const outcomes = (await Promise.all(targets.map(async (id) =>
          await run(client, CLUSTER_REVOKE_USER_SESSION, [key.session(id)], [userId, String(now), reason])))).map(String)
        prune(userId, targets.filter((_id, i) => outcomes[i] === 'gone' || outcomes[i] === 'dead'))
        return targets.filter((_id, i) => outcomes[i] === 'revoked')
      }
      const reply = await run(client, REVOKE_USER_SESSIONS, [...denyKeys, ...targets.map(key.session)], [
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

    async revokeUnstoredSession (id, now) {
      // The feed keys share one slot on a Cluster too: one script either way.
      const wrote = await run(client, DENY_ONCE, denyKeys, [
        sessionField(id), formatDenyValue({ revokedAt: now, expiresAt: now + denyTtlMs }), String(now + denyTtlMs), newEpoch(now), key.channel, feedLogMax
      ])
      return Number(wrote) === 1
    },

    async denyEntriesOf (sessionId, userId) {
      const reply = await run(client, DENY_ENTRIES, [key.deny, key.epoch], [sessionField(sessionId), userField(userId)])
      if (!Array.isArray(reply)) throw new Error('unexpected denyEntriesOf reply')
      const [epoch, session, user] = reply as Array<string | null>
      return denyEntries(epoch, session, user)
    },

    async ensureEpoch (now) {
      return String(await run(client, ENSURE_EPOCH, [key.epoch], [newEpoch(now)]))
    },

    async denylist () {
      // Follow-then-load: a pending follower of ours knows where it starts first, so
      // nothing logged between the two can fall in a gap.
      await feed.confirmed()
      const [epoch, last] = pair(await run(client, FEED_HEAD, [key.epoch, key.log], [newEpoch(Date.now())])) as [string, string]
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
        const n = Number(await run(client, PRUNE_DENYLIST, [key.deny, key.denyExp], [String(now), PRUNE_BATCH]))
        total += n
        if (n < PRUNE_BATCH) return total
      }
    },

    // A symbol, not a method name: composeStore copies methods only. The follower's
    // connection is ours; the client was lent to us.
    async [Symbol.asyncDispose] () {
      await feed.close()
    }
  }
}

/** Above this many indexed sessions, a login also prunes its user's index (a sample of it). */
const INDEX_PRUNE_THRESHOLD = 20

/** Index members a login checks (and drops when dead) once past the threshold. */
const PRUNE_SAMPLE = 16

/** After a sample found every member live, at most one prune per this many logins into the index. */
const PRUNE_MARGIN = 8

/** Indexes whose skips one process remembers (the oldest is forgotten first). */
const SKIPPING_INDEXES_MAX = 10_000

/** Denylist entries dropped per prune script (unpack() has a stack limit). */
const PRUNE_BATCH = 1000

function sessionKeys (prefix: string, onCluster: boolean) {
  // On a cluster the feed keys share the `{deny}` hash tag (see the key layout above).
  const feed = onCluster ? `${prefix}{deny}` : `${prefix}deny`
  return {
    session: (sessionId: string) => `${prefix}s:{${sessionId}}`,
    userSessions: (userId: string) => `${prefix}u:{${userId}}:sessions`,
    // The revocation feed, names fixed by docs/revocation-protocol.md.
    deny: feed,
    denyExp: `${feed}:exp`,
    epoch: onCluster ? `${feed}:epoch` : `${prefix}epoch`,
    log: `${feed}:log`,
    channel: `${prefix}revocations`
  }
}
