import { build } from './app.js'
import { loadConfig, type Config } from './config.js'
import { exitOnSignals } from '@authcenter/service-kit'

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

// README "Graceful shutdown": /readyz 503, listener closed after SHUTDOWN_DELAY, requests in flight finish.
exitOnSignals(app, { delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs })

try {
  await app.listen({ host: config.host, port: config.port })
} catch (err) {
  app.log.error({ err }, 'could not listen')
  process.exit(1)
}
