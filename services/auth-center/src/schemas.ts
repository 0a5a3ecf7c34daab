import { Type, type TSchema } from '@sinclair/typebox'

/** Fastify's error shape, DESIGN.md §5. */
export const ErrorReply = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String()
}, { $id: 'ErrorReply' })

/** Reply schemas for a route: its success replies plus the error shape for 4xx/5xx. */
export function replies<T extends Record<number, TSchema>> (ok: T): T & { '4xx': typeof ErrorReply, '5xx': typeof ErrorReply } {
  return { ...ok, '4xx': ErrorReply, '5xx': ErrorReply }
}

export const Mobile = Type.String({ minLength: 5, maxLength: 24, description: '13800138000 or +8613800138000' })
export const SmsCode = Type.String({ pattern: '^\\d{6}$', description: 'six digits' })
export const Password = Type.String({ minLength: 1, maxLength: 128 })

export const TokenReply = Type.Object({
  access_token: Type.String(),
  token_type: Type.Union([Type.Literal('Bearer'), Type.Literal('DPoP')]),
  expires_in: Type.Integer(),
  session_id: Type.String(),
  refresh_token: Type.Optional(Type.String()),
  refresh_expires_in: Type.Optional(Type.Integer()),
  session_expires_in: Type.Optional(Type.Integer())
})

export const UserReply = Type.Object({ id: Type.String(), mobile: Type.String() })
