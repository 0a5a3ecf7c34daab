// The test suites start their own redis-server and PostgreSQL (initdb + pg_ctl) on free
// ports. On a fresh Debian machine they may be missing: install them when we can
// (root + apt), else say how.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'

const redisBin = process.env.REDIS_SERVER_BIN ?? 'redis-server'
const missing = []
if (spawnSync(redisBin, ['--version'], { stdio: 'ignore' }).status !== 0) missing.push('redis-server')
if (!hasInitdb()) missing.push('postgresql')

if (missing.length > 0) {
  const canApt = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0
  if (!canApt) {
    console.error(`${missing.join(' and ')} not found: install ${missing.length > 1 ? 'them' : 'it'} (sudo apt-get install ${missing.join(' ')}), or set REDIS_SERVER_BIN / PG_BIN_DIR.`)
    process.exit(1)
  }
  console.error(`${missing.join(' and ')} not found: installing with apt-get`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env })
}

/** Where the testkit looks (packages/testkit/src/postgres-server.ts): PG_BIN_DIR, Debian's versioned dirs, PATH. */
function hasInitdb () {
  if (process.env.PG_BIN_DIR !== undefined) return existsSync(`${process.env.PG_BIN_DIR}/initdb`)
  const root = '/usr/lib/postgresql'
  if (existsSync(root) && readdirSync(root).some((v) => existsSync(`${root}/${v}/bin/initdb`))) return true
  return spawnSync('initdb', ['--version'], { stdio: 'ignore' }).status === 0
}
