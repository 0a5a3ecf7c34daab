import { resolve } from 'node:path'
import type { RedisClient } from '../store/redis/client.js'
import type { Config } from '../config.js'
import { createFileKeyStore } from './file-key-store.js'
import { DEV_KEK, legacyDevKek, type KekRing } from './kek.js'
import type { KeyStore } from './key-store.js'
import { createRedisKeyStore } from './redis-key-store.js'
import { keySetCodec } from './sealed-key-set.js'

export interface KeyStores {
  /** Redis when replicas share keys, else the data directory. */
  store: KeyStore
  /** The data directory behind Redis, so keys survive Redis losing its data. */
  mirror?: KeyStore
  keks: KekRing
  /** True when AUTH_KEK is unset and the published development KEK seals the keys. */
  devKek: boolean
}

/**
 * The key stores of this configuration, sealing under AUTH_KEK (or, in development
 * without one, the published development KEK). The auth center, keys:rotate and
 * kek:rotate all open the keys through here, so they agree on where and how.
 */
export async function keyStores (config: Pick<Config, 'dataDir' | 'kek' | 'kekPrevious'>, redis?: RedisClient): Promise<KeyStores> {
  const dataDir = resolve(config.dataDir)
  const devKek = config.kek === undefined
  const legacy = devKek ? await legacyDevKek(dataDir) : undefined
  const keks: KekRing = { current: config.kek ?? DEV_KEK, previous: legacy === undefined ? config.kekPrevious : [...config.kekPrevious, legacy] }
  const codec = keySetCodec(keks)
  const file = createFileKeyStore(dataDir, codec)
  return {
    ...(redis === undefined ? { store: file } : { store: createRedisKeyStore(redis, codec), mirror: file }),
    keks,
    devKek
  }
}
