import type { AuthCode, Consent, OAuthStore } from './oauth.js'
import { redisPrefix, type RedisClient } from '../redis/client.js'
import { io, run, script } from '../redis/script.js'

export interface RedisOAuthOptions {
  /** Prepended to every key (default `ac:`). */
  prefix?: string
}

/**
 * OAuth2 authorization codes and consents in Redis. Key layout (prefix `ac:`; `{…}` is the
 * Cluster hash tag):
 *
 * | key                         | type   | TTL                              |
 * |-----------------------------|--------|----------------------------------|
 * | `ac:code:{<codeId>}`        | string | 60 s (an OAuth2 code's grant)    |
 * | `ac:code:{<codeId>}:used`   | string | code TTL + max token life        |
 * | `ac:u:{<userId>}:consents`  | hash   | none (clientId → consent)        |
 *
 * A code and its "used" marker share a slot, so the take is one script.
 */
export function createRedisOAuth (client: RedisClient, opts: RedisOAuthOptions = {}): OAuthStore {
  const key = oauthKeys(redisPrefix(opts.prefix, 'createRedisOAuth'))

  return {
    async saveAuthCode (codeId, code, ttlMs) {
      await io(async () => await client.set(key.authCode(codeId), JSON.stringify(code), 'PX', Math.max(1, Math.ceil(ttlMs))))
    },

    async takeAuthCode (codeId, usedTtlMs) {
      const raw = await run(client, TAKE_AUTH_CODE, [key.authCode(codeId), key.usedCode(codeId)], [Math.max(1, Math.ceil(usedTtlMs))])
      return typeof raw === 'string' ? JSON.parse(raw) as AuthCode : null
    },

    async bindAuthCode (codeId, sessionId) {
      return Number(await run(client, BIND_AUTH_CODE, [key.usedCode(codeId)], [`s:${sessionId}`])) === 1
    },

    async replayAuthCode (codeId) {
      const v = await run(client, REPLAY_AUTH_CODE, [key.usedCode(codeId)], [])
      if (typeof v !== 'string') return { status: 'unknown' }
      if (v.startsWith('s:')) return { status: 'granted', sessionId: v.slice(2) }
      return { status: 'pending' }
    },

    async setConsent (userId, consent) {
      await io(async () => await client.hset(key.consents(userId), consent.clientId, JSON.stringify(consent)))
    },

    async getConsent (userId, clientId) {
      const raw = await io(async () => await client.hget(key.consents(userId), clientId))
      return raw === null ? null : JSON.parse(raw) as Consent
    },

    async listConsents (userId) {
      const all = await io(async () => await client.hvals(key.consents(userId)))
      return all.map((r) => JSON.parse(r) as Consent).sort((a, b) => a.grantedAt - b.grantedAt)
    },

    async deleteConsent (userId, clientId) {
      return (await io(async () => await client.hdel(key.consents(userId), clientId))) > 0
    }
  }
}

function oauthKeys (prefix: string) {
  return {
    authCode: (codeId: string) => `${prefix}code:{${codeId}}`,
    usedCode: (codeId: string) => `${prefix}code:{${codeId}}:used`,
    consents: (userId: string) => `${prefix}u:{${userId}}:consents`
  }
}

/**
 * KEYS: code, used marker (one hash tag). ARGV: usedTtlMs. The atomic take: GET + DEL of
 * the code and the "used" marker (state pending) in one step. Returns the grant (JSON) or
 * nil when missing.
 */
const TAKE_AUTH_CODE = script(`
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
const BIND_AUTH_CODE = script(`
local v = redis.call('GET', KEYS[1])
if v == 'replayed' then return 0 end
if v then redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL') end
return 1
`)

/**
 * KEYS: used marker. A code came back after its take: returns the marker (nil when
 * none); a pending marker becomes replayed, so the grant being made is revoked by its maker.
 */
const REPLAY_AUTH_CODE = script(`
local v = redis.call('GET', KEYS[1])
if v == 'pending' then redis.call('SET', KEYS[1], 'replayed', 'KEEPTTL') end
return v
`)
