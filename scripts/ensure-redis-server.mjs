// The test suites start their own redis-server on a free port. On a fresh Debian
// machine it may be missing: install it when we can (root + apt), else say how.
import { execFileSync, spawnSync } from 'node:child_process'

const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server'
const found = spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0
if (!found) {
  const canApt = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0
  if (!canApt) {
    console.error(`redis-server not found: install it (sudo apt-get install redis-server) or set REDIS_SERVER_BIN.`)
    process.exit(1)
  }
  console.error('redis-server not found: installing it with apt-get')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'], { stdio: 'inherit', env })
}
