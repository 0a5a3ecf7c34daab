import type { RedisClient } from '../store/redis/client.js'
import type { KeySet } from './key-set.js'
import type { KeyStore } from './key-store.js'
import type { KeySetCodec, SealedWith } from './sealed-key-set.js'

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

  async function read (): Promise<{ set: KeySet, sealedWith: SealedWith } | null> {
    const text = await redis.get(key)
    return text === null ? null : codec.decode(text, where)
  }

  async function replace (expectedRevision: number, next: KeySet): Promise<boolean> {
    const ok = await redis.eval(REPLACE, 1, key, String(expectedRevision), codec.encode(next))
    return ok === 1
  }

  return {
    kind: 'redis',
    where,
    async load () {
      const found = await read()
      if (found === null) return null
      // Written in clear by a version before sealing: seal it now rather than lose it.
      if (found.sealedWith === 'clear') await replace(found.set.revision, found.set)
      return found.set
    },
    async init (set) {
      await redis.set(key, codec.encode(set), 'NX')
      return (await this.load()) ?? set
    },
    replace,
    async copy (set) { await redis.set(key, codec.encode(set)) },
    async reseal () {
      // Retried when a rotation by another process lands in between (it changed the revision).
      for (let attempt = 0; attempt < 5; attempt++) {
        const found = await read()
        if (found === null) return null
        if (found.sealedWith === codec.keks.current.id || await replace(found.set.revision, found.set)) return found.sealedWith
      }
      throw new Error(`${where}: re-sealing kept conflicting with another writer`)
    }
  }
}
