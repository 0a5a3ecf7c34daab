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
 *
 * Revocations also feed the verifiers (docs/revocation-protocol.md): every method
 * that revokes (revokeSession, revokeUserSessions, rotateRefresh's reuse branch)
 * writes the denylist entry (hash + expiry zset), creates the epoch when it is
 * missing, appends the entry to the feed log and publishes it, in the SAME atomic step as the session change,
 * so a revocation is never saved without its denylist entry.
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
  /** DPoP binding: RFC 7638 thumbprint of the key the session's tokens are bound to. */
  jkt?: string
  /** Cookie binding: SHA-256 (base64url) of the fingerprint cookie set at login. */
  fgpHash?: string
  /** OAuth2 grants: the scope granted to the client (space-separated), carried into every access token. */
  scope?: string
  /**
   * What the session's tokens may do (their `ac_kind` claim), fixed when it starts:
   * `first-party` (a first-party login: acts as the user), `third-party` (an OAuth2
   * grant: only within `scope`), `client` (client credentials: `userId` is `client:<id>`).
   * Kept in the session so that a grant stays what it is whatever later happens to its
   * client's registration. Absent only in sessions saved before it existed: see sessionKind().
   */
  kind?: SessionKind
}

export type SessionKind = 'first-party' | 'third-party' | 'client'

/** An OAuth2 authorization code's grant (src/oauth/codes.ts), stored under a hash of the code. */
export interface AuthCode {
  clientId: string
  redirectUri: string
  /** PKCE S256 challenge (base64url SHA-256 of the verifier). */
  codeChallenge: string
  scope: string
  userId: string
  nonce?: string
  /** When the user logged in at the auth center (ms), for the id_token's auth_time. */
  authTime: number
}

/** What the user allowed a client (OAuth2 consent), remembered until withdrawn. */
export interface Consent {
  clientId: string
  scope: string
  grantedAt: number
}

/** The state of a taken code's "used" marker, see Store.replayAuthCode. */
export type CodeReplay =
  | { status: 'unknown' }                        // no marker: never issued, or long gone
  | { status: 'pending' }                        // taken, its grant is being made; now marked replayed
  | { status: 'granted', sessionId: string }     // taken and exchanged: the caller revokes that session

/** Something suspicious about a session, kept for the admin API (GET /admin/users/:id/risk-events). */
export interface RiskEvent {
  at: number
  userId: string
  sessionId?: string
  clientId?: string
  ip?: string
  userAgent?: string
  /** e.g. dpop_key_mismatch, fingerprint_missing, refresh_token_reused, ip_changed, user_agent_changed */
  reason: string
  /** Whether the request was refused (and the session revoked) or only recorded. */
  refused: boolean
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
  | 'stale'     // `expectedNonce` was given and is not the session's refreshNonce: nothing changed

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
  /**
   * Optional guard: the refreshNonce the caller verified the token's MAC against
   * (from what it remembered of the session, instead of a getSession first). When
   * given and not the stored one, the step changes nothing and answers 'stale'.
   */
  expectedNonce?: string
}

/** What a verifier loads on start and after every reconnect (docs/revocation-protocol.md). */
export interface Denylist {
  /** `<createdAtMs>:<random>`: tokens whose `iat` (in ms) is before createdAtMs are revoked. */
  epoch: string
  /** `<field>=<value>`, e.g. `s:<sid>=<revokedAtMs>:<expiresAtMs>` or `u:<userId>=<revokedAtMs>:<expiresAtMs>[:<exceptSid>]`. */
  entries: string[]
  /**
   * The feed position the entries are complete up to (denylist.ts `formatCursor`): every
   * revocation logged after it comes from `revocationsAfter(cursor)`. Read before the
   * entries, so an entry may be in both (applying one twice changes nothing).
   */
  cursor: string
}

/** A revocation as the feed log holds it. */
export interface LoggedRevocation {
  /** `<field>=<value>`, as in Denylist.entries. */
  message: string
  /** Its place in the store's log, global to the store (any replica can resume from it). */
  cursor: string
}

/**
 * An OAuth2 client registered through the admin API. `registration` is the clients-file
 * shaped entry (client_secret_sha256 in hex, never the secret); the store does not read it.
 */
export interface StoredClient {
  clientId: string
  createdAt: number
  registration: Record<string, unknown>
}

/** Receives each revocation as published: `<field>=<value>`, the same text as the hash, and its feed cursor. */
export type RevocationListener = (message: string, cursor: string) => void

export interface Store {
  readonly driver: 'memory' | 'redis'

  // users
  getUser (id: string): Promise<User | null>
  getUserByMobile (mobile: string): Promise<User | null>
  /** Atomic: concurrent calls for one mobile all get the same user; `created` is true for exactly one. */
  getOrCreateUserByMobile (mobile: string, candidate: User): Promise<{ user: User, created: boolean }>
  /**
   * With `expectedHash`, a compare-and-set: the hash is replaced only while it is still that one,
   * so re-encoding an old hash at login can never undo a password change that happened meanwhile.
   */
  setPassword (userId: string, passwordHash: string, now: number, expectedHash?: string): Promise<void>

  // SMS codes
  /**
   * Atomic: refuses while the cooldown for this mobile runs; otherwise replaces any
   * live code with `codeHash` (ttlMs, maxAttempts tries) and starts the cooldown.
   */
  issueSmsCode (mobile: string, codeHash: string, opts: { ttlMs: number, cooldownMs: number, maxAttempts: number }): Promise<SmsIssueResult>
  /** Atomic check-and-consume, see SmsCheckResult. */
  checkSmsCode (mobile: string, codeHash: string): Promise<SmsCheckResult>
  /** Drops the live code and the cooldown of a number: its delivery failed, so the user may ask again at once. */
  cancelSmsCode (mobile: string): Promise<void>

  // counters
  /** Fixed-window counter: counts this hit and says whether it is within `limit`. */
  hit (key: string, limit: number, windowMs: number): Promise<RateResult>
  /** Clears a counter (e.g. failed-password counter after a success). */
  resetHits (key: string): Promise<void>
  /**
   * Gives back one hit of the current window: the request it counted turned out not
   * to count (an SMS refused by the cooldown, a password that was right). Never goes
   * below zero, never starts a window, never moves the window's end.
   */
  releaseHit (key: string): Promise<void>
  /** The count of the current window (0 when there is none), without counting. */
  countHits (key: string): Promise<number>

  // sessions
  /** Stores a new session and indexes it under its user. Kept until expiresAt (+ margin). */
  createSession (session: Session): Promise<void>
  getSession (id: string): Promise<Session | null>
  /**
   * Atomic refresh-token rotation with reuse detection, see RotateStatus. The
   * 'reused' branch revokes the session and writes + publishes `s:<sid>` in the same step.
   */
  rotateRefresh (input: RotateInput): Promise<RotateResult>
  /**
   * Marks one session revoked; returns it, or null when it did not exist. Idempotent:
   * the first revocation stands. When it revokes (the session was not revoked yet) it
   * writes and publishes the denylist entry `s:<id>` in the same atomic step.
   */
  revokeSession (id: string, reason: string, now: number): Promise<Session | null>
  /**
   * Revokes every live session of a user, except `exceptSessionId`; returns the ids
   * revoked. Always writes and publishes ONE user entry `u:<userId>` (revokedAt = now,
   * exceptSid = exceptSessionId), which kills every token of the user issued before
   * it, including tokens of sessions a verifier has never seen. Merging with an
   * existing user entry keeps the later revokedAt and expiresAt and takes this
   * call's exceptSid.
   */
  revokeUserSessions (userId: string, reason: string, now: number, exceptSessionId?: string): Promise<string[]>
  /** The user's sessions that are neither revoked nor expired, oldest first. */
  listUserSessions (userId: string, now: number): Promise<Session[]>

  // revocation feed (docs/revocation-protocol.md)
  /** Creates the epoch when it is missing (SET NX); returns the epoch in force. */
  ensureEpoch (now: number): Promise<string>
  /** The epoch (created when missing) and every denylist entry, as `<field>=<value>`. */
  denylist (): Promise<Denylist>
  /**
   * Delivers every revocation written from now on. Memory driver: in process,
   * synchronously inside the revoking call. Redis driver: over a `duplicate()` of
   * the lent client in subscriber mode, opened on first use and closed when the
   * last listener leaves; `denylist()` waits for that subscription to be
   * confirmed, so "subscribe, then load" misses nothing.
   * Returns the function that unsubscribes this listener.
   */
  subscribeRevocations (listener: RevocationListener): () => void
  /**
   * The logged revocations after `cursor`, oldest first, at most `limit`; `null` when the
   * log cannot answer for that cursor (another epoch, trimmed past it, malformed): the
   * reader must load the whole denylist again. A new driver implements this and
   * `subscribeRevocations` (with cursors) to serve the HTTP feed (src/revocations/).
   */
  revocationsAfter (cursor: string, limit: number): Promise<LoggedRevocation[] | null>
  /** Drops the entries whose `expiresAtMs <= now` (hash and zset in one step); returns how many. */
  pruneDenylist (now: number): Promise<number>

  // one-time markers and risk events
  /** Atomic check-and-mark: true the first time `key` is marked within `ttlMs` (DPoP proof jti replay cache). */
  markOnce (key: string, ttlMs: number): Promise<boolean>
  /** Records a risk event; the newest 100 per user are kept for 90 days. */
  addRiskEvent (event: RiskEvent): Promise<void>
  /** Newest first. */
  listRiskEvents (userId: string): Promise<RiskEvent[]>

  // OAuth2 (src/oauth/): authorization codes and consents
  /** Stores an authorization code's grant for `ttlMs`. */
  saveAuthCode (codeId: string, code: AuthCode, ttlMs: number): Promise<void>
  /**
   * Atomic take (GET + DEL in one step): the first call gets the grant, every other
   * call gets null. The same step leaves a "used" marker (state pending) for
   * `usedTtlMs`, so a replay can find the grant the code made.
   */
  takeAuthCode (codeId: string, usedTtlMs: number): Promise<AuthCode | null>
  /**
   * Atomic: records the session a taken code made. Returns false when a replay came
   * first (the marker says replayed): the caller revokes that session.
   */
  bindAuthCode (codeId: string, sessionId: string): Promise<boolean>
  /** Atomic: a code came back after its take. Reads the marker; a pending one becomes replayed. */
  replayAuthCode (codeId: string): Promise<CodeReplay>
  setConsent (userId: string, consent: Consent): Promise<void>
  getConsent (userId: string, clientId: string): Promise<Consent | null>
  listConsents (userId: string): Promise<Consent[]>
  /** True when there was one. */
  deleteConsent (userId: string, clientId: string): Promise<boolean>

  // ---- OAuth2 clients registered through the admin API (src/admin/clients.ts) ----
  // One JSON value per client (`ac:client:{<id>}`) plus a set index (`ac:clients`);
  // grants made for a stored client are indexed (`ac:client:{<id>}:sessions`) so that
  // deleting the client can revoke them.
  /** Saves a client; with `ifAbsent`, only when no client has that id (false: it exists). */
  putClient (client: StoredClient, opts?: { ifAbsent?: boolean }): Promise<boolean>
  getClient (clientId: string): Promise<StoredClient | null>
  /** Every stored client, by client id. */
  listClients (): Promise<StoredClient[]>
  /** True when there was one. Leaves the session index (see takeClientSessions). */
  deleteClient (clientId: string): Promise<boolean>
  /** Remembers that a session (a grant) belongs to a stored client. */
  addClientSession (clientId: string, sessionId: string): Promise<void>
  /** Atomic read-and-clear of the client's session index. */
  takeClientSessions (clientId: string): Promise<string[]>
  // ---- end of OAuth2 clients ----

  // lifecycle
  /** Resolves when the backend answers; throws StoreUnavailableError otherwise. */
  ping (): Promise<void>
  close (): Promise<void>
}
