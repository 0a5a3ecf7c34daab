import type { StoredClient } from './clients.js'
import { redisPrefix, type RedisClient } from '../redis/client.js'
import { globEscape, scanKeys } from '../redis/scan.js'
import { io } from '../redis/script.js'

/** Every admin-registered client in a Redis store (layout in redis.ts), read-only, in SCAN batches. For store:copy. */
export async function * scanClients (client: RedisClient, prefix?: string): AsyncGenerator<StoredClient[]> {
  const p = redisPrefix(prefix, 'scanClients')
  // `client:{id}` only: the pattern's `}` end leaves out `client:{id}:sessions`.
  for await (const keys of scanKeys(client, `${globEscape(p)}client:{*}`)) {
    const own = keys.filter((k) => k.endsWith('}'))
    const raws = await io(async () => await Promise.all(own.map(async (k) => await client.get(k))))
    yield raws.flatMap((raw) => raw === null ? [] : [JSON.parse(raw) as StoredClient])
  }
}
