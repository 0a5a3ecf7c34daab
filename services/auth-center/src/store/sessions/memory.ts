import type { LoggedRevocation, RevocationListener, RotateInput, RotateResult, Session, SessionStore } from './sessions.js'
import {
  DEFAULT_DENY_TTL_MS, DEFAULT_FEED_LOG_MAX, assertDenyTtl, denyEntries, denyMessage, epochTag, formatCursor, formatDenyValue, mergeUserEntry, newEpoch,
  parseCursor, parseDenyValue, sessionField, userField
} from '../denylist.js'
import { REUSED_REASON, byCreatedAt, decideRotation, isLive, sessionRetentionMs } from '../rules.js'
import { withoutUndefined } from '../memory/copy.js'
import type { Sweeper } from '../memory/sweep.js'

export interface MemorySessionsOptions {
  /**
   * How long a denylist entry lives after its revocation: the longest access-token
   * lifetime of any client + clock tolerance (default 2 min + 5 s). The app passes it.
   */
  denyTtlMs?: number
  /** How many revocations the feed log keeps for resuming readers (default 10,000). */
  feedLogMax?: number
  /** Drops sessions past their retention now and then; without one they go only when read. */
  sweeper?: Sweeper
}

interface StoredSession { session: Session, deadline: number }

/**
 * Sessions, the denylist, the epoch and the feed log in this process, lost on restart.
 * Every method decides and changes state without an `await` in between, so each is
 * atomic for free, a revocation and its denylist entry included. Retention runs on the
 * real clock (`Date.now()`), like Redis's TTLs; decisions about tokens use the caller's
 * `now`, like the Redis driver's scripts.
 *
 * The epoch is made on first use (this store never restarts without its process), and
 * each revocation is delivered synchronously to the in-process subscribers, before the
 * revoking call resolves. A verifier in the same process follows it through `denylist()`
 * + `subscribeRevocations()` (the app's `revocationFeed`). Disposing the part drops
 * every subscriber.
 */
export function createMemorySessions (opts: MemorySessionsOptions = {}): SessionStore & AsyncDisposable {
  const denyTtlMs = opts.denyTtlMs ?? DEFAULT_DENY_TTL_MS
  assertDenyTtl(denyTtlMs, 'createMemorySessions')
  const sessions = new Map<string, StoredSession>()
  const sessionIdsByUser = new Map<string, Set<string>>()
  /** field → value, see denylist.ts. */
  const deny = new Map<string, string>()
  let epoch: string | undefined
  const listeners = new Set<RevocationListener>()
  // The feed log (docs/revocation-protocol.md): the newest entries with their sequence
  // number; `logFloor` is the last number trimmed away, so a cursor at or past it resumes.
  const logMax = opts.feedLogMax ?? DEFAULT_FEED_LOG_MAX
  const log: Array<{ seq: number, message: string }> = []
  let logSeq = 0
  let logFloor = 0

  opts.sweeper?.add((now) => {
    for (const [k, v] of sessions) if (v.deadline <= now) dropSession(k, v.session.userId)
  })

  /** The stored session (the live object, never hand it out), or undefined once past retention. */
  function stored (id: string): Session | undefined {
    const entry = sessions.get(id)
    if (entry === undefined) return undefined
    if (entry.deadline <= Date.now()) {
      dropSession(id, entry.session.userId)
      return undefined
    }
    return entry.session
  }

  function dropSession (id: string, userId: string): void {
    sessions.delete(id)
    const ids = sessionIdsByUser.get(userId)
    ids?.delete(id)
    if (ids?.size === 0) sessionIdsByUser.delete(userId)
  }

  function revokeStored (s: Session, reason: string, now: number): void {
    s.revokedAt = now
    s.revokedReason = reason
  }

  /** Writes one denylist entry and publishes it: the same step as the session change (no await between). */
  function denyAndPublish (field: string, value: string, now: number): void {
    epoch ??= newEpoch(now)
    deny.set(field, value)
    const message = denyMessage(field, value)
    log.push({ seq: ++logSeq, message })
    if (log.length > logMax) logFloor = log.shift()!.seq
    const cursor = formatCursor(epoch, `0-${logSeq}`)
    for (const listener of [...listeners]) {
      // A subscriber's bug must not undo or fail a revocation that is already saved.
      try { listener(message, cursor) } catch {}
    }
  }

  function denySession (sessionId: string, now: number): void {
    denyAndPublish(sessionField(sessionId), formatDenyValue({ revokedAt: now, expiresAt: now + denyTtlMs }), now)
  }

  /** The user's sessions that still exist (revoked and expired included), oldest first. */
  function userSessions (userId: string): Session[] {
    const out: Session[] = []
    for (const id of sessionIdsByUser.get(userId) ?? []) {
      const s = stored(id)
      if (s !== undefined) out.push(s)
    }
    return out.sort(byCreatedAt)
  }

  return {
    async createSession (session) {
      const copy = withoutUndefined({ ...session })
      const previous = sessions.get(copy.id)
      if (previous !== undefined) dropSession(copy.id, previous.session.userId)
      sessions.set(copy.id, { session: copy, deadline: Date.now() + sessionRetentionMs(copy.expiresAt, copy.createdAt) })
      let ids = sessionIdsByUser.get(copy.userId)
      if (ids === undefined) {
        ids = new Set()
        sessionIdsByUser.set(copy.userId, ids)
      }
      ids.add(copy.id)
    },

    async getSession (id) {
      const s = stored(id)
      return s === undefined ? null : { ...s }
    },

    async rotateRefresh ({ sessionId, presentedGen, now, graceMs, newExpiresAt, expectedNonce }: RotateInput): Promise<RotateResult> {
      const entry = sessions.get(sessionId)
      const s = stored(sessionId)
      if (entry === undefined || s === undefined) return { status: 'missing' }
      if (expectedNonce !== undefined && expectedNonce !== s.refreshNonce) return { status: 'stale' }
      const status = decideRotation(s, presentedGen, now, graceMs)
      if (status === 'rotated') {
        s.refreshGen = Math.max(s.refreshGen, presentedGen) + 1
        s.rotatedAt = now
        s.lastUsedAt = now
        s.expiresAt = newExpiresAt
        entry.deadline = Date.now() + sessionRetentionMs(newExpiresAt, now)
      } else if (status === 'reused') {
        revokeStored(s, REUSED_REASON, now)
        denySession(sessionId, now)
      }
      return { status, session: { ...s } }
    },

    async revokeSession (id, reason, now) {
      const s = stored(id)
      if (s === undefined) return null
      if (s.revokedAt === undefined) {
        revokeStored(s, reason, now)
        denySession(id, now)
      }
      return { ...s }
    },

    async revokeUserSessions (userId, reason, now, exceptSessionId) {
      const revoked: string[] = []
      for (const s of userSessions(userId)) {
        if (s.id === exceptSessionId || !isLive(s, now)) continue
        revokeStored(s, reason, now)
        revoked.push(s.id)
      }
      const field = userField(userId)
      const existing = deny.get(field)
      const next = { revokedAt: now, expiresAt: now + denyTtlMs, ...(exceptSessionId !== undefined ? { exceptSid: exceptSessionId } : {}) }
      denyAndPublish(field, formatDenyValue(mergeUserEntry(existing === undefined ? undefined : parseDenyValue(existing), next)), now)
      return revoked
    },

    async listUserSessions (userId, now) {
      return userSessions(userId).filter((s) => isLive(s, now)).map((s) => ({ ...s }))
    },

    async revokeUnstoredSession (id, now) {
      if (deny.has(sessionField(id))) return false
      denySession(id, now)
      return true
    },

    async denyEntriesOf (sessionId, userId) {
      return denyEntries(epoch, deny.get(sessionField(sessionId)), deny.get(userField(userId)))
    },

    async ensureEpoch (now) {
      epoch ??= newEpoch(now)
      return epoch
    },

    async denylist () {
      epoch ??= newEpoch(Date.now())
      return { epoch, entries: [...deny].map(([field, value]) => denyMessage(field, value)), cursor: formatCursor(epoch, `0-${logSeq}`) }
    },

    async revocationsAfter (cursor, limit) {
      const parsed = parseCursor(cursor)
      if (epoch === undefined || parsed === undefined || parsed.tag !== epochTag(epoch) || parsed.ms !== 0) return null
      if (parsed.seq > logSeq || parsed.seq < logFloor) return null
      const out: LoggedRevocation[] = []
      for (let i = log.length - (logSeq - parsed.seq); i < log.length && out.length < limit; i++) {
        const e = log[i]!
        out.push({ message: e.message, cursor: formatCursor(epoch, `0-${e.seq}`) })
      }
      return out
    },

    subscribeRevocations (listener) {
      if (typeof listener !== 'function') throw new TypeError('subscribeRevocations: listener must be a function')
      // A wrapper per call, so the same function subscribed twice unsubscribes once each.
      const own: RevocationListener = (m, c) => { listener(m, c) }
      listeners.add(own)
      return () => { listeners.delete(own) }
    },

    async pruneDenylist (now) {
      let dropped = 0
      for (const [field, value] of deny) {
        const v = parseDenyValue(value)
        if (v === undefined || v.expiresAt <= now) {
          deny.delete(field)
          dropped += 1
        }
      }
      return dropped
    },

    // A symbol, not a method name: composeStore copies methods only, so the part's
    // own cleanup never lands on (or collides in) the composed Store.
    async [Symbol.asyncDispose] () {
      listeners.clear()
    }
  }
}
