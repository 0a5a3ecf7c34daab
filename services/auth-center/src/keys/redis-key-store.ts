import type { Redis } from 'ioredis'
import { isKeySet, type KeySet } from './key-set.js'
import type { KeyStore } from './key-store.js'

// Compare-and-set on the revision, in one step, so two rotations at once cannot both win.
const REPLACE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local rev = cjson.decode(cur).revision
  if tonumber(rev) ~= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1`

/** Keys shared by every auth-center replica through one Redis key. */
export function createRedisKeyStore (redis: Redis, key = 'ac:keys'): KeyStore {
  async function load (): Promise<KeySet | null> {
    const text = await redis.get(key)
    if (text === null) return null
    const parsed: unknown = JSON.parse(text)
    if (!isKeySet(parsed)) throw new Error(`Redis key ${key} is not a key set written by authcenter`)
    return parsed
  }
  return {
    kind: 'redis',
    load,
    async init (set) {
      await redis.set(key, JSON.stringify(set), 'NX')
      return (await load()) ?? set
    },
    async replace (expectedRevision, next) {
      const ok = await redis.eval(REPLACE, 1, key, String(expectedRevision), JSON.stringify(next))
      return ok === 1
    }
  }
}
