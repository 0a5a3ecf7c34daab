import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

declare module 'fastify' {
  interface FastifyInstance {
    /** Set once a shutdown began: /readyz answers 503 SHUTTING_DOWN from then on. */
    lifecycle: { draining: boolean }
  }
}

export interface ShutdownOptions {
  /** SHUTDOWN_DELAY: time between /readyz turning 503 and the listener closing (load balancers notice meanwhile). */
  delayMs: number
  /** SHUTDOWN_TIMEOUT: the whole shutdown's bound, from the signal to the exit. */
  timeoutMs: number
}

/**
 * Registered first by each service's app.ts: the draining flag, and keep-alive
 * connections closed as soon as they are idle during a drain (Node's server.close()
 * closes only those idle when it is called; one that finishes its request later would
 * hold the exit for the whole keep-alive timeout).
 */
export const lifecyclePlugin = fp(async (app) => {
  const state = { draining: false }
  app.decorate('lifecycle', state)
  // Callback hooks, not async ones: no promise per request on the hot path.
  app.addHook('onRequest', (_request, reply, done) => {
    if (state.draining) reply.header('connection', 'close')
    done()
  })
  app.addHook('onResponse', (_request, _reply, done) => {
    if (state.draining) setImmediate(() => { app.server.closeIdleConnections() })
    done()
  })
}, { name: 'service-kit-lifecycle', fastify: '5.x' })

/**
 * A graceful shutdown (README "Graceful shutdown"): /readyz turns 503 at once; after
 * `delayMs` the listener closes (new connections are refused, so a proxy moves on to
 * another replica), requests in flight finish, then what the service closes in its
 * onClose/preClose hooks (the auth center ends its revocation feed streams in preClose,
 * before a reader's reconnect can arrive). Resolves 'drained', or 'timeout' when
 * `timeoutMs` ran out first (the caller exits anyway: a bound is a bound).
 */
export async function shutdown (app: FastifyInstance, opts: ShutdownOptions): Promise<'drained' | 'timeout'> {
  app.lifecycle.draining = true
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => { resolve('timeout') }, opts.timeoutMs) })
  const drain = (async (): Promise<'drained'> => {
    await new Promise((resolve) => setTimeout(resolve, opts.delayMs))
    await app.close()
    return 'drained'
  })()
  try {
    return await Promise.race([drain, bound])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * For server.ts: SIGINT and SIGTERM start one graceful shutdown (a second signal does not
 * restart it), then exit 0 when drained, 1 when SHUTDOWN_TIMEOUT ran out or it failed.
 */
export function exitOnSignals (app: FastifyInstance, opts: ShutdownOptions): void {
  let stopping = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return
      stopping = true
      app.log.info({ signal, delayMs: opts.delayMs, timeoutMs: opts.timeoutMs }, 'shutting down: draining')
      shutdown(app, opts).then((outcome) => {
        if (outcome === 'timeout') app.log.warn({ timeoutMs: opts.timeoutMs }, 'shutdown: SHUTDOWN_TIMEOUT ran out, requests still in flight are cut')
        else app.log.info('shutdown: drained')
        process.exit(outcome === 'drained' ? 0 : 1)
      }, (err: unknown) => {
        app.log.error({ err }, 'shutdown failed')
        process.exit(1)
      })
    })
  }
}
