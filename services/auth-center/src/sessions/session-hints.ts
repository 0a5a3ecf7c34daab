import type { Session, Store } from '../store/store.js'

/**
 * What this process remembers of the sessions it made or refreshed: only fields that
 * never change for a session's life (its nonce, client, binding, login IP and user
 * agent), so that the common refresh can check the token's MAC and its binding
 * without reading the session first, and needs ONE store round trip (the rotation
 * step, which re-checks the nonce: `expectedNonce`). Nothing here decides anything on
 * its own: revocation, expiry, generation and grace are always read in the atomic
 * step; a session this process does not know (made by another instance, or before a
 * restart, or evicted) takes the full path (getSession first).
 *
 * Bounded: the least recently used hints are dropped beyond MAX_HINTS. One map per
 * store, so two apps in one process (tests) never see each other's sessions.
 */
export interface SessionHint {
  userId: string
  clientId: string
  /** As stored (absent in sessions saved before kinds were): see sessions/kind.ts. */
  kind?: Session['kind']
  refreshNonce: string
  ip?: string
  userAgent?: string
  jkt?: string
  fgpHash?: string
}

const MAX_HINTS = 20_000

const byStore = new WeakMap<Store, Map<string, SessionHint>>()

function hintsOf (store: Store): Map<string, SessionHint> {
  let hints = byStore.get(store)
  if (hints === undefined) {
    hints = new Map()
    byStore.set(store, hints)
  }
  return hints
}

/** The hint for a session, marked as recently used; undefined when not remembered. */
export function sessionHint (store: Store, sessionId: string): SessionHint | undefined {
  const hints = hintsOf(store)
  const hint = hints.get(sessionId)
  if (hint !== undefined) {
    hints.delete(sessionId)
    hints.set(sessionId, hint)
  }
  return hint
}

/** Remembers a session's unchanging fields (after it was saved, or read and its MAC checked). */
export function rememberSession (store: Store, session: Session): void {
  const hints = hintsOf(store)
  const hint: SessionHint = { userId: session.userId, clientId: session.clientId, refreshNonce: session.refreshNonce }
  if (session.kind !== undefined) hint.kind = session.kind
  if (session.ip !== undefined) hint.ip = session.ip
  if (session.userAgent !== undefined) hint.userAgent = session.userAgent
  if (session.jkt !== undefined) hint.jkt = session.jkt
  if (session.fgpHash !== undefined) hint.fgpHash = session.fgpHash
  hints.delete(session.id)
  hints.set(session.id, hint)
  if (hints.size > MAX_HINTS) hints.delete(hints.keys().next().value!)
}

/** Forgets a session (revoked, expired, gone, or not what was remembered). */
export function forgetSession (store: Store, sessionId: string): void {
  byStore.get(store)?.delete(sessionId)
}
