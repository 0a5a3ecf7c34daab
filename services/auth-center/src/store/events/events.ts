/**
 * Security events: the audit log (logins, failures, reuse detections, revocations, admin
 * actions, client registrations) and, as a view of it, the risk events of
 * GET /admin/users/:id/risk-events. Durable: with DATABASE_URL they live in PostgreSQL.
 * Kept for AUDIT_RETENTION_DAYS (the app calls `pruneEvents` periodically).
 *
 * Never put a token, code, password or key in an event: `detail` is for ids and names.
 */

/** What happened. New types may be added; readers must accept unknown ones. */
export const SECURITY_EVENT_TYPES = [
  'login', 'login_failed', 'refresh_token_reused', 'session_revoked', 'user_sessions_revoked',
  'risk', 'admin_action', 'client_registered', 'client_deleted'
] as const
export type SecurityEventType = typeof SECURITY_EVENT_TYPES[number]

export interface SecurityEvent {
  /** A UUID assigned by the store; with `at` it orders the log (newest first: at desc, id desc). */
  id: string
  /** Epoch milliseconds. */
  at: number
  type: SecurityEventType
  userId?: string
  sessionId?: string
  clientId?: string
  ip?: string
  userAgent?: string
  /** Why: `sms`/`password`/`authorization_code` for a login, the error code of a failure, the risk reason, the revocation reason. */
  reason?: string
  /** Whether the request was refused. */
  refused?: boolean
  /** Who did it, for admin actions: `admin-token` or `client:<client_id>`. */
  actor?: string
  /** Small structured context (route, counts, ids); never a secret. */
  detail?: Record<string, unknown>
}

export type NewSecurityEvent = Omit<SecurityEvent, 'id'>

export interface EventQuery {
  userId?: string
  /** Any of these (none or empty: every type). */
  types?: readonly string[]
  /** Inclusive lower bound, epoch ms. */
  since?: number
  /** Exclusive upper bound, epoch ms. */
  until?: number
  /** Page size, 1-500. */
  limit: number
  /** `nextCursor` of the previous page. */
  cursor?: string
}

export interface EventPage {
  /** Newest first. */
  events: SecurityEvent[]
  /** Present when more events may follow: pass it as `cursor`. */
  nextCursor?: string
}

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

export interface EventStore {
  /** Appends one event; resolves with it as stored (with its id). */
  recordEvent (event: NewSecurityEvent): Promise<SecurityEvent>
  /**
   * Newest first (at desc, id desc), filtered; the cursor is a position (at + id), so
   * events recorded meanwhile never shift a page. An unparseable cursor throws
   * `InvalidCursorError` (events/cursor.ts).
   */
  queryEvents (query: EventQuery): Promise<EventPage>
  /** Drops every event older than `before` (epoch ms); resolves with how many (as far as the driver knows). */
  pruneEvents (before: number): Promise<number>
  /** A risk event: recorded as type `risk`. */
  addRiskEvent (event: RiskEvent): Promise<void>
  /** The user's newest 100 risk events, newest first. */
  listRiskEvents (userId: string): Promise<RiskEvent[]>
}
