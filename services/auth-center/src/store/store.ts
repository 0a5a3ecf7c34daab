/**
 * The one interface through which every piece of mutable auth-center state goes.
 * Two drivers implement it (`memory-store.ts`, `redis-store.ts`) and both pass the
 * same contract suite (`test/store/store.contract.ts`).
 *
 * Every method that decides something from state and then changes it is ONE atomic
 * step in each driver (a Lua script in Redis), never read-then-write: the races it
 * guards (concurrent refreshes, code guessing, first login) are the product.
 *
 * Times are epoch milliseconds passed in by the caller (`now`), so that tests and
 * drivers agree on the clock. Any driver failure to reach its backend throws
 * `StoreUnavailableError` (routes answer 503 STORE_UNAVAILABLE).
 */

export interface User {
  id: string
  /** E.164, e.g. `+8613800138000`. */
  mobile: string
  /** scrypt/argon2 PHC-style string; absent until the user sets a password. */
  passwordHash?: string
  createdAt: number
  passwordChangedAt?: number
}

export interface Session {
  id: string
  userId: string
  clientId: string
  deviceName?: string
  ip?: string
  userAgent?: string
  createdAt: number
  lastUsedAt: number
  /** When the current refresh token lapses (moves forward on each rotation). */
  expiresAt: number
  /** Generation of the live refresh token; rotation moves it to refreshGen + 1. */
  refreshGen: number
  /** When the last rotation happened (0 before the first). */
  rotatedAt: number
  /** Random per-session salt mixed into the refresh token MAC (see tokens/refresh-token.ts). */
  refreshNonce: string
  revokedAt?: number
  revokedReason?: string
}

export type SmsCheckResult =
  | 'ok'        // matched: the code is consumed
  | 'wrong'     // did not match: one try used, the code lives on
  | 'dead'      // did not match and that was the last try: the code is gone
  | 'missing'   // no live code for this number

export interface SmsIssueResult {
  ok: boolean
  /** When `ok` is false: how long until a new code may be sent. */
  retryAfterMs: number
}

export interface RateResult {
  allowed: boolean
  count: number
  /** Time until the window resets. */
  retryAfterMs: number
}

export type RotateStatus =
  | 'rotated'   // presented gen was current: gen is now gen+1
  | 'grace'     // presented gen was the immediately previous one, within the grace window: nothing changes, caller re-issues the current successor
  | 'reused'    // an older gen, or the previous one after the grace window: the session is now revoked
  | 'expired'   // refresh lifetime is over (session left as is)
  | 'revoked'   // session was already revoked
  | 'missing'   // no such session

export interface RotateResult {
  status: RotateStatus
  /** The session after the step (undefined when missing). */
  session?: Session
}

export interface RotateInput {
  sessionId: string
  presentedGen: number
  now: number
  graceMs: number
  /** New `expiresAt` to store when a rotation happens. */
  newExpiresAt: number
}

export interface Store {
  readonly driver: 'memory' | 'redis'

  // users
  getUser (id: string): Promise<User | null>
  getUserByMobile (mobile: string): Promise<User | null>
  /** Atomic: concurrent calls for one mobile all get the same user; `created` is true for exactly one. */
  getOrCreateUserByMobile (mobile: string, candidate: User): Promise<{ user: User, created: boolean }>
  setPassword (userId: string, passwordHash: string, now: number): Promise<void>

  // SMS codes
  /**
   * Atomic: refuses while the cooldown for this mobile runs; otherwise replaces any
   * live code with `codeHash` (ttlMs, maxAttempts tries) and starts the cooldown.
   */
  issueSmsCode (mobile: string, codeHash: string, opts: { ttlMs: number, cooldownMs: number, maxAttempts: number }): Promise<SmsIssueResult>
  /** Atomic check-and-consume, see SmsCheckResult. */
  checkSmsCode (mobile: string, codeHash: string): Promise<SmsCheckResult>

  // counters
  /** Fixed-window counter: counts this hit and says whether it is within `limit`. */
  hit (key: string, limit: number, windowMs: number): Promise<RateResult>
  /** Clears a counter (e.g. failed-password counter after a success). */
  resetHits (key: string): Promise<void>

  // sessions
  /** Stores a new session and indexes it under its user. Kept until expiresAt (+ margin). */
  createSession (session: Session): Promise<void>
  getSession (id: string): Promise<Session | null>
  /** Atomic refresh-token rotation with reuse detection, see RotateStatus. */
  rotateRefresh (input: RotateInput): Promise<RotateResult>
  /** Marks one session revoked; returns it, or null when it did not exist. Idempotent. */
  revokeSession (id: string, reason: string, now: number): Promise<Session | null>
  /** Revokes every live session of a user, except `exceptSessionId`; returns the ids revoked. */
  revokeUserSessions (userId: string, reason: string, now: number, exceptSessionId?: string): Promise<string[]>
  /** The user's sessions that are neither revoked nor expired, oldest first. */
  listUserSessions (userId: string, now: number): Promise<Session[]>

  // lifecycle
  /** Resolves when the backend answers; throws StoreUnavailableError otherwise. */
  ping (): Promise<void>
  close (): Promise<void>
}
