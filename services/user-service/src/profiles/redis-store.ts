import type { Cluster, Redis } from 'ioredis'
import { StoreUnavailableError } from '../errors.js'
import type { Profile, ProfilePatch, ProfileStore, UpsertResult } from './store.js'

export interface RedisProfileStoreOptions {
  /** Key prefix; default `user-service:profile:`. Each profile is one hash. */
  prefix?: string
}

/**
 * Reads the hash, applies the patch and returns the previous fields, all in one
 * script so two requests of the same user can never both see the same `before`.
 * ARGV: updated_at, number of fields to set, then the field/value pairs to set,
 * then the fields to delete (a null in the patch).
 */
const UPSERT = `
local before = redis.call('HGETALL', KEYS[1])
local nset = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'updated_at', ARGV[1])
for i = 3, 2 + nset * 2, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
for i = 3 + nset * 2, #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
end
return before
`

const FIELDS = { username: 'username', avatar: 'avatar' } as const

/**
 * Profiles in Redis, one hash per user. Takes a client it is given (from
 * `@fastify/redis` in the app) and never quits it. Connection failures and
 * timeouts become `StoreUnavailableError` (503); the client is expected to be
 * configured so that commands fail in bounded time (`commandTimeout`,
 * `maxRetriesPerRequest`), see `app.ts`.
 */
export function createRedisProfileStore (client: Redis | Cluster, opts: RedisProfileStoreOptions = {}): ProfileStore {
  const prefix = opts.prefix ?? 'user-service:profile:'
  const key = (userId: string): string => prefix + userId

  return {
    async get (userId) {
      const hash = await guard(client.hgetall(key(userId)))
      return fromHash(userId, hash)
    },

    async upsert (userId: string, patch: ProfilePatch): Promise<UpsertResult> {
      const now = new Date().toISOString()
      const set: string[] = []
      const del: string[] = []
      for (const [name, field] of Object.entries(FIELDS) as Array<[keyof typeof FIELDS, string]>) {
        const value = patch[name]
        if (value === undefined) continue
        if (value === null) del.push(field)
        else set.push(field, value)
      }
      const raw = await guard(client.eval(UPSERT, 1, key(userId), now, String(set.length / 2), ...set, ...del))
      const before = fromHash(userId, pairsToHash(raw))
      const after: Profile = {
        id: userId,
        username: patch.username !== undefined ? patch.username : before?.username ?? null,
        avatar: patch.avatar !== undefined ? patch.avatar : before?.avatar ?? null,
        updatedAt: now
      }
      return { before, after }
    }
  }
}

function pairsToHash (raw: unknown): Record<string, string> {
  const hash: Record<string, string> = {}
  if (!Array.isArray(raw)) return hash
  for (let i = 0; i + 1 < raw.length; i += 2) hash[String(raw[i])] = String(raw[i + 1])
  return hash
}

function fromHash (id: string, hash: Record<string, string>): Profile | null {
  if (hash.updated_at === undefined) return null
  return {
    id,
    username: hash.username ?? null,
    avatar: hash.avatar ?? null,
    updatedAt: hash.updated_at
  }
}

async function guard<T> (op: Promise<T>): Promise<T> {
  try {
    return await op
  } catch (err) {
    // A reply error (WRONGTYPE, a script error) is a bug, not an outage: let it be a 500.
    if (err instanceof Error && err.name === 'ReplyError') throw err
    throw new StoreUnavailableError({ cause: err })
  }
}
