import { build } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { KekError } from './keys/kek.js'
import { exitOnSignals } from '@authcenter/service-kit'

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
// A graceful shutdown within SHUTDOWN_TIMEOUT; a second signal does not restart it.
exitOnSignals(app, { delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs })
await app.listen({ host: config.host, port: config.port })
