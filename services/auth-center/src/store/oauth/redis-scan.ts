import type { Consent } from './oauth.js'
import { redisPrefix, type RedisClient } from '../redis/client.js'
import { globEscape, hashTag, scanKeys } from '../redis/scan.js'
import { io } from '../redis/script.js'

export interface UserConsent { userId: string, consent: Consent }

/** Every consent in a Redis store (layout in redis.ts), read-only, in SCAN batches. For store:copy. */
export async function * scanConsents (client: RedisClient, prefix?: string): AsyncGenerator<UserConsent[]> {
  const p = redisPrefix(prefix, 'scanConsents')
  for await (const keys of scanKeys(client, `${globEscape(p)}u:{*}:consents`)) {
    const hashes = await io(async () => await Promise.all(keys.map(async (k) => await client.hgetall(k))))
    yield keys.flatMap((k, i) => Object.values(hashes[i] ?? {}).map((raw) => ({ userId: hashTag(k), consent: JSON.parse(raw) as Consent })))
  }
}
