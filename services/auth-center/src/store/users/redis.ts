import type { UserStore } from './users.js'
import { assertCandidate } from '../rules.js'
import { redisPrefix, type RedisClient } from '../redis/client.js'
import { decodeUser, encodeUser, flatToHash, pair } from '../redis/codec.js'
import { io, run, script } from '../redis/script.js'

export interface RedisUsersOptions {
  /** Prepended to every key (default `ac:`). */
  prefix?: string
}

/**
 * Users in Redis. Key layout (prefix `ac:`; `{…}` is the Cluster hash tag):
 *
 * | key                     | type   | TTL                    |
 * |-------------------------|--------|------------------------|
 * | `ac:m:{<mobile>}:user`  | hash   | none (the user record) |
 * | `ac:uid:{<userId>}`     | string | none (→ mobile)        |
 *
 * The record is keyed by mobile because that is what first login races on: one script on
 * one key. `uid:` maps an id to it and is written once and never changes, so reading it
 * and then the record is safe.
 */
export function createRedisUsers (client: RedisClient, opts: RedisUsersOptions = {}): UserStore {
  const key = userKeys(redisPrefix(opts.prefix, 'createRedisUsers'))

  return {
    async getUser (id) {
      const mobile = await io(async () => await client.get(key.pointer(id)))
      if (mobile === null) return null
      const user = decodeUser(await io(async () => await client.hgetall(key.user(mobile))))
      return user?.id === id ? user : null
    },

    async getUserByMobile (mobile) {
      return decodeUser(await io(async () => await client.hgetall(key.user(mobile))))
    },

    async getOrCreateUserByMobile (mobile, candidate) {
      assertCandidate(mobile, candidate)
      const reply = await run(client, GET_OR_CREATE_USER, [key.user(mobile)], encodeUser(candidate))
      const [created, fields] = pair(reply)
      const hash = flatToHash(fields)
      const user = decodeUser(hash)
      if (user === null) throw new Error('getOrCreateUser script returned no user')
      // The id → mobile pointer (another slot on a Cluster, so not in the script) is
      // written until the record says it is there (`pointed`, set only after the pointer
      // was saved): a pointer lost to a failure right after the script is repaired by the
      // user's next login, and every later login skips the write (one round trip of a
      // login, issue #17). The pointer never changes once written.
      if (hash[POINTED] !== '1') {
        await io(async () => await client.set(key.pointer(user.id), mobile))
        await io(async () => await client.hset(key.user(mobile), POINTED, '1'))
      }
      return { user, created: created === 1 }
    },

    async setPassword (userId, passwordHash, now, expectedHash) {
      const mobile = await io(async () => await client.get(key.pointer(userId)))
      if (mobile === null) return
      await run(client, SET_PASSWORD, [key.user(mobile)], expectedHash === undefined ? [passwordHash, String(now)] : [passwordHash, String(now), expectedHash])
    }
  }
}

/** A field of the user hash beside the User's own (decodeUser ignores it): '1' once `uid:` points at the record. */
const POINTED = 'pointed'

function userKeys (prefix: string) {
  return {
    user: (mobile: string) => `${prefix}m:{${mobile}}:user`,
    pointer: (userId: string) => `${prefix}uid:{${userId}}`
  }
}

/**
 * KEYS: user hash (keyed by mobile). ARGV: the candidate's field/value pairs.
 * Returns {created (0|1), HGETALL}.
 */
const GET_OR_CREATE_USER = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
  return {1, redis.call('HGETALL', KEYS[1])}
end
return {0, redis.call('HGETALL', KEYS[1])}
`)

/**
 * KEYS: user hash. ARGV: passwordHash, now[, expectedHash]. Never creates a half user;
 * with expectedHash, a compare-and-set. Returns 1 when set.
 */
const SET_PASSWORD = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[3] ~= nil and redis.call('HGET', KEYS[1], 'passwordHash') ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'passwordHash', ARGV[1], 'passwordChangedAt', ARGV[2])
return 1
`)
