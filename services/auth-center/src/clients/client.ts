import type { OAuthSettings } from '../oauth/client-config.js'

/** How tokens are issued to one client: picks the pattern of DESIGN.md §1. */
export interface TokenPolicy {
  /** false: single access token, no refresh token (legacy clients; not recommended). */
  refresh: boolean
  accessTtlMs: number
  refreshTtlMs: number
  /** One renewable token: each renewal moves expiry to min(now + idle, start + max). */
  sliding?: { idleMs: number, maxMs: number }
  binding: 'none' | 'dpop' | 'cookie'
  /** Devices per user; logging in beyond it revokes the oldest session. 0 = unlimited. */
  maxSessions: number
}

export interface Client {
  clientId: string
  name: string
  /** first-party apps log in through /auth/login; oauth clients (third-party) use /oauth/*. */
  type: 'first-party' | 'oauth'
  policy: TokenPolicy
  /** Third-party clients only: registration (src/oauth/client-config.ts). */
  oauth?: OAuthSettings
}

export const DEFAULT_CLIENT_ID = 'default'
