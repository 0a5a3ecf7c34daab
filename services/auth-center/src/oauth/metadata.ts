import type { Deps } from '../context.js'
import { AUTH_METHODS, GRANT_TYPES } from './client-config.js'
import { DPOP_ALGS } from './dpop.js'

/**
 * The OAuth2 part of the issuer metadata (RFC 8414, OpenID Discovery): only what is
 * actually served. Scopes are those registered clients may ask for (plus openid).
 * DPoP (RFC 9449): any client may bind its tokens with a proof at the token endpoint;
 * clients whose policy says `binding: dpop` must.
 */
export function oauthMetadata (deps: Deps): Record<string, unknown> {
  const { issuer } = deps.config
  const clients = deps.clients.all().flatMap((c) => c.oauth === undefined ? [] : [c.oauth])
  const scopes = new Set<string>(['openid'])
  for (const c of clients) for (const s of c.scopes) scopes.add(s)
  const signing = ['EdDSA', 'Ed25519', 'ES256', 'RS256', 'PS256']
  return {
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    userinfo_endpoint: `${issuer}/oauth/userinfo`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [...GRANT_TYPES],
    token_endpoint_auth_methods_supported: [...AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: signing,
    // RFC 7662 §2.1: introspection is for authenticated clients only, so no "none".
    introspection_endpoint_auth_methods_supported: AUTH_METHODS.filter((m) => m !== 'none'),
    introspection_endpoint_auth_signing_alg_values_supported: signing,
    revocation_endpoint_auth_methods_supported: [...AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: signing,
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [...scopes].sort(),
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'sid', 'azp', 'at_hash', 'phone_number', 'phone_number_verified'],
    authorization_response_iss_parameter_supported: true,
    // RS256 first (OpenID Discovery §3: MUST be included), then the access-token algorithm a client may register instead.
    id_token_signing_alg_values_supported: deps.keys.idTokenAlgs,
    subject_types_supported: ['public'],
    dpop_signing_alg_values_supported: [...DPOP_ALGS]
  }
}
