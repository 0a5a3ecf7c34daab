import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'

/**
 * The Lua scripts behind every decision of the Redis driver. Each runs atomically
 * on the server, so no other client sees or interleaves with a half-made decision.
 * Each touches one key, or several keys sharing one hash tag (same Cluster slot).
 *
 * Values for timestamps are passed through as the caller's strings rather than
 * computed in Lua: Lua turns large numbers into strings with 14 significant digits.
 */

export type RedisClient = Redis | Cluster

export interface LuaScript {
  readonly lua: string
  readonly sha: string
}

function script (lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') }
}

/**
 * EVALSHA, and EVAL once when the server does not know the script (after a restart
 * or failover its script cache is empty). Defined here rather than with
 * `redis.defineCommand` so the store does not add methods to a client it was lent.
 */
export async function runScript (client: RedisClient, s: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, keys.length, ...keys, ...args)
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
    return await client.eval(s.lua, keys.length, ...keys, ...args)
  }
}

/**
 * KEYS: user hash (keyed by mobile). ARGV: the candidate's field/value pairs.
 * Returns {created (0|1), HGETALL}.
 */
export const GET_OR_CREATE_USER = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
  return {1, redis.call('HGETALL', KEYS[1])}
end
return {0, redis.call('HGETALL', KEYS[1])}
`)

/** KEYS: user hash. ARGV: passwordHash, now. Never creates a half user. Returns 1 when set. */
export const SET_PASSWORD = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'passwordHash', ARGV[1], 'passwordChangedAt', ARGV[2])
return 1
`)

/**
 * KEYS: cooldown, code (same hash tag). ARGV: codeHash, ttlMs, cooldownMs, maxAttempts.
 * Returns 0 when issued, else the ms left on the cooldown.
 */
export const ISSUE_SMS_CODE = script(`
local wait = redis.call('PTTL', KEYS[1])
if wait > 0 then return wait end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[3])
else
  redis.call('DEL', KEYS[1])
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'codeHash', ARGV[1], 'left', ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 0
`)

/**
 * KEYS: code. ARGV: codeHash. Returns 'ok' | 'wrong' | 'dead' | 'missing'.
 * A plain comparison is fine here: it compares hashes, and learning a prefix of
 * a hash teaches nothing about the code.
 */
export const CHECK_SMS_CODE = script(`
local stored = redis.call('HGET', KEYS[1], 'codeHash')
if not stored then return 'missing' end
if stored == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 'ok'
end
if redis.call('HINCRBY', KEYS[1], 'left', -1) > 0 then return 'wrong' end
redis.call('DEL', KEYS[1])
return 'dead'
`)

/**
 * KEYS: counter. ARGV: windowMs. Returns {count, ms until the window resets}.
 * A counter without a TTL (set by hand, say) gets one, so it can never stick.
 */
export const HIT = script(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

/** KEYS: session. ARGV: retentionMs, then field/value pairs. Replaces any old hash whole. */
export const CREATE_SESSION = script(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

/** KEYS: user's session index. ARGV: createdAt, sessionId. Returns the index size. */
export const INDEX_SESSION = script(`
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
`)

/**
 * KEYS: session. ARGV: presentedGen, now, graceMs, newExpiresAt, retentionMs, reusedReason.
 * Returns {status} or {status, HGETALL}. Mirrors decideRotation() in rules.ts.
 */
export const ROTATE_REFRESH = script(`
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then return {'missing'} end
local f = redis.call('HMGET', k, 'revokedAt', 'expiresAt', 'refreshGen', 'rotatedAt')
local presented, now, grace = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local status
if f[1] then
  status = 'revoked'
elseif now >= tonumber(f[2]) then
  status = 'expired'
else
  local gen, rotatedAt = tonumber(f[3]), tonumber(f[4])
  if presented == gen then
    redis.call('HINCRBY', k, 'refreshGen', 1)
    redis.call('HSET', k, 'rotatedAt', ARGV[2], 'lastUsedAt', ARGV[2], 'expiresAt', ARGV[4])
    redis.call('PEXPIRE', k, ARGV[5])
    status = 'rotated'
  elseif presented == gen - 1 and rotatedAt > 0 and now - rotatedAt < grace then
    status = 'grace'
  else
    redis.call('HSET', k, 'revokedAt', ARGV[2], 'revokedReason', ARGV[6])
    status = 'reused'
  end
end
return {status, redis.call('HGETALL', k)}
`)

/** KEYS: session. ARGV: now, reason. Returns HGETALL, or nil when missing. Keeps the first revocation. */
export const REVOKE_SESSION = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HEXISTS', KEYS[1], 'revokedAt') == 0 then
  redis.call('HSET', KEYS[1], 'revokedAt', ARGV[1], 'revokedReason', ARGV[2])
end
return redis.call('HGETALL', KEYS[1])
`)

/**
 * KEYS: session. ARGV: userId, now, reason. Revokes it only if it is live and the
 * user's. Returns 'revoked' | 'expired' (left alone) | 'dead' (already revoked)
 * | 'gone' (missing, or not this user's: either way it has no place in the index).
 */
export const REVOKE_IF_LIVE = script(`
local f = redis.call('HMGET', KEYS[1], 'userId', 'revokedAt', 'expiresAt')
if f[1] ~= ARGV[1] then return 'gone' end
if f[2] then return 'dead' end
if tonumber(ARGV[2]) >= tonumber(f[3]) then return 'expired' end
redis.call('HSET', KEYS[1], 'revokedAt', ARGV[2], 'revokedReason', ARGV[3])
return 'revoked'
`)
