import { Type, type Static } from '@sinclair/typebox'

/** Every error reply: Fastify's shape with a stable `code`. */
export const ErrorReply = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String()
}, { $id: 'ErrorReply', description: 'An error: `code` is stable, `message` is for humans.' })

/** What `GET /user/mine` and `PUT /user/username` answer. */
export const ProfileReply = Type.Object({
  id: Type.String({ description: 'The user id: the access token\'s `sub`.' }),
  mobile: Type.Optional(Type.String({ description: 'From the token\'s `phone_number` claim, when it carries one.' })),
  username: Type.Union([Type.String(), Type.Null()]),
  avatar_url: Type.Union([Type.String(), Type.Null()], { description: 'Relative to this service: `/avatars/<name>`.' })
})
export type ProfileReply = Static<typeof ProfileReply>

/** Replies a route may give for errors (the verifier answers 401/403/503 in the same shape). */
export const errorReplies = {
  '4xx': ErrorReply,
  '5xx': ErrorReply
} as const
