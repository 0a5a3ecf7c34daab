import { Type, type Static } from '@sinclair/typebox'
import type { Client } from '../../clients/client.js'
import type { TokenResponse } from '../../tokens/issue.js'

/** RFC 6749 §5.1 (+ OIDC id_token). */
export const OAuthTokenReply = Type.Object({
  access_token: Type.String(),
  token_type: Type.String(),
  expires_in: Type.Integer(),
  refresh_token: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  id_token: Type.Optional(Type.String())
})
export type OAuthTokenReply = Static<typeof OAuthTokenReply>

/** A first-party token response in RFC 6749 shape; a refresh token only for clients allowed the refresh_token grant. */
export function oauthTokenReply (client: Client, tokens: TokenResponse, scope: string | undefined): OAuthTokenReply {
  const out: OAuthTokenReply = {
    access_token: tokens.access_token,
    token_type: tokens.token_type,
    expires_in: tokens.expires_in
  }
  if (tokens.refresh_token !== undefined && client.oauth?.grantTypes.includes('refresh_token') === true) out.refresh_token = tokens.refresh_token
  if (scope !== undefined && scope !== '') out.scope = scope
  return out
}
