import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { hashPassword, passwordWeakness, verifyPassword } from '../auth/password-hash.js'
import { PASSWORD_TRIES_PER_ACCOUNT, PASSWORD_WINDOW_MS } from '../auth/password-login.js'
import { limit } from '../auth/rate-limit.js'
import { checkLoginCode } from '../auth/sms-codes.js'
import { InvalidCredentialsError, PasswordRequiredError, SessionRevokedError, WeakPasswordError } from '../errors.js'
import { Password, SmsCode, replies } from '../schemas.js'
import { revokeUserSessions } from '../sessions/revoke.js'
import { withRetryAfter } from './retry-after.js'

const Body = Type.Object({
  new_password: Password,
  current_password: Type.Optional(Password),
  code: Type.Optional(SmsCode)
}, { additionalProperties: false })

/**
 * PUT /auth/password: proves the current password (or, before one is set, an SMS code
 * sent to the account's number), stores the new hash and revokes every other session.
 */
const passwordRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.put('/auth/password', {
    onRequest: app.requireSession(),
    schema: { body: Body, response: replies({ 204: Type.Null() }) }
  }, async (request, reply) => {
    const deps = app.deps
    const session = request.session!
    const { new_password: next, current_password: current, code } = request.body
    const user = await deps.store.getUser(session.userId)
    if (user === null) throw new SessionRevokedError()

    if (user.passwordHash !== undefined) {
      if (current === undefined) throw new PasswordRequiredError()
      await withRetryAfter(reply, limit(deps, `pw:acct:${user.mobile}`, PASSWORD_TRIES_PER_ACCOUNT, PASSWORD_WINDOW_MS, 'too many password attempts for this account'))
      if (!(await withRetryAfter(reply, verifyPassword(deps.passwordSlots, current, user.passwordHash, deps.keys.passwordPepper)))) throw new InvalidCredentialsError()
    } else {
      if (code === undefined) throw new PasswordRequiredError()
      await checkLoginCode(deps, user.mobile, code)
    }
    const weak = passwordWeakness(next)
    if (weak !== undefined) throw new WeakPasswordError(weak)

    await deps.store.setPassword(user.id, await withRetryAfter(reply, hashPassword(deps.passwordSlots, next, deps.keys.passwordPepper)), deps.now())
    await revokeUserSessions(deps, user.id, 'password_changed', session.id)
    return reply.code(204).send(null)
  })
}

export default passwordRoute
