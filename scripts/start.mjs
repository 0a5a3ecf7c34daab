// `pnpm start`: the auth center and the user service together, for development.
//
// Both run from their TypeScript sources through tsx, and import @authcenter/verifier from its
// sources too (the `@authcenter/source` export condition), so a fresh clone answers without
// waiting for tsc; `pnpm build` and `pnpm test` still type-check everything with tsc, and
// `pnpm --filter <service> start` still runs the built dist/ (what production runs).
//
// PORT cannot mean two ports at once, so each service gets its own variable here:
//   AUTH_CENTER_PORT (default 4000), USER_SERVICE_PORT (default 4001)
// and the user service is pointed at the auth center's port through AUTH_ISSUER
// (`http://localhost:<AUTH_CENTER_PORT>` unless AUTH_ISSUER is set).
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

function port (name, fallback) {
  const value = process.env[name] || fallback
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    console.error(`${name}: must be a port number 1-65535 (got ${JSON.stringify(value)})`)
    process.exit(1)
  }
  return value
}

const authPort = port('AUTH_CENTER_PORT', '4000')
const usersPort = port('USER_SERVICE_PORT', '4001')
if (authPort === usersPort) {
  console.error(`AUTH_CENTER_PORT and USER_SERVICE_PORT must differ (both ${authPort})`)
  process.exit(1)
}
if (process.env.PORT) {
  console.error(`pnpm start: PORT=${process.env.PORT} is ignored (it would give both services one port); use AUTH_CENTER_PORT and USER_SERVICE_PORT`)
}
const issuer = process.env.AUTH_ISSUER || `http://localhost:${authPort}`

const { PORT: _ignored, AUTH_CENTER_PORT: _a, USER_SERVICE_PORT: _u, ...shared } = process.env
const services = [
  { name: 'auth-center', dir: 'services/auth-center', env: { ...shared, PORT: authPort, AUTH_ISSUER: issuer } },
  { name: 'user-service', dir: 'services/user-service', env: { ...shared, PORT: usersPort, AUTH_ISSUER: issuer } }
]

const children = new Map()
let exitCode

function stopAll (code) {
  exitCode ??= code
  for (const child of children.values()) child.kill('SIGTERM')
}

for (const service of services) {
  // --import tsx resolves from the service's directory, where tsx is a dev dependency.
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@authcenter/source', 'src/server.ts'], {
    cwd: join(root, service.dir),
    env: service.env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  children.set(service.name, child)
  for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
    createInterface({ input: from }).on('line', (line) => to.write(`${service.name} | ${line}\n`))
  }
  child.on('exit', (code, signal) => {
    children.delete(service.name)
    // One service gone (a port in use, a bad variable) stops the other: half a system helps nobody.
    if (exitCode === undefined) {
      console.error(`pnpm start: ${service.name} exited (${signal ?? `code ${code}`}); stopping the other service`)
      stopAll(code === 0 || code === null ? 1 : code)
    }
    if (children.size === 0) process.exit(exitCode)
  })
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => stopAll(0))
}
