import { resolve } from 'node:path'
import type { Postgres } from '../store/postgres/pool.js'
import type { RedisClient } from '../store/redis/client.js'
import type { Config } from '../config.js'
import { createFileKeyStore } from './file-key-store.js'
import { DEV_KEK, legacyDevKek, type KekRing } from './kek.js'
import type { KeyStore } from './key-store.js'
import { createPostgresKeyStore } from './postgres-key-store.js'
import { createRedisKeyStore } from './redis-key-store.js'
import { keySetCodec } from './sealed-key-set.js'

export interface KeyStores {
  /** PostgreSQL (DATABASE_URL) or else Redis when replicas share keys, else the data directory. */
  store: KeyStore
  /** The data directory behind the shared store, so keys survive it losing its data. */
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
export async function keyStores (config: Pick<Config, 'dataDir' | 'kek' | 'kekPrevious'>, redis?: RedisClient, postgres?: Postgres): Promise<KeyStores> {
  const dataDir = resolve(config.dataDir)
  const devKek = config.kek === undefined
  const legacy = devKek ? await legacyDevKek(dataDir) : undefined
  const keks: KekRing = { current: config.kek ?? DEV_KEK, previous: legacy === undefined ? config.kekPrevious : [...config.kekPrevious, legacy] }
  const codec = keySetCodec(keks)
  const file = createFileKeyStore(dataDir, codec)
  return {
    // Keys are durable state: with both, PostgreSQL holds them (Redis keeps only hot state).
    ...(postgres !== undefined
      ? { store: createPostgresKeyStore(postgres, codec), mirror: file }
      : redis === undefined ? { store: file } : { store: createRedisKeyStore(redis, codec), mirror: file }),
    keks,
    devKek
  }
}
