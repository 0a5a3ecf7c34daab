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
if ARGV[3] ~= nil and redis.call('HGET', KEYS[1], 'passwordHash') ~= ARGV[3] then return 0 end
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

/**
 * KEYS: counter. Gives back one hit: DECR only an existing counter above zero, so a
 * window that has ended is not started again and the TTL stays as it was.
 */
export const RELEASE_HIT = script(`
local n = tonumber(redis.call('GET', KEYS[1]))
if n and n > 0 then redis.call('DECR', KEYS[1]) end
return 0
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
 * The denylist write of docs/revocation-protocol.md, prepended to every script that
 * revokes, so the entry is saved, logged and published in the same step as the session change.
 * deny(KEYS deny hash, deny zset, epoch, feed log; field, value, expiresAtMs, epoch candidate, channel, log length):
 * epoch SET NX, HSET field value, ZADD expiresAt field, XADD the log (`m` = `field=value`,
 * `e` = the epoch in force, so a reader's cursor names its epoch; trimmed to about
 * `log length` entries), PUBLISH `field=value`.
 * The deny keys are declared in KEYS (they come first in every such script).
 */
const DENY = `
local function deny(field, value, expiresAt, epoch, channel, loglen)
  redis.call('SET', KEYS[3], epoch, 'NX')
  redis.call('HSET', KEYS[1], field, value)
  redis.call('ZADD', KEYS[2], expiresAt, field)
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', loglen, '*', 'm', field .. '=' .. value, 'e', redis.call('GET', KEYS[3]))
  redis.call('PUBLISH', channel, field .. '=' .. value)
end
`

/**
 * KEYS: deny hash, deny zset, epoch, feed log, session.
 * ARGV: presentedGen, now, graceMs, newExpiresAt, retentionMs, reusedReason,
 *       deny field, deny expiresAt, epoch candidate, channel, expectedNonce ('' for none), log length.
 * Returns {status} or {status, HGETALL}. Mirrors decideRotation() in rules.ts.
 * With an expectedNonce that is not the session's refreshNonce: {'stale'}, nothing changed.
 * The reuse branch revokes the session and writes + publishes its `s:` entry.
 */
export const ROTATE_REFRESH = script(DENY + `
local k = KEYS[5]
if redis.call('EXISTS', k) == 0 then return {'missing'} end
local f = redis.call('HMGET', k, 'revokedAt', 'expiresAt', 'refreshGen', 'rotatedAt', 'refreshNonce')
if ARGV[11] ~= '' and f[5] ~= ARGV[11] then return {'stale'} end
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
    deny(ARGV[7], ARGV[2] .. ':' .. ARGV[8], ARGV[8], ARGV[9], ARGV[10], ARGV[12])
    status = 'reused'
  end
end
return {status, redis.call('HGETALL', k)}
`)

/**
 * KEYS: deny hash, deny zset, epoch, feed log, session.
 * ARGV: now, reason, deny field, deny expiresAt, epoch candidate, channel, log length.
 * Returns HGETALL, or nil when missing. Keeps the first revocation; only a session
 * that is revoked now gets its `s:` entry written and published.
 */
export const REVOKE_SESSION = script(DENY + `
local k = KEYS[5]
if redis.call('EXISTS', k) == 0 then return false end
if redis.call('HEXISTS', k, 'revokedAt') == 0 then
  redis.call('HSET', k, 'revokedAt', ARGV[1], 'revokedReason', ARGV[2])
  deny(ARGV[3], ARGV[1] .. ':' .. ARGV[4], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
end
return redis.call('HGETALL', k)
`)

/**
 * KEYS: deny hash, deny zset, epoch, feed log, then the user's sessions (from the index).
 * ARGV: userId, now, reason, deny field (`u:<userId>`), deny expiresAt, exceptSid ('' for
 *       none), epoch candidate, channel, log length.
 * Revokes each listed session that is live and the user's, then writes ONE user entry
 * (merged with an existing one: the later revokedAt and expiresAt, this call's
 * exceptSid; mirrors mergeUserEntry() in denylist.ts) and publishes it.
 * Returns one outcome per session: 'revoked' | 'expired' (left alone) | 'dead'
 * (already revoked) | 'gone' (missing, or not this user's).
 */
export const REVOKE_USER_SESSIONS = script(DENY + `
local outcomes = {}
for i = 5, #KEYS do
  local f = redis.call('HMGET', KEYS[i], 'userId', 'revokedAt', 'expiresAt')
  if f[1] ~= ARGV[1] then
    outcomes[#outcomes + 1] = 'gone'
  elseif f[2] then
    outcomes[#outcomes + 1] = 'dead'
  elseif tonumber(ARGV[2]) >= tonumber(f[3]) then
    outcomes[#outcomes + 1] = 'expired'
  else
    redis.call('HSET', KEYS[i], 'revokedAt', ARGV[2], 'revokedReason', ARGV[3])
    outcomes[#outcomes + 1] = 'revoked'
  end
end
local revokedAt, expiresAt = ARGV[2], ARGV[5]
local old = redis.call('HGET', KEYS[1], ARGV[4])
if old then
  local oa, oe = string.match(old, '^(%d+):(%d+)')
  if oa and tonumber(oa) > tonumber(revokedAt) then revokedAt = oa end
  if oe and tonumber(oe) > tonumber(expiresAt) then expiresAt = oe end
end
local value = revokedAt .. ':' .. expiresAt
if ARGV[6] ~= '' then value = value .. ':' .. ARGV[6] end
deny(ARGV[4], value, expiresAt, ARGV[7], ARGV[8], ARGV[9])
return outcomes
`)

/** KEYS: epoch. ARGV: candidate. Creates the epoch when missing; returns the epoch in force. */
export const ENSURE_EPOCH = script(`
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
`)

/**
 * KEYS: epoch, feed log. ARGV: epoch candidate. The head of a snapshot: the epoch in
 * force (created when missing) and the id of the newest logged entry ('0-0' when none),
 * read together before the denylist hash is scanned.
 */
export const FEED_HEAD = script(`
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local id = '0-0'
if #last > 0 then id = last[1][1] end
return {redis.call('GET', KEYS[1]), id}
`)

/**
 * KEYS: deny hash, deny zset. ARGV: now, limit. Drops up to `limit` entries whose
 * expiresAt <= now from both, in one step. Returns how many.
 */
export const PRUNE_DENYLIST = script(`
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #dead == 0 then return 0 end
redis.call('HDEL', KEYS[1], unpack(dead))
redis.call('ZREM', KEYS[2], unpack(dead))
return #dead
`)

/**
 * OAuth2 authorization codes (src/oauth/codes.ts). KEYS: code, used marker (one hash tag).
 * ARGV: usedTtlMs. The atomic take: GET + DEL of the code and the "used" marker
 * (state pending) in one step. Returns the grant (JSON) or nil when missing.
 */
export const TAKE_AUTH_CODE = script(`
local v = redis.call('GET', KEYS[1])
if not v then return false end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], 'pending', 'PX', ARGV[1])
return v
`)

/**
 * KEYS: used marker. ARGV: 's:' .. sessionId. Records the session a taken code made;
 * returns 0 when a replay came first (the marker says replayed), else 1.
 */
export const BIND_AUTH_CODE = script(`
local v = redis.call('GET', KEYS[1])
if v == 'replayed' then return 0 end
if v then redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL') end
return 1
`)

/**
 * KEYS: used marker. A code came back after its take: returns the marker (nil when
 * none); a pending marker becomes replayed, so the grant being made is revoked by its maker.
 */
export const REPLAY_AUTH_CODE = script(`
local v = redis.call('GET', KEYS[1])
if v == 'pending' then redis.call('SET', KEYS[1], 'replayed', 'KEEPTTL') end
return v
`)
