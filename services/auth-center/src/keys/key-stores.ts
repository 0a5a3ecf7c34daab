import { resolve } from 'node:path'
import type { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { createFileKeyStore } from './file-key-store.js'
import { devKek, type KekRing } from './kek.js'
import type { KeyStore } from './key-store.js'
import { createRedisKeyStore } from './redis-key-store.js'
import { keySetCodec } from './sealed-key-set.js'

export interface KeyStores {
  /** Redis when replicas share keys, else the data directory. */
  store: KeyStore
  /** The data directory behind Redis, so keys survive Redis losing its data. */
  mirror?: KeyStore
  keks: KekRing
  /** Set when AUTH_KEK is unset and a development KEK from the data directory seals the keys. */
  devKekFile?: string
}

/**
 * The key stores of this configuration, sealing under AUTH_KEK (or, in development
 * without one, a KEK generated into the data directory). The auth center, keys:rotate
 * and kek:rotate all open the keys through here, so they agree on where and how.
 */
export async function keyStores (config: Pick<Config, 'dataDir' | 'kek' | 'kekPrevious'>, redis?: Redis): Promise<KeyStores> {
  const dataDir = resolve(config.dataDir)
  let devKekFile: string | undefined
  let current = config.kek
  if (current === undefined) {
    const dev = await devKek(dataDir)
    current = dev.kek
    devKekFile = dev.file
  }
  const keks: KekRing = { current, previous: config.kekPrevious }
  const codec = keySetCodec(keks)
  const file = createFileKeyStore(dataDir, codec)
  return {
    ...(redis === undefined ? { store: file } : { store: createRedisKeyStore(redis, codec), mirror: file }),
    keks,
    ...(devKekFile !== undefined ? { devKekFile } : {})
  }
}
