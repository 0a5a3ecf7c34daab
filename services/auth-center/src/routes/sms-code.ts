import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { normalizeMobile } from '../auth/mobile.js'
import { sendLoginCode } from '../auth/sms-codes.js'
import { InvalidMobileError } from '../errors.js'
import { Mobile, replies } from '../schemas.js'
import { withRetryAfter } from './retry-after.js'

const Body = Type.Object({ mobile: Mobile }, { additionalProperties: false })
const Reply = Type.Object({ expires_in: Type.Integer(), retry_after: Type.Integer() })

/** POST /auth/sms-code: the same 202 whether or not the number has an account. */
const smsCodeRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/auth/sms-code', {
    schema: { body: Body, response: replies({ 202: Reply }) }
  }, async (request, reply) => {
    const mobile = normalizeMobile(request.body.mobile)
    if (mobile === undefined) throw new InvalidMobileError()
    const r = await withRetryAfter(reply, sendLoginCode(app.deps, mobile, request.clientIp))
    return reply.code(202).send({ expires_in: r.expiresIn, retry_after: r.retryAfter })
  })
}

export default smsCodeRoute
