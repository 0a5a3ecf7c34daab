import { Type, type Static } from '@sinclair/typebox'
import { createPublicKey } from 'node:crypto'
import { hasSmallOrder } from '@authcenter/verifier'
import { ConfigError } from '../config.js'

/**
 * Third-party (OAuth2) clients: the fields a clients-file entry (or an admin API
 * registration) adds to a first-party one, and their checks. Loaded by
 * clients/registry.ts into `Client.oauth`.
 */

export type GrantType = 'authorization_code' | 'client_credentials' | 'refresh_token'
export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none'

export const GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'client_credentials', 'refresh_token']
export const AUTH_METHODS: readonly AuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']

export interface OAuthSettings {
  /** confidential: authenticates (secret or private_key_jwt); public: no secret, PKCE only. */
  kind: 'confidential' | 'public'
  /** How the client may authenticate at the token, introspection and revocation endpoints. */
  authMethods: readonly AuthMethod[]
  /** SHA-256 of the client secret (never the secret). */
  secretSha256?: Buffer
  /** private_key_jwt: the client's public keys. */
  jwks?: { keys: Array<Record<string, unknown>> }
  /** Compared as exact strings: no prefix, wildcard or normalisation. */
  redirectUris: readonly string[]
  grantTypes: readonly GrantType[]
  /** Scopes the client may ask for. */
  scopes: readonly string[]
  /** `aud` of its access tokens. */
  audience: string
  /** OIDC `id_token_signed_response_alg`: RS256 unless the client registered the access-token algorithm. */
  idTokenAlg: IdTokenAlg
}

export type IdTokenAlg = 'RS256' | 'EdDSA' | 'ES256'
const ID_TOKEN_ALGS: readonly IdTokenAlg[] = ['RS256', 'EdDSA', 'ES256']

const ScopeToken = '[\\x21\\x23-\\x5B\\x5D-\\x7E]+'

/** Fields an OAuth2 client entry carries beside client_id, name, policy. */
export const OAuthClientFields = {
  client_secret_sha256: Type.Optional(Type.String({
    pattern: '^([0-9a-fA-F]{64}|[A-Za-z0-9_-]{43})$',
    description: 'SHA-256 of the client secret, hex or base64url'
  })),
  token_endpoint_auth_method: Type.Optional(Type.Union(AUTH_METHODS.map((m) => Type.Literal(m)))),
  jwks: Type.Optional(Type.Object({ keys: Type.Array(Type.Object({ kty: Type.String() }), { minItems: 1, maxItems: 10 }) })),
  redirect_uris: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 20 })),
  grant_types: Type.Optional(Type.Array(Type.Union(GRANT_TYPES.map((g) => Type.Literal(g))), { minItems: 1 })),
  scope: Type.Optional(Type.String({ pattern: `^${ScopeToken}( ${ScopeToken})*$`, maxLength: 1000 })),
  audience: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  id_token_signed_response_alg: Type.Optional(Type.Union(ID_TOKEN_ALGS.map((a) => Type.Literal(a))))
}

export const OAuthClientEntry = Type.Object({
  client_id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
  name: Type.Optional(Type.String({ maxLength: 128 })),
  type: Type.Union([Type.Literal('confidential'), Type.Literal('public')]),
  ...OAuthClientFields
})

export type OAuthClientEntry = Static<typeof OAuthClientEntry>

/**
 * Checks an OAuth2 client entry and builds its settings; a bad entry is a
 * ConfigError naming the field (`where` is its path, e.g. `AUTH_CLIENTS_FILE: /clients[app]`).
 */
export function toOAuthSettings (c: OAuthClientEntry, defaultAudience: string, where: string, accessTokenAlg?: string): OAuthSettings {
  const fail = (field: string, why: string): never => { throw new ConfigError(`${where}/${field}: ${why}`) }
  const idTokenAlg = c.id_token_signed_response_alg ?? 'RS256'
  // The auth center has two keys: RS256 for ID tokens and the access-token one.
  if (accessTokenAlg !== undefined && idTokenAlg !== 'RS256' && idTokenAlg !== accessTokenAlg) {
    fail('id_token_signed_response_alg', `must be RS256 or the access-token algorithm (${accessTokenAlg})`)
  }
  const redirectUris = c.redirect_uris ?? []
  // Default grants: the code flow (with refresh) when there is somewhere to redirect to, else client credentials.
  const defaultGrants: GrantType[] = c.type === 'public' || redirectUris.length > 0 ? ['authorization_code', 'refresh_token'] : ['client_credentials']
  const grantTypes = [...new Set(c.grant_types ?? defaultGrants)]
  for (const uri of redirectUris) {
    const why = redirectUriProblem(uri)
    if (why !== undefined) fail('redirect_uris', `${JSON.stringify(uri)}: ${why}`)
  }
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) fail('redirect_uris', 'required for authorization_code')

  let authMethods: AuthMethod[]
  let secretSha256: Buffer | undefined
  let jwks: OAuthSettings['jwks']
  if (c.type === 'public') {
    if (c.client_secret_sha256 !== undefined || c.jwks !== undefined) fail('type', 'a public client has no secret and no keys')
    if (c.token_endpoint_auth_method !== undefined && c.token_endpoint_auth_method !== 'none') fail('token_endpoint_auth_method', 'a public client uses none')
    if (grantTypes.includes('client_credentials')) fail('grant_types', 'a public client cannot use client_credentials')
    authMethods = ['none']
  } else if (c.token_endpoint_auth_method === 'private_key_jwt' || (c.jwks !== undefined && c.client_secret_sha256 === undefined)) {
    if (c.jwks === undefined) fail('jwks', 'required for private_key_jwt')
    if (c.client_secret_sha256 !== undefined) fail('client_secret_sha256', 'a private_key_jwt client has no secret')
    jwks = c.jwks as OAuthSettings['jwks']
    for (const jwk of jwks!.keys) {
      // An Ed25519 key of small order verifies a forged signature for any message on Node 20
      // and 22 (jose checks client assertions through node:crypto): it would let anyone log in as the client.
      if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') continue
      let key
      try { key = createPublicKey({ key: jwk as never, format: 'jwk' }) } catch { fail('jwks', 'an Ed25519 key that does not parse') }
      if (hasSmallOrder(key!)) fail('jwks', 'an Ed25519 key of small order (it proves nothing)')
    }
    authMethods = ['private_key_jwt']
  } else {
    if (c.client_secret_sha256 === undefined) fail('client_secret_sha256', 'a confidential client needs a secret hash (or jwks for private_key_jwt)')
    if (c.token_endpoint_auth_method === 'none') fail('token_endpoint_auth_method', 'a confidential client must authenticate')
    const h = c.client_secret_sha256!
    secretSha256 = Buffer.from(h, h.length === 64 ? 'hex' : 'base64url')
    // Both secret methods are accepted: the same secret either way.
    authMethods = ['client_secret_basic', 'client_secret_post']
  }

  const scopes = [...new Set((c.scope ?? '').split(' ').filter((s) => s !== ''))]
  const out: OAuthSettings = {
    kind: c.type,
    authMethods,
    redirectUris: [...redirectUris],
    grantTypes,
    scopes,
    audience: c.audience ?? defaultAudience,
    idTokenAlg
  }
  if (secretSha256 !== undefined) out.secretSha256 = secretSha256
  if (jwks !== undefined) out.jwks = jwks
  return out
}

/**
 * Why a redirect URI may not be registered (undefined when it may): absolute, no
 * fragment, no user info; http only for loopback hosts (RFC 8252 §7.3), else https
 * or a private-use scheme (`com.example.app:/cb`).
 */
export function redirectUriProblem (uri: string): string | undefined {
  let u: URL
  try {
    u = new URL(uri)
  } catch {
    return 'not an absolute URI'
  }
  if (u.hash !== '' || uri.includes('#')) return 'must not have a fragment'
  if (u.username !== '' || u.password !== '') return 'must not carry user info'
  if (u.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(u.hostname)) return 'http is only for localhost'
  if (/^(javascript|data|file|vbscript):$/i.test(u.protocol)) return 'scheme not allowed'
  return undefined
}
