import { loadConfig } from '../config.js'
import { copyRedisToPostgres, type CopyCount } from './copy.js'
import { migrate } from './postgres/migrate.js'
import { createPostgres } from './postgres/pool.js'
import { connectRedis } from './redis-target.js'

/**
 * `pnpm --filter @authcenter/auth-center store:copy`: for a deployment that started on
 * Redis, applies the migrations to DATABASE_URL and copies users, clients, consents and
 * the key set from the Redis store (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS)
 * into it. Idempotent: PostgreSQL's rows win, a second run copies 0.
 */
async function main (): Promise<void> {
  const config = loadConfig()
  if (config.redis === undefined) throw new Error('REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS): set it to the Redis store to copy from')
  if (config.databaseUrl === undefined) throw new Error('DATABASE_URL: set it to postgres://user:password@host:port/database')
  const { version } = await migrate(config.databaseUrl)
  process.stdout.write(`schema at version ${version}\n`)
  const redis = connectRedis(config.redis, { lazyConnect: false, maxRetriesPerRequest: 1 })
  const pg = createPostgres(config.databaseUrl)
  try {
    const report = await copyRedisToPostgres(redis, pg)
    const line = (name: string, c: CopyCount): string => `${name}: copied ${c.copied}, already there ${c.alreadyThere}\n`
    process.stdout.write(line('users', report.users) + line('clients', report.clients) + line('consents', report.consents) + line('keys', report.keys))
    for (const c of report.conflicts) process.stdout.write(`user ${c.userId} skipped: PostgreSQL has user ${c.existingUserId} under the same mobile\n`)
  } finally {
    await pg.close()
    redis.disconnect()
  }
}

main().catch((err: unknown) => {
  // Never the URLs: they may carry passwords.
  process.stderr.write(`store:copy: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
