import type { Client } from '../clients/client.js'
import type { Deps } from '../context.js'
import { OAuthError, type OAuthErrorCode } from './errors.js'
import type { Params } from './form.js'
import { CHALLENGE } from './pkce.js'
import { grantScope } from './scopes.js'

/** The longest `state` accepted (and echoed back), in characters. */
export const MAX_STATE_LENGTH = 1024

export interface AuthorizeRequest {
  client: Client & { oauth: NonNullable<Client['oauth']> }
  redirectUri: string
  state?: string
  scope: string[]
  codeChallenge: string
  nonce?: string
  prompt: string[]
  /** The request as received (query string), carried through the login and consent forms. */
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
export async function checkAuthorizeRequest (deps: Deps, params: Params, query: string): Promise<Checked> {
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
  const echoState = params.state !== undefined && params.state.length <= MAX_STATE_LENGTH ? params.state : undefined
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
    prompt: (params.prompt ?? '').split(' ').filter((p) => p !== ''),
    query
  }
  if (params.state !== undefined) req.state = params.state
  if (params.nonce !== undefined) req.nonce = params.nonce
  return { ok: req }
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
