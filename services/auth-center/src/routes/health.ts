import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ShuttingDownError } from '../errors.js'
import { replies } from '../schemas.js'

const Status = Type.Object({ status: Type.String(), store: Type.Optional(Type.String()) })

/**
 * /healthz: the process is up. /readyz: it can serve, i.e. the store answers and no
 * shutdown has begun (503 SHUTTING_DOWN from the signal on, so a load balancer stops
 * sending new work before the listener closes: shutdown.ts).
 */
const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Which driver holds the state (memory, redis, postgres, postgres+redis): known without asking it.
  app.get('/healthz', { schema: { response: replies({ 200: Status }) } }, async () => ({ status: 'ok', store: app.deps.store.driver }))
  app.get('/readyz', { schema: { response: replies({ 200: Status }) } }, async () => {
    if (app.lifecycle.draining) throw new ShuttingDownError()
    await app.deps.store.ping()
    return { status: 'ok', store: app.deps.store.driver }
  })
}

export default healthRoutes
