import type { User } from './users.js'
import { redisPrefix, type RedisClient } from '../redis/client.js'
import { decodeUser } from '../redis/codec.js'
import { globEscape, scanKeys } from '../redis/scan.js'
import { io } from '../redis/script.js'

/** Every user in a Redis store (layout in redis.ts), read-only, in SCAN batches. For store:copy. */
export async function * scanUsers (client: RedisClient, prefix?: string): AsyncGenerator<User[]> {
  const p = redisPrefix(prefix, 'scanUsers')
  for await (const keys of scanKeys(client, `${globEscape(p)}m:{*}:user`)) {
    const hashes = await io(async () => await Promise.all(keys.map(async (k) => await client.hgetall(k))))
    yield hashes.flatMap((h) => { const u = decodeUser(h); return u === null ? [] : [u] })
  }
}
