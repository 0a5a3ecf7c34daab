import { OAuthError } from './errors.js'

/** Scopes with a meaning at the auth center itself; clients may be allowed any others (resource servers define them). */
export const OPENID = 'openid'
export const ADMIN_SCOPE = 'admin'
/** Reads the revocation feed (src/revocations/), by client credentials. */
export const REVOCATIONS_SCOPE = 'revocations:read'

export function splitScope (scope: string | undefined): string[] {
  return scope === undefined ? [] : [...new Set(scope.split(' ').filter((s) => s !== ''))]
}

/**
 * The scope a request gets: what it asked for (or, when it asked for nothing, every
 * scope the client may have, `defaults`), refused whole with invalid_scope when it
 * asks for more than the client may have.
 */
export function grantScope (requested: string | undefined, allowed: readonly string[], defaults: readonly string[] = allowed): string[] {
  const asked = splitScope(requested)
  const beyond = asked.filter((s) => !allowed.includes(s))
  if (beyond.length > 0) throw new OAuthError('invalid_scope', `the client may not ask for: ${beyond.join(' ')}`)
  return asked.length > 0 ? asked : [...defaults]
}

/** The scope text shown on the consent page. */
export function describeScope (scope: string): string {
  switch (scope) {
    case 'openid': return 'Know who you are (your account id)'
    case 'phone': return 'See your mobile number'
    case 'profile': return 'See your profile'
    case 'offline_access': return 'Stay connected when you are not using it'
    case 'admin': return 'Administer the auth center'
    case 'revocations:read': return 'Read the list of revoked sessions'
    default: return `Access “${scope}”`
  }
}
