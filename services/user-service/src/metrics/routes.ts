import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { MetricsUnauthorizedError } from '../errors.js'
import { bearerMatches, type MetricsAccess } from './access.js'
import type { ServiceMetrics } from './metrics.js'

export interface MetricsPluginOptions {
  metrics: ServiceMetrics
  access: MetricsAccess
}

/** Request rate and latency for every route (a root onResponse hook), and GET /metrics. */
const metricsPlugin: FastifyPluginAsync<MetricsPluginOptions> = async (app, { metrics, access }) => {
  app.addHook('onResponse', async (request, reply) => {
    // The pattern, never the raw URL: one series per route, whatever names the paths carry.
    metrics.request(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
  })

  // Off: the route does not exist (404 NOT_FOUND).
  if (access.mode === 'off') return
  app.get('/metrics', async (request, reply) => {
    if (access.mode === 'token' && !bearerMatches(request.headers.authorization, access.token)) {
      reply.header('www-authenticate', 'Bearer realm="metrics"')
      throw new MetricsUnauthorizedError()
    }
    reply.header('cache-control', 'no-store').type(metrics.registry.contentType)
    return await metrics.registry.metrics()
  })
}

export default fp(metricsPlugin, { name: 'user-service-metrics', fastify: '5.x' })
