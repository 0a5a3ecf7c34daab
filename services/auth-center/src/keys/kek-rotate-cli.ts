import { ConfigError, loadConfig } from '../config.js'
import { createPostgres } from '../store/postgres/pool.js'
import { connectRedis } from '../store/redis-target.js'
import { KekError } from './kek.js'
import { keyStores } from './key-stores.js'

/**
 * `pnpm --filter @authcenter/auth-center kek:rotate`, run with the new KEK in AUTH_KEK
 * and the old one in AUTH_KEK_PREVIOUS: opens every sealed key set (PostgreSQL or Redis, and the data
 * directory) with whichever KEK sealed it and seals it again under AUTH_KEK. The keys
 * inside do not change, so every token already issued stays valid; once this has run,
 * the old KEK opens nothing and can be dropped from AUTH_KEK_PREVIOUS.
 */
async function main (): Promise<void> {
  const config = loadConfig()
  if (config.kek === undefined) throw new KekError('AUTH_KEK: set it to the new KEK (and AUTH_KEK_PREVIOUS to the old one) to re-seal the keys under it')
  // The keys are where the auth center keeps them: PostgreSQL when DATABASE_URL is set, else Redis (key-stores.ts).
  const postgres = config.databaseUrl === undefined ? undefined : createPostgres(config.databaseUrl, { max: 1 })
  const redis = config.redis === undefined || postgres !== undefined ? undefined : connectRedis(config.redis, { maxRetriesPerRequest: 1 })
  try {
    const { store, mirror, keks } = await keyStores(config, redis, postgres)
    let found = 0
    for (const s of mirror === undefined ? [store] : [store, mirror]) {
      const before = await s.reseal()
      if (before === null) continue
      found++
      process.stdout.write(before === keks.current.id
        ? `${s.where}: already sealed with KEK ${before}\n`
        : `${s.where}: re-sealed, KEK ${before} -> ${keks.current.id}\n`)
    }
    if (found === 0) process.stdout.write('no stored keys to re-seal: the auth center will create them sealed with AUTH_KEK\n')
  } finally {
    redis?.disconnect()
    await postgres?.close()
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`kek:rotate: ${err instanceof ConfigError || err instanceof KekError ? err.message : String(err)}\n`)
  process.exit(1)
})
