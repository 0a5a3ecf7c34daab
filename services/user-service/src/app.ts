import { STATUS_CODES } from 'node:http'
import Fastify, { type FastifyError, type FastifyInstance, type RouteOptions } from 'fastify'
import fastifyMultipart from '@fastify/multipart'
import fastifyRedis from '@fastify/redis'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import verifierPlugin from '@authcenter/verifier/fastify'
import { createVerifier } from '@authcenter/verifier'
import { createRedisReplayCache } from '@authcenter/verifier/dpop'
import type { DpopReplayCache } from '@authcenter/verifier/dpop'
import type { InProcessFeed } from '@authcenter/verifier'
import type { Config } from './config.js'
import { lifecyclePlugin, metricsAccess, metricsPlugin, securityHeaders } from '@authcenter/service-kit'
import { INTERNAL_ERROR, MetricsUnauthorizedError, NotFoundError, StoreUnavailableError } from './errors.js'
import openapi from './openapi/plugin.js'
import { createServiceMetrics } from './metrics/metrics.js'
import { createDirectoryStorage } from './avatars/directory-storage.js'
import type { AvatarStorage } from './avatars/storage.js'
import { createMemoryProfileStore } from './profiles/memory-store.js'
import { createPostgresProfileStore } from './profiles/postgres-store.js'
import { createRedisProfileStore } from './profiles/redis-store.js'
import type { ProfileStore } from './profiles/store.js'
import { avatarRoutes } from './routes/avatars.js'
import { healthRoutes } from './routes/health.js'
import { userRoutes } from './routes/user.js'

// Embedding programs (the client SDK's tests, a combined server) build the config the way server.ts does.
export { loadConfig } from './config.js'

/** Optional parts a test (or an embedding program) can supply instead of the ones `config` selects. */
export interface BuildOptions {
  profiles?: ProfileStore
  avatars?: AvatarStorage
  /** Where logs go (default stdout). */
  logStream?: { write (msg: string): void }
  /**
   * An in-process revocation feed (the auth center's memory store, when both run in
   * one process) instead of the auth center's HTTP feed.
   */
  revocationSource?: InProcessFeed
  /** Called for every route as it is added (test/openapi/document.test.ts checks each one is documented). */
  onRoute?: (route: RouteOptions) => void
}

/** JSON bodies here are one short field; anything bigger is a mistake or an attack. */
const JSON_BODY_LIMIT = 4 * 1024

/** Bounds on Redis so an outage is a prompt 503 (STORE_UNAVAILABLE), never a hang. */
const REDIS_OPTIONS = { commandTimeout: 2000, maxRetriesPerRequest: 1, connectTimeout: 5000 } as const

/**
 * Builds the user service: profiles and avatars behind `@authcenter/verifier`.
 * Never listens; `server.ts` does.
 *
 * @example
 * const app = await build(loadConfig({ AUTH_JWKS_URI: 'http://127.0.0.1:4000/jwks.json' }))
 * await app.listen({ port: 0 })
 */
export async function build (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      // Tokens never reach the logs, whatever a serializer or a log line includes
      // (@fastify/multipart's trace line carries the request headers as busboyOptions.headers).
      redact: {
        paths: [
          'req.headers.authorization', 'req.headers.cookie',
          'headers.authorization', 'headers.cookie',
          '*.headers.authorization', '*.headers.cookie'
        ],
        censor: '[redacted]'
      },
      ...(options.logStream !== undefined ? { stream: options.logStream } : {})
    },
    bodyLimit: JSON_BODY_LIMIT,
    // additionalProperties: false must refuse, not silently strip; and no type coercion of bodies.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // An upload that stalls is dropped rather than holding a socket forever.
    requestTimeout: 120_000
  }).withTypeProvider<TypeBoxTypeProvider>()
  if (options.onRoute !== undefined) app.addHook('onRoute', options.onRoute)

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status < 500) {
      req.log.info({ code: err.code, message: err.message }, 'request refused')
      return reply.code(status).send(err)
    }
    req.log.error({ err }, 'request failed')
    if (err.code === 'STORE_UNAVAILABLE') return reply.code(503).header('retry-after', '1').send(err)
    // Internals (paths, driver messages) stay in the log.
    return reply.code(500).send({ statusCode: 500, code: INTERNAL_ERROR, error: STATUS_CODES[500], message: 'internal error' })
  })

  // The draining flag /readyz reads; connections closed once idle during a drain (service-kit's shutdown.ts).
  await app.register(lifecyclePlugin)
  await app.register(securityHeaders, { hsts: config.authIssuer.startsWith('https:'), notFound: NotFoundError })
  // Before every route: the document is collected from the routes as they are added.
  await app.register(openapi, config.publicUrl !== undefined ? { publicUrl: config.publicUrl } : {})
  // Times every route (a root onResponse hook); GET /metrics per METRICS_TOKEN / METRICS_PUBLIC.
  const metrics = createServiceMetrics()
  await app.register(metricsPlugin, { metrics, access: metricsAccess(config), unauthorized: MetricsUnauthorizedError })

  // With REDIS_URL, the service's own Redis holds the profiles and the DPoP proof replay
  // cache, so every replica refuses a proof any of them has already seen.
  let replay: DpopReplayCache | undefined
  if (config.redisUrl !== undefined) {
    await app.register(fastifyRedis, { url: config.redisUrl, ...REDIS_OPTIONS })
    // After start, connection errors are only logged: ioredis reconnects by itself,
    // and requests meanwhile fail fast with STORE_UNAVAILABLE.
    app.redis.on('error', (err: Error) => { app.log.warn({ err: err.message }, 'redis connection error') })
    const shared = createRedisReplayCache(app.redis, { prefix: 'user-service:dpop:' })
    replay = {
      async checkAndMark (key, expiresAtMs) {
        try {
          return await shared.checkAndMark(key, expiresAtMs)
        } catch {
          // Never skip the check: no Redis, no DPoP-bound request (503, retry).
          throw new StoreUnavailableError()
        }
      }
    }
  }

  // Built here rather than by the plugin, so the metrics can read its revocation state.
  const verifier = createVerifier({
    issuer: config.authIssuer,
    audience: config.authAudience,
    logger: app.log,
    metrics: metrics.hooks,
    ...(replay !== undefined ? { dpop: { replay } } : {}),
    ...(config.authJwksUri !== undefined ? { jwksUri: config.authJwksUri } : {}),
    // Revoked sessions are refused at once: the auth center's revocation feed (HTTP by default; Redis as an ACL user; or in process).
    revocation: {
      logger: app.log,
      ...(options.revocationSource !== undefined
        ? { source: options.revocationSource }
        : 'redisUrl' in config.revocation ? { redis: config.revocation.redisUrl } : { ...config.revocation })
    }
  })
  app.addHook('onClose', async () => { await verifier.close() })
  metrics.watch(verifier)
  await app.register(verifierPlugin, {
    verifier,
    realm: config.authAudience,
    // DPoP htu: this service's public URL, never the Host header (unset: the address it listens on).
    ...(config.publicUrl !== undefined ? { publicUrl: config.publicUrl } : {})
  })

  let profiles = options.profiles
  if (profiles === undefined) {
    if (config.databaseUrl !== undefined) {
      // DATABASE_URL: profiles in PostgreSQL (migrations applied here); REDIS_URL then only holds the DPoP replay cache.
      const postgres = await createPostgresProfileStore(config.databaseUrl)
      app.addHook('onClose', async () => { await postgres.close() })
      profiles = postgres
    } else if (config.redisUrl !== undefined) {
      profiles = createRedisProfileStore(app.redis)
    } else {
      app.log.warn('DATABASE_URL and REDIS_URL are unset: profiles are kept in memory and lost on restart (development only)')
      profiles = createMemoryProfileStore()
    }
  }
  const avatars = options.avatars ?? await createDirectoryStorage(config.avatarDir)

  await app.register(fastifyMultipart, { throwFileSizeLimit: true })
  await app.register(healthRoutes)
  await app.register(userRoutes, { profiles })
  await app.register(avatarRoutes, { profiles, avatars, maxBytes: config.avatarMaxBytes })

  return app
}
