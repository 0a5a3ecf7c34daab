import { createHash } from 'node:crypto'
import type { Client, TokenPolicy } from '../clients/client.js'
import { toOAuthSettings } from '../oauth/client-config.js'
import { REVOCATIONS_SCOPE } from '../oauth/scopes.js'

/**
 * The built-in development reader of the revocation feed, so that `pnpm start` with no
 * configuration lets the user service follow logouts (its REVOCATION_CLIENT_ID and
 * REVOCATION_CLIENT_SECRET default to these outside production). The secret is public
 * (it is in this file and the README): the client exists only when NODE_ENV is not
 * `production`, and can do nothing but read the feed. In production, register a reader
 * in the clients file or through the admin API.
 */
export const DEV_REVOCATION_CLIENT_ID = 'dev-revocations'
export const DEV_REVOCATION_CLIENT_SECRET = 'dev-revocations-secret-not-for-production'

export function devRevocationClient (audience: string, policy: TokenPolicy): Client {
  return {
    clientId: DEV_REVOCATION_CLIENT_ID,
    name: 'Development revocation feed reader (built in, not in production)',
    type: 'oauth',
    policy,
    oauth: toOAuthSettings({
      client_id: DEV_REVOCATION_CLIENT_ID,
      type: 'confidential',
      client_secret_sha256: createHash('sha256').update(DEV_REVOCATION_CLIENT_SECRET).digest('hex'),
      grant_types: ['client_credentials'],
      scope: REVOCATIONS_SCOPE
    }, audience, 'built-in client dev-revocations')
  }
}
