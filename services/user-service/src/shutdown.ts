import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

declare module 'fastify' {
  interface FastifyInstance {
    /** Set once a shutdown began: /readyz answers 503 SHUTTING_DOWN from then on. */
    lifecycle: { draining: boolean }
  }
}

/**
 * The draining flag, and keep-alive connections closed once idle during a drain (Node's
 * server.close() closes only those idle when it is called; one answered later would hold
 * the exit for the whole keep-alive timeout). Same behaviour as the auth center's
 * (README "Graceful shutdown"), which also ends its revocation feed streams.
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
}, { name: 'user-service-lifecycle', fastify: '5.x' })

/**
 * On SIGTERM: /readyz 503 at once, the listener closes after `delayMs`, requests in flight
 * finish, then the verifier and Redis close. 'timeout' when `timeoutMs` (from the signal)
 * ran out first.
 */
export async function shutdown (app: FastifyInstance, opts: { delayMs: number, timeoutMs: number }): Promise<'drained' | 'timeout'> {
  app.lifecycle.draining = true
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => { resolve('timeout') }, opts.timeoutMs) })
  const drain = new Promise((resolve) => setTimeout(resolve, opts.delayMs)).then(async () => {
    await app.close()
    return 'drained' as const
  })
  try {
    return await Promise.race([drain, bound])
  } finally {
    clearTimeout(timer)
  }
}
