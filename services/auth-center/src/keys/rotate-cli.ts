import { resolve } from 'node:path'
import { Redis } from 'ioredis'
import { ConfigError, loadConfig } from '../config.js'
import { createFileKeyStore } from './file-key-store.js'
import { KeyRing } from './key-ring.js'
import { createRedisKeyStore } from './redis-key-store.js'

/**
 * `pnpm --filter @authcenter/auth-center keys:rotate`: retires the current signing key
 * (still published until the tokens it signed have expired) and starts a new one.
 * Running services pick it up within seconds, without a restart.
 */
async function main (): Promise<void> {
  const config = loadConfig()
  const fileKeys = createFileKeyStore(resolve(config.dataDir))
  const redis = config.redisUrl === undefined ? undefined : new Redis(config.redisUrl, { maxRetriesPerRequest: 1 })
  try {
    const ring = await KeyRing.open(redis === undefined
      ? { store: fileKeys, alg: config.signingAlg, reloadIntervalMs: 0 }
      : { store: createRedisKeyStore(redis), mirror: fileKeys, alg: config.signingAlg, reloadIntervalMs: 0 })
    const before = ring.kid
    // The longest lifetime of a token this key may have signed.
    const kid = await ring.rotate(config.accessTtlMs)
    process.stdout.write(`rotated signing key: ${before} -> ${kid} (${config.signingAlg}); ${before} stays in the JWKS for ${Math.round(config.accessTtlMs / 1000)} s\n`)
  } finally {
    redis?.disconnect()
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`keys:rotate: ${err instanceof ConfigError ? err.message : String(err)}\n`)
  process.exit(1)
})
