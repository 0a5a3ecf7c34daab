import { AuthError, clientErrorCodes } from './errors.js'

/** What the storage keeps. Times are this machine's clock, so the server's clock does not matter. */
export interface Session {
  kind: 'refresh' | 'sliding' | 'single'
  accessToken: string
  tokenType: 'Bearer' | 'DPoP'
  expiresAt: number
  lifetimeMs: number
  refreshToken?: string
  sessionId: string
  user?: { id: string, mobile: string }
}

interface TokenReply {
  access_token: string
  token_type: 'Bearer' | 'DPoP'
  expires_in: number
  session_id: string
  refresh_token?: string
  session_expires_in?: number
  user?: { id: string, mobile: string }
}

/** A login, refresh or slide answer as the session to keep; `sentAt` is when the request left. */
export function toSession (reply: unknown, sentAt: number, previous?: Session): Session {
  const r = reply as TokenReply | undefined
  if (typeof r?.access_token !== 'string' || typeof r.expires_in !== 'number' || typeof r.session_id !== 'string') {
    throw new AuthError('UNEXPECTED_RESPONSE', clientErrorCodes.UNEXPECTED_RESPONSE)
  }
  const kind = typeof r.refresh_token === 'string' ? 'refresh' : r.session_expires_in !== undefined ? 'sliding' : previous?.kind ?? 'single'
  const user = r.user ?? previous?.user
  return {
    kind,
    accessToken: r.access_token,
    tokenType: r.token_type === 'DPoP' ? 'DPoP' : 'Bearer',
    // From when the request left, so a slow answer only makes us renew earlier.
    expiresAt: sentAt + r.expires_in * 1000,
    lifetimeMs: r.expires_in * 1000,
    sessionId: r.session_id,
    ...(r.refresh_token !== undefined ? { refreshToken: r.refresh_token } : {}),
    ...(user !== undefined ? { user: { id: user.id, mobile: user.mobile } } : {})
  }
}
