import type { FastifyBaseLogger } from 'fastify'
import type { ClientRegistry } from './clients/registry.js'
import type { Config } from './config.js'
import type { HashSlots } from './auth/hash-slots.js'
import type { KeyRing } from './keys/key-ring.js'
import type { AuthMetrics } from './metrics/metrics.js'
import type { SmsSender } from './sms/sender.js'
import type { Store } from './store/store.js'

/** What domain code needs from the app: passed explicitly so it can be used outside routes. */
export interface Deps {
  config: Readonly<Config>
  store: Store
  clients: ClientRegistry
  keys: KeyRing
  sms: SmsSender
  /** The bound on concurrent password hashes (auth/hash-slots.ts): one auth center per process, so process-wide. */
  passwordSlots: HashSlots
  log: FastifyBaseLogger
  /** Prometheus counters (metrics/metrics.ts); recorded whether or not GET /metrics is on. */
  metrics: AuthMetrics
  now: () => number
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: Deps
  }
}
