import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Deps } from '../context.js'
import type { Session, User } from '../store/store.js'
import { newRefreshNonce } from '../tokens/refresh-token.js'
import { hostCookie, readCookie } from './cookies.js'

/**
 * The browser's sign-in at the auth center (for /oauth/authorize): a `__Host-`
 * cookie holding a random secret. Before login the secret only anchors the CSRF
 * tokens of the login form; at login a NEW secret is set (no session fixation) and
 * a Session of the client `authcenter-web` is stored under an id derived from it
 * (HMAC), so the id (shown in session lists) never reveals the cookie. Being a
 * Session, it is listed with the user's devices and dies with every revocation
 * (logout everywhere, password change, admin).
 */
export const COOKIE = '__Host-ac_session'
export const WEB_CLIENT_ID = 'authcenter-web'
/** How long a browser stays signed in at the auth center. */
export const BROWSER_SESSION_MS = 12 * 3_600_000
const SECRET = /^[A-Za-z0-9_-]{43}$/

export interface Browser {
  /** The cookie secret (new when the request had none: the caller sets the cookie). */
  secret: string
  fresh: boolean
  /** The signed-in user's session, when there is one that is live. */
  session?: Session
}

function mac (deps: Deps, label: string, value: string): Buffer {
  return createHmac('sha256', deps.keys.refreshMacKey).update(`${label}|${value}`).digest()
}

function sessionIdOf (deps: Deps, secret: string): string {
  return mac(deps, 'bs1', secret).subarray(0, 16).toString('base64url')
}

export async function readBrowser (deps: Deps, request: FastifyRequest): Promise<Browser> {
  const value = readCookie(request.headers.cookie, COOKIE)
  if (value === undefined || !SECRET.test(value)) return { secret: randomBytes(32).toString('base64url'), fresh: true }
  const s = await deps.store.getSession(sessionIdOf(deps, value))
  const live = s !== null && s.clientId === WEB_CLIENT_ID && s.revokedAt === undefined && deps.now() < s.expiresAt
  return live ? { secret: value, fresh: false, session: s } : { secret: value, fresh: false }
}

export function setBrowserCookie (reply: FastifyReply, secret: string, maxAgeS?: number): void {
  reply.header('set-cookie', hostCookie(COOKIE, secret, maxAgeS !== undefined ? { maxAgeS } : {}))
}

/** Signs the browser in: a new secret and its Session. Returns the new secret (set it as the cookie). */
export async function signIn (deps: Deps, request: FastifyRequest, user: User): Promise<string> {
  const secret = randomBytes(32).toString('base64url')
  const now = deps.now()
  await deps.store.createSession({
    id: sessionIdOf(deps, secret),
    userId: user.id,
    clientId: WEB_CLIENT_ID,
    kind: 'first-party',
    deviceName: 'Browser sign-in at the auth center',
    ip: request.clientIp,
    ...(request.headers['user-agent'] !== undefined ? { userAgent: request.headers['user-agent'].slice(0, 256) } : {}),
    createdAt: now,
    lastUsedAt: now,
    expiresAt: now + BROWSER_SESSION_MS,
    refreshGen: 0,
    rotatedAt: 0,
    // Never used for a refresh token (none is issued); required by the Session shape.
    refreshNonce: newRefreshNonce()
  })
  return secret
}

/**
 * A CSRF token for one form of one authorization request, bound to the browser's
 * cookie secret (HMAC under the server key). The request (its canonical query) is in
 * the MAC, so a token shown on client A's consent page cannot approve a request for
 * client B, another scope or another redirect swapped into the form.
 */
export function csrfToken (deps: Deps, secret: string, form: string, request: string): string {
  return mac(deps, `csrf2|${form}|${createHash('sha256').update(request).digest('base64url')}`, secret).toString('base64url')
}

export function csrfMatches (deps: Deps, secret: string, form: string, request: string, presented: string | undefined): boolean {
  if (presented === undefined) return false
  const a = Buffer.from(csrfToken(deps, secret, form, request))
  const b = Buffer.from(presented)
  return a.length === b.length && timingSafeEqual(a, b)
}
