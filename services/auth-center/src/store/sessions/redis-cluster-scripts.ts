import { script } from '../redis/script.js'

/**
 * The revoking steps of the sessions driver on a Redis Cluster, where the denylist and
 * its feed log (one slot: the `{deny}` hash tag) and a session (its own slot) cannot be
 * in one script. One script per slot, in this order: the denylist entry is written,
 * logged and published first, then the session changes. So there is never a revoked
 * session without its entry; a crash (or a failover) between the two leaves an entry
 * for a session still live in the store, which refuses its access tokens issued so far
 * and nothing else (the next refresh issues tokens after the entry's revokedAt, which
 * the entry does not cover): the caller got an error and repeats the logout.
 * On one Redis or under Sentinel the single-script versions in redis-scripts.ts run.
 */

/**
 * KEYS: deny hash, deny zset, epoch, feed log (one hash tag).
 * ARGV: field, revokedAt, expiresAt, epoch candidate, channel, log length, exceptSid ('' for none),
 *       merge ('1': keep the later revokedAt and expiresAt of an existing entry, as a `u:` entry does).
 * The entry of docs/revocation-protocol.md: saved, logged and published. Returns its value.
 */
export const CLUSTER_DENY = script(`
local field, revokedAt, expiresAt = ARGV[1], ARGV[2], ARGV[3]
if ARGV[8] == '1' then
  local old = redis.call('HGET', KEYS[1], field)
  if old then
    local oa, oe = string.match(old, '^(%d+):(%d+)')
    if oa and tonumber(oa) > tonumber(revokedAt) then revokedAt = oa end
    if oe and tonumber(oe) > tonumber(expiresAt) then expiresAt = oe end
  end
end
local value = revokedAt .. ':' .. expiresAt
if ARGV[7] ~= '' then value = value .. ':' .. ARGV[7] end
redis.call('SET', KEYS[3], ARGV[4], 'NX')
redis.call('HSET', KEYS[1], field, value)
redis.call('ZADD', KEYS[2], expiresAt, field)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'm', field .. '=' .. value, 'e', redis.call('GET', KEYS[3]))
redis.call('PUBLISH', ARGV[5], field .. '=' .. value)
return value
`)

/**
 * KEYS: session. ARGV: presentedGen, now, graceMs, newExpiresAt, retentionMs, expectedNonce ('' for none).
 * ROTATE_REFRESH without its reuse branch's writes: on reuse it changes nothing and
 * answers {'reuse'}; the caller writes the denylist entry, then CLUSTER_REVOKE_SESSION.
 */
export const CLUSTER_ROTATE_REFRESH = script(`
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then return {'missing'} end
local f = redis.call('HMGET', k, 'revokedAt', 'expiresAt', 'refreshGen', 'rotatedAt', 'refreshNonce')
if ARGV[6] ~= '' and f[5] ~= ARGV[6] then return {'stale'} end
local presented, now, grace = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if f[1] then return {'revoked', redis.call('HGETALL', k)} end
if now >= tonumber(f[2]) then return {'expired', redis.call('HGETALL', k)} end
local gen, rotatedAt = tonumber(f[3]), tonumber(f[4])
if presented >= gen then
  -- Ahead of the store (a lost rotation, see decideRotation in ../rules.ts): go on from it.
  redis.call('HSET', k, 'refreshGen', presented + 1)
  redis.call('HSET', k, 'rotatedAt', ARGV[2], 'lastUsedAt', ARGV[2], 'expiresAt', ARGV[4])
  redis.call('PEXPIRE', k, ARGV[5])
  return {'rotated', redis.call('HGETALL', k)}
end
if presented == gen - 1 and rotatedAt > 0 and now - rotatedAt < grace then return {'grace', redis.call('HGETALL', k)} end
return {'reuse'}
`)

/**
 * KEYS: session. ARGV: now, reason. Marks it revoked unless it already is (the first
 * revocation is kept). Returns HGETALL, or nil when missing.
 */
export const CLUSTER_REVOKE_SESSION = script(`
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then return false end
if redis.call('HEXISTS', k, 'revokedAt') == 0 then
  redis.call('HSET', k, 'revokedAt', ARGV[1], 'revokedReason', ARGV[2])
end
return redis.call('HGETALL', k)
`)

/**
 * KEYS: session. ARGV: userId, now, reason. One session of REVOKE_USER_SESSIONS:
 * 'revoked' | 'expired' (left alone) | 'dead' (already revoked) | 'gone' (missing, or not this user's).
 */
export const CLUSTER_REVOKE_USER_SESSION = script(`
local f = redis.call('HMGET', KEYS[1], 'userId', 'revokedAt', 'expiresAt')
if f[1] ~= ARGV[1] then return 'gone' end
if f[2] then return 'dead' end
if tonumber(ARGV[2]) >= tonumber(f[3]) then return 'expired' end
redis.call('HSET', KEYS[1], 'revokedAt', ARGV[2], 'revokedReason', ARGV[3])
return 'revoked'
`)
