import type { FastifyReply, FastifyRequest } from 'fastify'
import { challenge, TokenError } from '@authcenter/verifier/fastify'

/**
 * Who may do what here, from what the token proves (`request.auth.kind`, the verifier's
 * reading of the `ac_kind` claim), never from a claim that is missing:
 * - `first-party` (the user's own app, logged in at the auth center): acts as the user;
 * - `third-party` (an OAuth2 client): only within the scopes the user consented to, so it
 *   needs the route's scope; a third-party token with no scope can do nothing here;
 * - `client` (client credentials): a client acting for itself is no user, so it has no
 *   profile here, whatever scopes it holds and whatever its client id.
 * Refusals are 403 `INSUFFICIENT_SCOPE` with `error="insufficient_scope"` (RFC 6750), like
 * the verifier's own scope check. Runs after `app.authenticate()`.
 */
export function delegatedScope (scope: string) {
  return async function checkDelegatedScope (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const auth = request.auth
    if (auth.kind === 'first-party') return
    if (auth.kind === 'third-party' && auth.scope.includes(scope)) return
    const message = auth.kind === 'client'
      ? 'a client-credentials token acts for no user: this route needs a user\'s token'
      : `the token lacks scope "${scope}"`
    const err = new TokenError('INSUFFICIENT_SCOPE', message)
    const header = challenge(err, undefined, [scope])
    if (header !== undefined) reply.header('www-authenticate', header)
    await reply.code(403).send({ statusCode: 403, code: err.code, error: 'Forbidden', message: err.message })
  }
}
