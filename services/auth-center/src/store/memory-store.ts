import type {
  AuthCode, CodeReplay, Consent, RateResult, RevocationListener, RotateInput, RotateResult, Session, SmsCheckResult, SmsIssueResult, Store, User
} from './store.js'
import type { LoggedRevocation, StoredClient } from './store.js'
import {
  DEFAULT_DENY_TTL_MS, DEFAULT_FEED_LOG_MAX, assertDenyTtl, denyMessage, epochTag, formatCursor, formatDenyValue, mergeUserEntry, newEpoch,
  parseCursor, parseDenyValue, sessionField, userField
} from './denylist.js'
import {
  REUSED_REASON, assertCandidate, assertSmsOptions, assertWindow, byCreatedAt, decideRotation, isLive, sessionRetentionMs
} from './rules.js'
import { createMemoryEvents } from './events/memory.js'

export interface MemoryStoreOptions {
  /** How often expired codes, counters and sessions are dropped (default 60 s). */
  sweepIntervalMs?: number
  /**
   * How long a denylist entry lives after its revocation: the longest access-token
   * lifetime of any client + clock tolerance (default 2 min + 5 s). The app passes it.
   */
  denyTtlMs?: number
  /** How many revocations the feed log keeps for resuming readers (default 10,000). */
  feedLogMax?: number
}

interface SmsCode { codeHash: string, left: number, deadline: number }
interface Counter { count: number, resetAt: number }
interface StoredSession { session: Session, deadline: number }

/**
 * The embedded driver: everything in this process, lost on restart (the app warns).
 * Every method decides and changes state without an `await` in between, so each is
 * atomic for free. TTLs run on the real clock (`Date.now()`), like Redis's do;
 * decisions about tokens use the caller's `now`, like the Redis driver's scripts.
 * Entries past their TTL are ignored on read and dropped by a periodic sweep.
 *
 * The revocation feed lives here too: the denylist is a Map, the epoch is made when
 * the store is made (this store never restarts without its process), and each
 * revocation is delivered synchronously to the in-process subscribers, before the
 * revoking call resolves. A verifier in the same process follows it through
 * `denylist()` + `subscribeRevocations()` (the app's `revocationFeed`).
 *
 * @example
 * const store = createMemoryStore()
 * const { user } = await store.getOrCreateUserByMobile(mobile, candidate)
 */
export function createMemoryStore (opts: MemoryStoreOptions = {}): Store {
  const sweepIntervalMs = opts.sweepIntervalMs ?? 60_000
  if (!Number.isFinite(sweepIntervalMs) || sweepIntervalMs <= 0) {
    throw new TypeError('createMemoryStore: sweepIntervalMs must be a positive number')
  }
  const denyTtlMs = opts.denyTtlMs ?? DEFAULT_DENY_TTL_MS
  assertDenyTtl(denyTtlMs, 'createMemoryStore')

  const users = new Map<string, User>()
  const userIdByMobile = new Map<string, string>()
  const smsCodes = new Map<string, SmsCode>()
  const cooldowns = new Map<string, number>()
  const counters = new Map<string, Counter>()
  const sessions = new Map<string, StoredSession>()
  const sessionIdsByUser = new Map<string, Set<string>>()
  /** field → value, see denylist.ts. */
  const deny = new Map<string, string>()
  /** markOnce keys → deadline. */
  const markers = new Map<string, number>()
  /** OAuth2: code id → grant; code id → "used" marker (pending | replayed | session id); user → client → consent. */
  const authCodes = new Map<string, { code: AuthCode, deadline: number }>()
  const usedCodes = new Map<string, { state: string, deadline: number }>()
  const consents = new Map<string, Map<string, Consent>>()
  // OAuth2 clients of the admin API (JSON, like the Redis driver keeps them) and their grants.
  const storedClients = new Map<string, string>()
  const clientSessions = new Map<string, Set<string>>()
  let epoch: string | undefined
  const listeners = new Set<RevocationListener>()
  // The feed log (docs/revocation-protocol.md): the newest entries with their sequence
  // number; `logFloor` is the last number trimmed away, so a cursor at or past it resumes.
  const logMax = opts.feedLogMax ?? DEFAULT_FEED_LOG_MAX
  const log: Array<{ seq: number, message: string }> = []
  let logSeq = 0
  let logFloor = 0

  function liveCode (mobile: string): SmsCode | undefined {
    const code = smsCodes.get(mobile)
    if (code !== undefined && code.deadline <= Date.now()) {
      smsCodes.delete(mobile)
      return undefined
    }
    return code
  }

  function liveCounter (key: string): Counter | undefined {
    const c = counters.get(key)
    if (c !== undefined && c.resetAt <= Date.now()) {
      counters.delete(key)
      return undefined
    }
    return c
  }

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

  function sweep (): void {
    const now = Date.now()
    for (const [k, v] of smsCodes) if (v.deadline <= now) smsCodes.delete(k)
    for (const [k, v] of cooldowns) if (v <= now) cooldowns.delete(k)
    for (const [k, v] of counters) if (v.resetAt <= now) counters.delete(k)
    for (const [k, v] of sessions) if (v.deadline <= now) dropSession(k, v.session.userId)
    for (const [k, v] of authCodes) if (v.deadline <= now) authCodes.delete(k)
    for (const [k, v] of usedCodes) if (v.deadline <= now) usedCodes.delete(k)
    for (const [k, v] of markers) if (v <= now) markers.delete(k)
  }

  // unref: a store must never be what keeps the process (or a test run) alive.
  const sweeper = setInterval(sweep, sweepIntervalMs)
  sweeper.unref()

  return {
    driver: 'memory',

    async getUser (id) {
      const u = users.get(id)
      return u === undefined ? null : { ...u }
    },

    async getUserByMobile (mobile) {
      const id = userIdByMobile.get(mobile)
      const u = id === undefined ? undefined : users.get(id)
      return u === undefined ? null : { ...u }
    },

    async getOrCreateUserByMobile (mobile, candidate) {
      assertCandidate(mobile, candidate)
      const id = userIdByMobile.get(mobile)
      const existing = id === undefined ? undefined : users.get(id)
      if (existing !== undefined) return { user: { ...existing }, created: false }
      const user = withoutUndefined({ ...candidate })
      users.set(user.id, user)
      userIdByMobile.set(mobile, user.id)
      return { user: { ...user }, created: true }
    },

    async setPassword (userId, passwordHash, now, expectedHash) {
      const u = users.get(userId)
      if (u === undefined) return
      if (expectedHash !== undefined && u.passwordHash !== expectedHash) return
      u.passwordHash = passwordHash
      u.passwordChangedAt = now
    },

    async issueSmsCode (mobile, codeHash, opts): Promise<SmsIssueResult> {
      assertSmsOptions(opts)
      const { ttlMs, cooldownMs, maxAttempts } = opts
      const now = Date.now()
      const cooldownUntil = cooldowns.get(mobile)
      if (cooldownUntil !== undefined && cooldownUntil > now) {
        return { ok: false, retryAfterMs: cooldownUntil - now }
      }
      if (cooldownMs > 0) cooldowns.set(mobile, now + cooldownMs)
      else cooldowns.delete(mobile)
      smsCodes.set(mobile, { codeHash, left: maxAttempts, deadline: now + ttlMs })
      return { ok: true, retryAfterMs: 0 }
    },

    async cancelSmsCode (mobile) {
      smsCodes.delete(mobile)
      cooldowns.delete(mobile)
    },

    async checkSmsCode (mobile, codeHash): Promise<SmsCheckResult> {
      const code = liveCode(mobile)
      if (code === undefined) return 'missing'
      if (code.codeHash === codeHash) {
        smsCodes.delete(mobile)
        return 'ok'
      }
      code.left -= 1
      if (code.left > 0) return 'wrong'
      smsCodes.delete(mobile)
      return 'dead'
    },

    async hit (key, limit, windowMs): Promise<RateResult> {
      assertWindow(windowMs)
      const now = Date.now()
      let c = liveCounter(key)
      if (c === undefined) {
        c = { count: 0, resetAt: now + windowMs }
        counters.set(key, c)
      }
      c.count += 1
      return { allowed: c.count <= limit, count: c.count, retryAfterMs: c.resetAt - now }
    },

    async resetHits (key) {
      counters.delete(key)
    },

    async releaseHit (key) {
      const c = liveCounter(key)
      if (c !== undefined && c.count > 0) c.count -= 1
    },

    async countHits (key) {
      return liveCounter(key)?.count ?? 0
    },

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
        s.refreshGen += 1
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

    async markOnce (key, ttlMs) {
      const now = Date.now()
      const until = markers.get(key)
      if (until !== undefined && until > now) return false
      markers.set(key, now + ttlMs)
      return true
    },

    // The audit log (and the risk events, a view of it): its own part, events/memory.ts.
    ...createMemoryEvents(),

    async saveAuthCode (codeId, code, ttlMs) {
      authCodes.set(codeId, { code: withoutUndefined({ ...code }), deadline: Date.now() + ttlMs })
    },

    async takeAuthCode (codeId, usedTtlMs) {
      // Delete-on-read, no await in between: exactly one caller gets the grant.
      const entry = authCodes.get(codeId)
      authCodes.delete(codeId)
      if (entry === undefined || entry.deadline <= Date.now()) return null
      usedCodes.set(codeId, { state: 'pending', deadline: Date.now() + usedTtlMs })
      return { ...entry.code }
    },

    async bindAuthCode (codeId, sessionId) {
      const used = usedCodes.get(codeId)
      if (used === undefined) return true
      if (used.state === 'replayed') return false
      used.state = `s:${sessionId}`
      return true
    },

    async replayAuthCode (codeId): Promise<CodeReplay> {
      const used = usedCodes.get(codeId)
      if (used === undefined || used.deadline <= Date.now()) return { status: 'unknown' }
      if (used.state.startsWith('s:')) return { status: 'granted', sessionId: used.state.slice(2) }
      used.state = 'replayed'
      return { status: 'pending' }
    },

    async setConsent (userId, consent) {
      let mine = consents.get(userId)
      if (mine === undefined) {
        mine = new Map()
        consents.set(userId, mine)
      }
      mine.set(consent.clientId, { ...consent })
    },

    async getConsent (userId, clientId) {
      const c = consents.get(userId)?.get(clientId)
      return c === undefined ? null : { ...c }
    },

    async listConsents (userId) {
      return [...(consents.get(userId)?.values() ?? [])].map((c) => ({ ...c })).sort((a, b) => a.grantedAt - b.grantedAt)
    },

    async deleteConsent (userId, clientId) {
      return consents.get(userId)?.delete(clientId) ?? false
    },

    // ---- OAuth2 clients registered through the admin API ----
    async putClient (client, opts = {}) {
      if (opts.ifAbsent === true && storedClients.has(client.clientId)) return false
      storedClients.set(client.clientId, JSON.stringify(client))
      return true
    },

    async getClient (clientId) {
      const raw = storedClients.get(clientId)
      return raw === undefined ? null : JSON.parse(raw) as StoredClient
    },

    async listClients () {
      return [...storedClients.keys()].sort().map((id) => JSON.parse(storedClients.get(id)!) as StoredClient)
    },

    async deleteClient (clientId) {
      return storedClients.delete(clientId)
    },

    async addClientSession (clientId, sessionId) {
      let ids = clientSessions.get(clientId)
      if (ids === undefined) {
        ids = new Set()
        clientSessions.set(clientId, ids)
      }
      ids.add(sessionId)
    },

    async takeClientSessions (clientId) {
      const ids = [...(clientSessions.get(clientId) ?? [])]
      clientSessions.delete(clientId)
      return ids
    },
    // ---- end of OAuth2 clients ----

    async ping () {},

    async close () {
      clearInterval(sweeper)
      listeners.clear()
    }
  }
}

/** Optional fields stay absent (not present-but-undefined), like a Redis hash round-trip. */
function withoutUndefined<T extends object> (o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) {
    if (o[k] === undefined) Reflect.deleteProperty(o, k)
  }
  return o
}
