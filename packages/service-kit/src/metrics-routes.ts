import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import type { CodedErrorConstructor } from './errors.js'
import { bearerMatches, type MetricsAccess } from './metrics-access.js'

/** What the plugin needs of a service's metrics (each keeps its own prom-client registry). */
export interface RequestMetrics {
  readonly registry: { readonly contentType: string, metrics: () => Promise<string> }
  /** One finished HTTP request. `route` is the route pattern, `'unmatched'` for 404s. */
  request: (method: string, route: string, status: number, seconds: number) => void
}

export interface MetricsPluginOptions {
  metrics: RequestMetrics
  access: MetricsAccess
  /** The service's METRICS_UNAUTHORIZED error (401). */
  unauthorized: CodedErrorConstructor
}

/**
 * Request rate and latency for every route (an onResponse hook on the root, so it sees
 * every route, 404s included), and GET /metrics in the Prometheus text format.
 */
const plugin: FastifyPluginAsync<MetricsPluginOptions> = async (app, { metrics, access, unauthorized }) => {
  // A callback hook, not an async one: no promise per request on every route (issue #17's refresh path).
  app.addHook('onResponse', (request, reply, done) => {
    try {
      // The pattern, never the raw URL: one series per route, whatever ids the paths carry.
      metrics.request(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
    } catch (err) {
      done(err as Error)
      return
    }
    done()
  })

  // Off: the route does not exist (404 NOT_FOUND).
  if (access.mode === 'off') return
  app.get('/metrics', async (request, reply) => {
    if (access.mode === 'token' && !bearerMatches(request.headers.authorization, access.token)) {
      reply.header('www-authenticate', 'Bearer realm="metrics"')
      throw new unauthorized()
    }
    reply.header('cache-control', 'no-store').type(metrics.registry.contentType)
    return await metrics.registry.metrics()
  })
}

export const metricsPlugin = fp(plugin, { name: 'service-kit-metrics', fastify: '5.x' })
