import type { Client } from '../clients/client.js'
import type { Deps } from '../context.js'
import { OAuthError, type OAuthErrorCode } from './errors.js'
import type { Params } from './form.js'
import { CHALLENGE } from './pkce.js'
import { grantScope } from './scopes.js'

/** The longest `state` accepted (and echoed back), in characters. */
export const MAX_STATE_LENGTH = 1024
const VSCHARS = /^[\x20-\x7E]*$/
const PROMPTS = new Set(['none', 'login', 'consent'])

export interface AuthorizeRequest {
  client: Client & { oauth: NonNullable<Client['oauth']> }
  redirectUri: string
  state?: string
  scope: string[]
  codeChallenge: string
  nonce?: string
  prompt: string[]
  /** OIDC `max_age`: the longest time since the user last signed in that this request accepts. */
  maxAgeS?: number
  /**
   * The request rebuilt from its parsed parameters (a canonical query string: every
   * value percent-encoded), carried through the login and consent forms and put in
   * redirects; never the raw input, so nothing a user typed reaches a header as is.
   */
  query: string
}

export type Checked =
  | { ok: AuthorizeRequest }
  /** Shown as a page, never redirected: the client or its redirect URI cannot be trusted. */
  | { page: { title: string, message: string } }
  /** Sent back to the (registered) redirect URI. */
  | { redirect: string }

/**
 * Checks an authorization request (RFC 6749 §4.1.1, RFC 7636, OAuth 2.1):
 * first the client and the redirect URI, compared as exact strings with the
 * registered ones (no prefix, wildcard or normalisation: a trailing slash, another
 * case, an extra query, `..`, `@` or an encoded slash is another URI); a failure
 * there is a page and never a redirect. Then the rest, whose failures go back to the
 * client: response_type=code only, PKCE with S256 only, scopes within the client's.
 */
export async function checkAuthorizeRequest (deps: Deps, params: Params): Promise<Checked> {
  // File clients first, then those registered through the admin API (clients/registry.ts).
  const client = params.client_id === undefined ? undefined : await deps.clients.lookup(params.client_id)
  if (client?.type !== 'oauth' || client.oauth === undefined) {
    return { page: { title: 'Unknown application', message: 'This sign-in link names no registered application.' } }
  }
  const redirectUri = params.redirect_uri
  if (redirectUri === undefined || !client.oauth.redirectUris.includes(redirectUri)) {
    return { page: { title: 'Invalid redirect', message: 'This sign-in link does not return to an address registered for this application.' } }
  }
  // A state over the limit is refused and never echoed: the client did not send it to get it back at any length.
  const echoState = params.state !== undefined && params.state.length <= MAX_STATE_LENGTH && VSCHARS.test(params.state) ? params.state : undefined
  const back = (error: OAuthErrorCode, description: string): Checked =>
    ({ redirect: redirectWith(redirectUri, { error, error_description: description, state: echoState, iss: deps.config.issuer }) })

  if (params.request !== undefined || params.request_uri !== undefined) return back('invalid_request', 'request objects are not supported')
  if (params.response_type !== 'code') return back('unsupported_response_type', 'only response_type=code is supported')
  if (!client.oauth.grantTypes.includes('authorization_code')) return back('unauthorized_client', 'the client may not use the authorization code flow')
  if (params.code_challenge === undefined) return back('invalid_request', 'code_challenge is required (PKCE)')
  if (params.code_challenge_method !== 'S256') return back('invalid_request', 'code_challenge_method must be S256')
  if (!CHALLENGE.test(params.code_challenge)) return back('invalid_request', 'code_challenge is malformed')
  if (params.nonce !== undefined && params.nonce.length > 512) return back('invalid_request', 'nonce is too long')
  if (params.state !== undefined && params.state.length > MAX_STATE_LENGTH) return back('invalid_request', `state is longer than ${MAX_STATE_LENGTH} characters`)
  // RFC 6749 Appendix A.5: state is printable ASCII (no control characters, no U+2028).
  if (params.state !== undefined && !VSCHARS.test(params.state)) return back('invalid_request', 'state must be printable ASCII')
  if (params.nonce !== undefined && !VSCHARS.test(params.nonce)) return back('invalid_request', 'nonce must be printable ASCII')
  const prompt = (params.prompt ?? '').split(' ').filter((p) => p !== '')
  // OIDC Core §3.1.2.1: none stands alone; a value we do not implement is an error, not ignored.
  if (prompt.some((p) => !PROMPTS.has(p))) return back('invalid_request', `prompt values supported: ${[...PROMPTS].join(', ')}`)
  if (prompt.includes('none') && prompt.length > 1) return back('invalid_request', 'prompt=none cannot be combined with other values')
  if (params.max_age !== undefined && !/^\d{1,10}$/.test(params.max_age)) return back('invalid_request', 'max_age must be a number of seconds')
  let scope: string[]
  try {
    // The admin scope only ever comes from the client credentials grant.
    scope = grantScope(params.scope, client.oauth.scopes.filter((s) => s !== 'admin'))
  } catch (err) {
    return back('invalid_scope', (err as OAuthError).message)
  }
  const req: AuthorizeRequest = {
    client: client as AuthorizeRequest['client'],
    redirectUri,
    scope,
    codeChallenge: params.code_challenge,
    prompt,
    query: canonicalQuery(params)
  }
  if (params.max_age !== undefined) req.maxAgeS = Number(params.max_age)
  if (params.state !== undefined) req.state = params.state
  if (params.nonce !== undefined) req.nonce = params.nonce
  return { ok: req }
}

/** The parameters as one query string, every value percent-encoded (the same string for the same parameters). */
export function canonicalQuery (params: Params): string {
  return new URLSearchParams(Object.entries(params)).toString()
}

/**
 * The request to continue with after the user signed in at its login page: the same
 * one without `prompt=login` and `max_age`, which that sign-in has just satisfied (the
 * id_token's `auth_time` says when it happened; OIDC Core §3.1.2.1 has the client
 * check it). Without this, the continued request would ask for a sign-in again.
 */
export function afterSignIn (req: AuthorizeRequest): string {
  const params = new URLSearchParams(req.query)
  params.delete('max_age')
  const prompt = req.prompt.filter((p) => p !== 'login')
  if (prompt.length > 0) params.set('prompt', prompt.join(' '))
  else params.delete('prompt')
  return params.toString()
}

/** The registered redirect URI with response parameters added (RFC 9207 `iss` included). */
export function redirectWith (redirectUri: string, params: Record<string, string | undefined>): string {
  const u = new URL(redirectUri)
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.append(k, v)
  return u.href
}

/** What the CSP form-action must allow so the redirect after a form post is not blocked. */
export function redirectSource (redirectUri: string): string {
  const u = new URL(redirectUri)
  return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : u.protocol
}
