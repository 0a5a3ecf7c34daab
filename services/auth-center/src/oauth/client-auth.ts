import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose'
import type { Client } from '../clients/client.js'
import type { Deps } from '../context.js'
import type { AuthMethod } from './client-config.js'
import { OAuthError } from './errors.js'
import type { Params } from './form.js'

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
/** Client assertions (private_key_jwt) live at most this long; their `jti` is remembered that long. */
const MAX_ASSERTION_LIFE_S = 300

export interface AuthenticatedClient {
  client: Client & { oauth: NonNullable<Client['oauth']> }
  method: AuthMethod
}

/**
 * SHA-256 of a client secret. Client secrets are random 256-bit values the auth center
 * makes (not passwords a person chose), so one fast hash is enough to keep a dump of
 * the clients file or the store from being usable: there is nothing to brute-force.
 */
export function hashClientSecret (secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest()
}

/**
 * Authenticates the client of a token, introspection or revocation request
 * (RFC 6749 §2.3, RFC 7523 §2.2): HTTP Basic (client_secret_basic), client_id +
 * client_secret in the body (client_secret_post), a signed JWT (private_key_jwt,
 * with a `jti` replay check) or, for public clients, client_id alone (none).
 * Exactly one method per request, and only one the client is registered for.
 * Every failure is the same 401 invalid_client (with `WWW-Authenticate: Basic`
 * when Basic was tried), whether the client is unknown or the secret wrong.
 */
export async function authenticateClient (deps: Deps, request: FastifyRequest, params: Params, endpoint: string): Promise<AuthenticatedClient> {
  const header = request.headers.authorization
  const basic = header !== undefined && /^basic /i.test(header) ? parseBasic(header) : undefined
  const fail = (why: string): never => {
    throw new OAuthError('invalid_client', why, 401, basic !== undefined ? 'Basic realm="oauth"' : undefined)
  }
  if (header !== undefined && basic === undefined && /^basic /i.test(header)) fail('malformed Basic credentials')

  const used = [basic !== undefined, params.client_secret !== undefined, params.client_assertion !== undefined].filter(Boolean).length
  if (used > 1) throw new OAuthError('invalid_request', 'use exactly one client authentication method')

  let method: AuthMethod
  let clientId: string | undefined
  if (basic !== undefined) {
    method = 'client_secret_basic'
    clientId = basic.id
    if (params.client_id !== undefined && params.client_id !== basic.id) fail('client_id does not match the credentials')
  } else if (params.client_assertion !== undefined) {
    method = 'private_key_jwt'
    if (params.client_assertion_type !== JWT_BEARER) throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER}`)
    try {
      clientId = decodeJwt(params.client_assertion).sub
    } catch {
      fail('malformed client assertion')
    }
    if (params.client_id !== undefined && params.client_id !== clientId) fail('client_id does not match the assertion')
  } else if (params.client_secret !== undefined) {
    method = 'client_secret_post'
    clientId = params.client_id
  } else {
    method = 'none'
    clientId = params.client_id
  }
  if (clientId === undefined) fail('client authentication is required')

  // File clients first, then those registered through the admin API (clients/registry.ts).
  const client = await deps.clients.lookup(clientId!)
  if (client?.type !== 'oauth' || client.oauth === undefined) return fail('client authentication failed')
  const oauth = client.oauth
  if (!oauth.authMethods.includes(method)) fail('client authentication failed')

  switch (method) {
    case 'client_secret_basic':
    case 'client_secret_post': {
      const presented = hashClientSecret(method === 'client_secret_basic' ? basic!.secret : params.client_secret!)
      const expected = oauth.secretSha256
      if (expected === undefined || !timingSafeEqual(presented, expected)) fail('client authentication failed')
      break
    }
    case 'private_key_jwt':
      await checkAssertion(deps, client.clientId, oauth.jwks!, params.client_assertion!, endpoint, fail)
      break
    case 'none':
      break
  }
  return { client: client as AuthenticatedClient['client'], method }
}

/** RFC 6749 §2.3.1: both parts are form-urlencoded before being joined with ':'. */
function parseBasic (header: string): { id: string, secret: string } | undefined {
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  if (i <= 0) return undefined
  try {
    const unform = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '))
    return { id: unform(decoded.slice(0, i)), secret: unform(decoded.slice(i + 1)) }
  } catch {
    return undefined
  }
}

async function checkAssertion (deps: Deps, clientId: string, jwks: { keys: Array<Record<string, unknown>> }, assertion: string, endpoint: string, fail: (why: string) => never): Promise<void> {
  const { issuer } = deps.config
  let payload
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(jwks as unknown as JSONWebKeySet), {
      issuer: clientId,
      subject: clientId,
      // RFC 7523 names the token endpoint; the issuer is what many clients send (RFC 7523bis).
      audience: [issuer, `${issuer}/oauth/token`, endpoint],
      algorithms: ['EdDSA', 'Ed25519', 'ES256', 'RS256', 'PS256'],
      requiredClaims: ['exp', 'jti'],
      currentDate: new Date(deps.now()),
      clockTolerance: 5
    }))
  } catch {
    return fail('client assertion is not valid')
  }
  const now = Math.floor(deps.now() / 1000)
  const exp = payload.exp!
  if (exp - now > MAX_ASSERTION_LIFE_S) fail(`client assertion lives longer than ${MAX_ASSERTION_LIFE_S} s`)
  if (typeof payload.jti !== 'string' || payload.jti.length > 256) fail('client assertion jti is missing')
  // Replay: each jti once per client, remembered until the assertion has expired.
  const fresh = await deps.store.markOnce(`pkjwt:${clientId}:${payload.jti!}`, (exp - now + 10) * 1000)
  if (!fresh) fail('client assertion was already used')
}
