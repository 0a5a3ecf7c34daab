/** Security events: today's risk events, growing into the audit log (see ../store.ts). Durable. */

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
  /** Records a risk event; the newest 100 per user are kept for 90 days. */
  addRiskEvent (event: RiskEvent): Promise<void>
  /** Newest first. */
  listRiskEvents (userId: string): Promise<RiskEvent[]>

}
