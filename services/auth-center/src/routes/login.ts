import { randomUUID } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { bindAtLogin, fingerprintCookie } from '../auth/binding.js'
import { normalizeMobile } from '../auth/mobile.js'
import { requestFacts } from '../auth/request-facts.js'
import { checkPasswordLogin } from '../auth/password-login.js'
import { checkLoginCode } from '../auth/sms-codes.js'
import { InvalidMobileError, LoginMethodError, UnknownClientError } from '../errors.js'
import { Mobile, Password, SmsCode, TokenReply, UserReply, replies } from '../schemas.js'
import { outcomeOf } from '../metrics/metrics.js'
import { startSession } from '../sessions/start.js'
import { audit } from '../auth/audit.js'
import type { User } from '../store/store.js'
import { withRetryAfter } from './retry-after.js'

const Body = Type.Object({
  mobile: Mobile,
  code: Type.Optional(SmsCode),
  password: Type.Optional(Password),
  device: Type.Optional(Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false })),
  client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 }))
}, { additionalProperties: false })

const Reply = Type.Composite([Type.Object({ user: UserReply }), TokenReply])

/** POST /auth/login: with an SMS code (creates the account on first use) or a password. */
const loginRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/auth/login', {
    schema: { body: Body, response: replies({ 200: Reply }) },
    // Logins by outcome: every refusal (its code; a bad body included) and every success.
    onError: async (request, _reply, err) => {
      app.deps.metrics.login(outcomeOf(err))
      const body = request.body as { code?: unknown } | undefined
      await audit(app.deps, {
        type: 'login_failed', ip: request.clientIp, userAgent: request.headers['user-agent']?.slice(0, 256), reason: outcomeOf(err), refused: true,
        detail: { method: body?.code !== undefined ? 'sms' : 'password' }
      })
    },
    onResponse: async (_request, reply) => { if (reply.statusCode < 400) app.deps.metrics.login('success') }
  }, async (request, reply) => {
    const { code, password } = request.body
    if ((code === undefined) === (password === undefined)) throw new LoginMethodError()
    const mobile = normalizeMobile(request.body.mobile)
    if (mobile === undefined) throw new InvalidMobileError()
    const deps = app.deps
    const client = deps.clients.get(request.body.client_id ?? 'default')
    // Third-party (OAuth) clients sign users in through /oauth/authorize, never here.
    if (client === undefined || client.type !== 'first-party') throw new UnknownClientError()

    // The device binding first: a bad DPoP proof must not burn the one-time code.
    const binding = await bindAtLogin(deps, requestFacts(request), client.policy)
    let user: User
    if (code !== undefined) {
      await checkLoginCode(deps, mobile, code)
      const now = deps.now();
      ({ user } = await deps.store.getOrCreateUserByMobile(mobile, { id: randomUUID(), mobile, createdAt: now }))
    } else {
      user = await withRetryAfter(reply, checkPasswordLogin(deps, mobile, password!, request.clientIp))
    }

    const tokens = await startSession(deps, user, {
      clientId: client.clientId,
      deviceName: request.body.device?.name,
      ip: request.clientIp,
      userAgent: request.headers['user-agent']
    }, binding)
    if (binding.fingerprint !== undefined) {
      reply.header('set-cookie', fingerprintCookie(binding.fingerprint, tokens.refresh_expires_in ?? tokens.session_expires_in ?? tokens.expires_in))
    }
    await audit(deps, {
      type: 'login', userId: user.id, sessionId: tokens.session_id, clientId: client.clientId, ip: request.clientIp,
      userAgent: request.headers['user-agent']?.slice(0, 256), reason: code !== undefined ? 'sms' : 'password'
    })
    reply.header('cache-control', 'no-store')
    return { user: { id: user.id, mobile: user.mobile }, ...tokens }
  })
}

export default loginRoute
