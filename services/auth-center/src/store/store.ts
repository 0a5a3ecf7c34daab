/**
 * The store: every piece of mutable auth-center state, split by concern. Each concern
 * is one small interface in its own folder (users/, sessions/, codes/, oauth/, clients/,
 * events/) with one driver per backend (memory.ts, redis.ts, postgres.ts) and one
 * contract suite run against every driver (test/store/<concern>.contract.ts).
 * `Store` is the union the routes use, composed per configuration (compose.ts): with
 * DATABASE_URL and REDIS_URL the durable concerns live in PostgreSQL and the hot ones
 * in Redis. Signing keys are a concern of their own too (src/keys/key-store.ts).
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

export type { User, UserStore } from './users/users.js'
export type {
  Session, SessionKind, SessionStore, RotateStatus, RotateResult, RotateInput, Denylist, DenyEntries, LoggedRevocation, RevocationListener
} from './sessions/sessions.js'
export type { SmsCheckResult, SmsIssueResult, RateResult, CodeStore } from './codes/codes.js'
export type { AuthCode, Consent, CodeReplay, OAuthStore } from './oauth/oauth.js'
export type { StoredClient, ClientStore } from './clients/clients.js'
export type { RiskEvent, EventStore, SecurityEvent, SecurityEventType, NewSecurityEvent, EventQuery, EventPage } from './events/events.js'

import type { UserStore } from './users/users.js'
import type { SessionStore } from './sessions/sessions.js'
import type { CodeStore } from './codes/codes.js'
import type { OAuthStore } from './oauth/oauth.js'
import type { ClientStore } from './clients/clients.js'
import type { EventStore } from './events/events.js'

/** Which backends hold the state: `postgres+redis` is durable concerns in PostgreSQL, hot ones in Redis. */
export type StoreDriver = 'memory' | 'redis' | 'postgres' | 'postgres+redis'

export interface StoreLifecycle {
  readonly driver: StoreDriver
  /** Resolves when every backend answers; throws StoreUnavailableError otherwise. */
  ping (): Promise<void>
  close (): Promise<void>
}

export type Store = UserStore & SessionStore & CodeStore & OAuthStore & ClientStore & EventStore & StoreLifecycle
