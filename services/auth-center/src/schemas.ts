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

/** A reply that is not JSON (an HTML page, an event stream), for the OpenAPI document; never serialized by Fastify. */
export const textReply = (type: string, description: string): { description: string, content: Record<string, { schema: ReturnType<typeof Type.String> }> } =>
  ({ description, content: { [type]: { schema: Type.String() } } })

/** The browser routes' replies: an HTML page, or a 303 back to the client (or to the next page). */
export const pageReplies = {
  200: textReply('text/html', 'An HTML page (login, consent)'),
  // No body schema: an empty body (send() with nothing), not a serialized null.
  303: { description: 'Redirect: Location is the next page, or the client\'s redirect_uri with code or error' },
  '4xx': textReply('text/html', 'An HTML error page'),
  '5xx': textReply('text/html', 'An HTML error page')
}
