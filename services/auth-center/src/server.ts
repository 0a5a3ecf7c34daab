import { build } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { KekError } from './keys/kek.js'
import { shutdown } from './shutdown.js'

let config
try {
  config = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`auth-center: ${err.message}\n`)
    process.exit(1)
  }
  throw err
}

const app = await build(config).catch((err: unknown) => {
  // Stored keys that AUTH_KEK does not open: one line naming the variable, never new keys.
  // A bad clients file (read in build): one line naming the client and the field.
  if (err instanceof KekError || err instanceof ConfigError) {
    process.stderr.write(`auth-center: ${err.message}\n`)
    process.exit(1)
  }
  throw err
})
// A graceful shutdown within SHUTDOWN_TIMEOUT (shutdown.ts); a second signal does not restart it.
let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    app.log.info({ signal, delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: draining')
    shutdown(app, { delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs }).then((outcome) => {
      if (outcome === 'timeout') app.log.warn({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown: SHUTDOWN_TIMEOUT ran out, requests still in flight are cut')
      else app.log.info('shutdown: drained')
      process.exit(outcome === 'drained' ? 0 : 1)
    }, (err: unknown) => {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  })
}
await app.listen({ host: config.host, port: config.port })
