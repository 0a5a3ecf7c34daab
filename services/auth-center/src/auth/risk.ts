import type { Deps } from '../context.js'
import type { RiskEvent, Session } from '../store/store.js'
import type { RequestFacts } from './request-facts.js'

/**
 * Records a risk event (kept for GET /admin/users/:id/risk-events) and logs it at
 * warn level. Never logs the token or proof that caused it.
 */
export async function recordRisk (deps: Deps, facts: RequestFacts, session: Session, reason: string, refused: boolean): Promise<void> {
  const event: RiskEvent = { at: deps.now(), userId: session.userId, sessionId: session.id, clientId: session.clientId, ip: facts.ip, reason, refused }
  if (facts.userAgent !== undefined) event.userAgent = facts.userAgent.slice(0, 256)
  deps.log.warn({ risk: reason, refused, userId: session.userId, sid: session.id, ip: facts.ip }, 'risk event')
  await deps.store.addRiskEvent(event)
}

/** A refresh from another IP or user agent than the login's: worth knowing, not worth refusing. */
export async function noteChangedDevice (deps: Deps, facts: RequestFacts, session: Session): Promise<void> {
  if (session.ip !== undefined && facts.ip !== session.ip) await recordRisk(deps, facts, session, 'ip_changed', false)
  if (session.userAgent !== undefined && facts.userAgent !== undefined && facts.userAgent.slice(0, 256) !== session.userAgent) {
    await recordRisk(deps, facts, session, 'user_agent_changed', false)
  }
}
