/**
 * OAuth2 authorization codes (short-lived) and consents (durable) (see ../store.ts).
 * Drivers: memory.ts (createMemoryOAuth), redis.ts (createRedisOAuth); contract: test/store/oauth.contract.ts.
 */

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

export interface OAuthStore {
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

}
