import type { CodeStore, SmsCheckResult } from './codes.js'
import { assertSmsOptions, assertWindow } from '../rules.js'
import { redisPrefix, type RedisClient } from '../redis/client.js'
import { pair } from '../redis/codec.js'
import { io, run, script } from '../redis/script.js'

export interface RedisCodesOptions {
  /** Prepended to every key (default `ac:`). */
  prefix?: string
}

/**
 * SMS codes, rate counters and DPoP jti marks in Redis. Key layout (prefix `ac:`; `{…}`
 * is the Cluster hash tag):
 *
 * | key                         | type   | TTL                        |
 * |-----------------------------|--------|----------------------------|
 * | `ac:m:{<mobile>}:sms`       | hash   | code ttl (codeHash, left)  |
 * | `ac:m:{<mobile>}:sms-cool`  | string | cooldown                   |
 * | `ac:hit:<key>`              | string | the counter's window       |
 * | `ac:once:<key>`             | string | the mark's ttl             |
 *
 * Each decision is one script on one key, or on the two keys of one mobile (one slot).
 */
export function createRedisCodes (client: RedisClient, opts: RedisCodesOptions = {}): CodeStore {
  const key = codeKeys(redisPrefix(opts.prefix, 'createRedisCodes'))

  return {
    async issueSmsCode (mobile, codeHash, opts) {
      assertSmsOptions(opts)
      const { ttlMs, cooldownMs, maxAttempts } = opts
      const wait = Number(await run(client, ISSUE_SMS_CODE, [key.cooldown(mobile), key.sms(mobile)],
        [codeHash, Math.ceil(ttlMs), Math.ceil(cooldownMs), maxAttempts]))
      return { ok: wait === 0, retryAfterMs: wait }
    },

    async checkSmsCode (mobile, codeHash) {
      return await run(client, CHECK_SMS_CODE, [key.sms(mobile)], [codeHash]) as SmsCheckResult
    },

    async cancelSmsCode (mobile) {
      // Both keys carry the {mobile} hash tag: one slot, one command.
      await io(async () => await client.del(key.sms(mobile), key.cooldown(mobile)))
    },

    async hit (hitKey, limit, windowMs) {
      assertWindow(windowMs)
      const [count, ttl] = pair(await run(client, HIT, [key.hits(hitKey)], [Math.ceil(windowMs)]))
      return { allowed: Number(count) <= limit, count: Number(count), retryAfterMs: Number(ttl) }
    },

    async resetHits (hitKey) {
      await io(async () => await client.del(key.hits(hitKey)))
    },

    async releaseHit (hitKey) {
      await run(client, RELEASE_HIT, [key.hits(hitKey)], [])
    },

    async countHits (hitKey) {
      return Number(await io(async () => await client.get(key.hits(hitKey))) ?? 0)
    },

    async markOnce (markKey, ttlMs) {
      return (await io(async () => await client.set(key.marker(markKey), '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'))) === 'OK'
    }
  }
}

function codeKeys (prefix: string) {
  return {
    sms: (mobile: string) => `${prefix}m:{${mobile}}:sms`,
    cooldown: (mobile: string) => `${prefix}m:{${mobile}}:sms-cool`,
    hits: (hitKey: string) => `${prefix}hit:${hitKey}`,
    marker: (markKey: string) => `${prefix}once:${markKey}`
  }
}

/**
 * KEYS: cooldown, code (same hash tag). ARGV: codeHash, ttlMs, cooldownMs, maxAttempts.
 * Returns 0 when issued, else the ms left on the cooldown.
 */
const ISSUE_SMS_CODE = script(`
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
const CHECK_SMS_CODE = script(`
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
const HIT = script(`
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
const RELEASE_HIT = script(`
local n = tonumber(redis.call('GET', KEYS[1]))
if n and n > 0 then redis.call('DECR', KEYS[1]) end
return 0
`)
