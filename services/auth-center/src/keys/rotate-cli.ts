import { ConfigError, loadConfig } from '../config.js'
import { createPostgres } from '../store/postgres/pool.js'
import { connectRedis } from '../store/redis-target.js'
import { KekError } from './kek.js'
import { KeyRing } from './key-ring.js'
import { keyStores } from './key-stores.js'

/**
 * `pnpm --filter @authcenter/auth-center keys:rotate`: retires the current signing key
 * (still published until the tokens it signed have expired) and starts a new one.
 * Running services pick it up within seconds, without a restart. Needs the same
 * AUTH_KEK as the services: the new key set is sealed under it.
 */
async function main (): Promise<void> {
  const config = loadConfig()
  // The keys are where the auth center keeps them: PostgreSQL when DATABASE_URL is set, else Redis (key-stores.ts).
  const postgres = config.databaseUrl === undefined ? undefined : createPostgres(config.databaseUrl, { max: 1 })
  const redis = config.redis === undefined || postgres !== undefined ? undefined : connectRedis(config.redis, { maxRetriesPerRequest: 1 })
  try {
    const { keks: _keks, devKek: _dev, ...stores } = await keyStores(config, redis, postgres)
    const ring = await KeyRing.open({ ...stores, alg: config.signingAlg, reloadIntervalMs: 0 })
    const before = ring.kid
    // The longest lifetime of a token this key may have signed.
    const kid = await ring.rotate(config.accessTtlMs)
    process.stdout.write(`rotated signing key: ${before} -> ${kid} (${config.signingAlg}); ${before} stays in the JWKS for ${Math.round(config.accessTtlMs / 1000)} s\n`)
  } finally {
    redis?.disconnect()
    await postgres?.close()
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`keys:rotate: ${err instanceof ConfigError || err instanceof KekError ? err.message : String(err)}\n`)
  process.exit(1)
})
