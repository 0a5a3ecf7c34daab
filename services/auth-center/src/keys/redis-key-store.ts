import type { RedisClient } from '../store/redis/client.js'
import { keyStoreOver, type KeyStore } from './key-store.js'
import type { KeySetCodec } from './sealed-key-set.js'

// Compare-and-set on the revision, in one step, so two rotations at once cannot both win.
// The revision is the one field of the stored document left readable (sealed-key-set.ts).
const REPLACE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local rev = cjson.decode(cur).revision
  if tonumber(rev) ~= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1`

/** Keys shared by every auth-center replica through one Redis key, sealed under the KEK. */
export function createRedisKeyStore (redis: RedisClient, codec: KeySetCodec, key = 'ac:keys'): KeyStore {
  const where = `Redis key ${key}`
  return keyStoreOver({
    kind: 'redis',
    where,
    codec,
    async read () {
      const text = await redis.get(key)
      return text === null ? null : codec.decode(text, where)
    },
    async insertIfAbsent (set) { await redis.set(key, codec.encode(set), 'NX') },
    async replace (expectedRevision, next) {
      const ok = await redis.eval(REPLACE, 1, key, String(expectedRevision), codec.encode(next))
      return ok === 1
    },
    async write (set) { await redis.set(key, codec.encode(set)) }
  })
}
