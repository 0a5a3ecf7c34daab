import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { replies } from '../schemas.js'

const Status = Type.Object({ status: Type.String(), store: Type.Optional(Type.String()) })

/** /healthz: the process is up. /readyz: it can serve, i.e. the store answers. */
const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', { schema: { response: replies({ 200: Status }) } }, async () => ({ status: 'ok' }))
  app.get('/readyz', { schema: { response: replies({ 200: Status }) } }, async () => {
    await app.deps.store.ping()
    return { status: 'ok', store: app.deps.store.driver }
  })
}

export default healthRoutes
