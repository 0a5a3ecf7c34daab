import { build } from './app.js'
import { loadConfig, type Config } from './config.js'

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
  process.once(signal, () => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    app.close().then(() => process.exit(0), (err: unknown) => {
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
