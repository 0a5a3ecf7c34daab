import { migrate, MigrationError } from './migrate.js'

/**
 * `pnpm --filter @authcenter/auth-center db:migrate`: applies the pending migrations to
 * DATABASE_URL and says which. The auth center applies them at start too; this is for
 * running them ahead of a deploy, or to see that the schema is current.
 */
async function main (): Promise<void> {
  const url = process.env.DATABASE_URL
  if (url === undefined || !/^postgres(ql)?:\/\//.test(url)) throw new MigrationError('DATABASE_URL: set it to postgres://user:password@host:port/database')
  const { applied, version } = await migrate(url)
  for (const m of applied) process.stdout.write(`applied ${String(m.version).padStart(4, '0')}_${m.name}\n`)
  process.stdout.write(applied.length === 0 ? `schema current at version ${version}\n` : `schema now at version ${version}\n`)
}

main().catch((err: unknown) => {
  // Never the URL: it may carry a password.
  process.stderr.write(`db:migrate: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
