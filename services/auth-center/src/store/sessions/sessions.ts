/**
 * Sessions with refresh-token rotation, the denylist, the epoch and the revocation feed log:
 * one concern because a revocation changes the session and writes its denylist entry in ONE
 * atomic step (see ../store.ts). Hot state: Redis when REDIS_URL is set, else PostgreSQL, else memory.
 * Drivers: memory.ts (createMemorySessions), redis.ts (createRedisSessions); contract: test/store/sessions.contract.ts.
 */

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

/** Denylist values (`<revokedAtMs>:<expiresAtMs>[:<exceptSid>]`) and the epoch, each absent when there is none. */
export interface DenyEntries {
  epoch?: string
  session?: string
  user?: string
}

/** A revocation as the feed log holds it. */
export interface LoggedRevocation {
  /** `<field>=<value>`, as in Denylist.entries. */
  message: string
  /** Its place in the store's log, global to the store (any replica can resume from it). */
  cursor: string
}

/** Receives each revocation as published: `<field>=<value>`, the same text as the hash, and its feed cursor. */
export type RevocationListener = (message: string, cursor: string) => void

export interface SessionStore {
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
  /**
   * Revokes a grant that has no stored session (a client-credentials token, whose `sid`
   * names that token alone): writes and publishes the denylist entry `s:<id>` as
   * revokeSession does, in one atomic step, unless the entry is there already (the first
   * revocation stands). Returns whether it wrote one.
   */
  revokeUnstoredSession (id: string, now: number): Promise<boolean>
  /**
   * The denylist entries that could refuse a token of session `sessionId` and subject
   * `userId` (`s:<sessionId>`, `u:<userId>`) and the epoch, read in one step, for the
   * tokens whose grant is not stored (see tokenDenied in ../denylist.ts). Never creates
   * the epoch: a read must not move it past tokens already issued.
   */
  denyEntriesOf (sessionId: string, userId: string): Promise<DenyEntries>

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

}
