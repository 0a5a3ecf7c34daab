import { Type, type Static } from '@sinclair/typebox'
import type { Session } from '../store/store.js'

/**
 * How a session is shown to its user (GET /auth/sessions) and to admins
 * (GET /admin/users/:id/sessions). Times are ISO 8601 strings (UTC, ms precision);
 * device_name, ip and user_agent are null when unknown. Never shows refresh-token
 * state (generation, nonce).
 */
const Nullable = Type.Union([Type.String(), Type.Null()])

export const SessionView = Type.Object({
  id: Type.String(),
  client_id: Type.String(),
  device_name: Nullable,
  ip: Nullable,
  user_agent: Nullable,
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.String({ format: 'date-time' }),
  /** When the refresh token lapses (moves forward on each refresh). */
  expires_at: Type.String({ format: 'date-time' })
})

export const OwnSessionView = Type.Composite([SessionView, Type.Object({
  /** The session of the access token that asked. */
  current: Type.Boolean()
})])

export const AdminSessionView = Type.Composite([SessionView, Type.Object({ user_id: Type.String() })])

/** Session ids as the auth center makes them (base64url), with room to spare. */
export const SessionId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })

export function viewSession (s: Session): Static<typeof SessionView> {
  return {
    id: s.id,
    client_id: s.clientId,
    device_name: s.deviceName ?? null,
    ip: s.ip ?? null,
    user_agent: s.userAgent ?? null,
    created_at: new Date(s.createdAt).toISOString(),
    last_used_at: new Date(s.lastUsedAt).toISOString(),
    expires_at: new Date(s.expiresAt).toISOString()
  }
}
