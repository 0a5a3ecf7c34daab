import { delegatedScope } from './delegated-scope.js'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { Auth } from '@authcenter/verifier'
import { InvalidUsernameError } from '../errors.js'
import { emptyProfile, type Profile, type ProfileStore } from '../profiles/store.js'
import { errorReplies, ProfileReply } from './schemas.js'

export interface UserRoutesOptions {
  profiles: ProfileStore
}

/** The public URL path of a stored avatar, relative to this service. */
export function avatarUrl (name: string | null): string | null {
  return name === null ? null : `/avatars/${name}`
}

export function toProfileReply (profile: Profile, auth: Auth): ProfileReply {
  const reply: ProfileReply = { id: profile.id, username: profile.username, avatar_url: avatarUrl(profile.avatar) }
  const phone = auth.claims.phone_number
  if (typeof phone === 'string' && phone.length > 0) reply.mobile = phone
  return reply
}

export const USERNAME_MIN = 2
export const USERNAME_MAX = 32
// C0/C1 controls, line/paragraph separators, and the bidi overrides/isolates
// that make a name display as something else.
const FORBIDDEN = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u

/**
 * Trims and checks a username: 2-32 characters (code points) after trimming,
 * no control characters. Returns the trimmed name or throws INVALID_USERNAME.
 */
export function checkUsername (raw: string): string {
  const name = raw.trim()
  const length = [...name].length
  if (length < USERNAME_MIN || length > USERNAME_MAX) {
    throw new InvalidUsernameError(`username must be ${USERNAME_MIN} to ${USERNAME_MAX} characters after trimming (got ${length})`)
  }
  if (FORBIDDEN.test(name)) throw new InvalidUsernameError('username must not contain control characters')
  return name
}

const UpdateUsernameBody = Type.Object({
  // Loose bound here (the real rule is checkUsername's), so a long name gets INVALID_USERNAME too.
  username: Type.String({ maxLength: 256 })
}, { additionalProperties: false })

/**
 * The seed's `/user/*` routes that belong to a downstream service: the caller's
 * own profile, renaming, and the token check. Only ever the caller's own data
 * (the seed's product rule: a user cannot see another user's profile).
 */
export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app, { profiles }) => {
  app.get('/user/mine', {
    onRequest: app.authenticate(),
    preHandler: delegatedScope('profile:read'),
    schema: {
      summary: 'The caller\'s profile (empty the first time the user is seen)',
      response: { 200: ProfileReply, ...errorReplies }
    }
  }, async (req) => {
    const profile = await profiles.get(req.auth.sub) ?? emptyProfile(req.auth.sub)
    return toProfileReply(profile, req.auth)
  })

  app.put('/user/username', {
    onRequest: app.authenticate(),
    preHandler: delegatedScope('profile:write'),
    schema: {
      summary: 'Set the caller\'s username',
      body: UpdateUsernameBody,
      response: { 200: ProfileReply, ...errorReplies }
    }
  }, async (req) => {
    const username = checkUsername(req.body.username)
    const { after } = await profiles.upsert(req.auth.sub, { username })
    return toProfileReply(after, req.auth)
  })

  app.get('/user/access/token', {
    onRequest: app.authenticate(),
    // It names the user: a third-party token needs profile:read, a client's token has no user.
    preHandler: delegatedScope('profile:read'),
    schema: {
      summary: 'Check the access token (the seed\'s /user/access/token)',
      response: {
        200: Type.Object({ detail: Type.Literal('access token is valid'), user_id: Type.String() }),
        ...errorReplies
      }
    }
  }, async (req) => {
    return { detail: 'access token is valid' as const, user_id: req.auth.sub }
  })
}
