import { script } from '../redis/script.js'

/**
 * The Lua scripts of the Redis sessions driver (./redis.ts): rotation, revocation with its
 * denylist entry, the epoch and the feed head. Each is one atomic step on the server.
 */

/** KEYS: session. ARGV: retentionMs, then field/value pairs. Replaces any old hash whole. */
export const CREATE_SESSION = script(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

/**
 * One Redis (or Sentinel) only: CREATE_SESSION, then INDEX_SESSION, and the epoch if
 * missing, in one step (one round trip for a login instead of two; the index is still
 * written after the session, inside the same atomic step).
 * KEYS: session, user's session index, epoch. ARGV: retentionMs, epoch candidate,
 * createdAt, sessionId, then field/value pairs. Returns the index size.
 */
export const CREATE_INDEXED_SESSION = script(`
redis.call('SET', KEYS[3], ARGV[2], 'NX')
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return redis.call('ZCARD', KEYS[2])
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
 * Returns {status} or {status, HGETALL as a JSON array}. Mirrors decideRotation() in ../rules.ts.
 * With an expectedNonce that is not the session's refreshNonce: {'stale'}, nothing changed.
 * The reuse branch revokes the session and writes + publishes its `s:` entry.
 */
export const ROTATE_REFRESH = script(DENY + `
local k = KEYS[5]
local f = redis.call('HMGET', k, 'revokedAt', 'expiresAt', 'refreshGen', 'rotatedAt', 'refreshNonce')
-- expiresAt is on every session, so a nil one is (nearly always) a missing key: EXISTS only then.
if not f[2] and redis.call('EXISTS', k) == 0 then return {'missing'} end
if ARGV[11] ~= '' and f[5] ~= ARGV[11] then return {'stale'} end
local presented, now, grace = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local status
if f[1] then
  status = 'revoked'
elseif now >= tonumber(f[2]) then
  status = 'expired'
else
  local gen, rotatedAt = tonumber(f[3]), tonumber(f[4])
  if presented >= gen then
    -- Ahead of the store (a lost rotation, see decideRotation): go on from it.
    redis.call('HSET', k, 'refreshGen', presented + 1, 'rotatedAt', ARGV[2], 'lastUsedAt', ARGV[2], 'expiresAt', ARGV[4])
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
-- The hash as ONE JSON string: turning 36 Lua strings into replies costs Redis about as much as the rest of the rotation.
return {status, cjson.encode(redis.call('HGETALL', k))}
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
 * exceptSid; mirrors mergeUserEntry() in ../denylist.ts) and publishes it.
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

/**
 * KEYS: deny hash, deny zset, epoch, feed log (one slot on a Cluster: the `{deny}` tag, so
 * this runs there as it is). ARGV: deny field, deny value, deny expiresAt, epoch candidate,
 * channel, log length. Writes, logs and publishes the entry unless the field has one
 * already (the first revocation stands). Returns 1 when it wrote, 0 otherwise.
 */
export const DENY_ONCE = script(DENY + `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
deny(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
return 1
`)

/**
 * KEYS: deny hash, epoch (one slot on a Cluster). ARGV: the session field, the user field.
 * Reads, never writes: {epoch or false, session entry or false, user entry or false}.
 */
export const DENY_ENTRIES = script(`
local v = redis.call('HMGET', KEYS[1], ARGV[1], ARGV[2])
return {redis.call('GET', KEYS[2]), v[1], v[2]}
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
