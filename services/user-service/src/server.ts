import { build } from './app.js'
import { loadConfig, type Config } from './config.js'
import { shutdown } from './shutdown.js'

let config: Config
try {
  config = loadConfig()
} catch (err) {
  console.error((err as Error).message)
  process.exit(1)
}

const app = await build(config).catch((err: unknown) => {
  console.error(`user-service failed to start: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})

let closing = false
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (closing) return
    closing = true
    app.log.info({ signal, delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: draining')
    // README "Graceful shutdown": /readyz 503, listener closed after SHUTDOWN_DELAY, requests in flight finish.
    shutdown(app, { delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs }).then((outcome) => {
      if (outcome === 'timeout') app.log.warn({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown: SHUTDOWN_TIMEOUT ran out, requests still in flight are cut')
      else app.log.info('shutdown: drained')
      process.exit(outcome === 'drained' ? 0 : 1)
    }, (err: unknown) => {
      app.log.error({ err }, 'error while shutting down')
      process.exit(1)
    })
  })
}

try {
  await app.listen({ host: config.host, port: config.port })
} catch (err) {
  app.log.error({ err }, 'could not listen')
  process.exit(1)
}
